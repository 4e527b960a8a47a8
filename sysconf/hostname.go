package sysconf

import (
	"errors"
	"strings"
)

// ValidHostname checks a hostname as one DNS label or a dotted name of
// labels (letters, digits, hyphens; no hyphen at either end; each label at
// most 63 and the whole at most 253 characters).
func ValidHostname(name string) error {
	if name == "" {
		return errors.New("the hostname is empty")
	}
	if len(name) > 253 {
		return errors.New("the hostname is longer than 253 characters")
	}
	for _, label := range strings.Split(name, ".") {
		if label == "" || len(label) > 63 {
			return errors.New("each part of the hostname must have 1 to 63 characters")
		}
		if label[0] == '-' || label[len(label)-1] == '-' {
			return errors.New("a part of the hostname starts or ends with a hyphen")
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return errors.New("the hostname may hold only letters, digits, hyphens and dots")
			}
		}
	}
	return nil
}

// WriteHostname writes /etc/hostname.
func (r Root) WriteHostname(name string) error {
	if err := ValidHostname(name); err != nil {
		return err
	}
	return r.write("/etc/hostname", []byte(name+"\n"), 0o644)
}

// Hostname reads /etc/hostname; "" when there is none.
func (r Root) Hostname() string {
	data, err := r.read("/etc/hostname")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(data))
}
