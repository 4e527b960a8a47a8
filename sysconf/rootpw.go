package sysconf

import (
	"errors"
	"fmt"
	"strings"
)

// RootPasswordPath holds root's password as a crypt(3) hash (0600), one of
// the device's settings: the installed system sets it at every boot
// (onramp-root-password.service), and it opens the rescue consoles once
// the setup is done.
const RootPasswordPath = "/etc/onramp/root-password"

// CheckCryptHash accepts the crypt(3) hashes login(1) on the base system
// verifies and that are worth using: yescrypt ($y$, Debian's default, from
// `mkpasswd -m yescrypt`), SHA-512 ($6$) and SHA-256 ($5$) crypt. It never
// quotes the hash.
func CheckCryptHash(h string) error {
	if len(h) > 512 {
		return errors.New("longer than 512 characters: give a crypt(3) hash such as mkpasswd -m yescrypt prints")
	}
	var prefix string
	for _, p := range []string{"$y$", "$6$", "$5$"} {
		if strings.HasPrefix(h, p) {
			prefix = p
		}
	}
	if prefix == "" {
		return errors.New("not a yescrypt ($y$), SHA-512 ($6$) or SHA-256 ($5$) crypt hash: give the output of mkpasswd -m yescrypt, never the password")
	}
	parts := strings.Split(h[1:], "$")
	if len(parts) < 3 || parts[len(parts)-1] == "" || parts[len(parts)-2] == "" {
		return fmt.Errorf("a %s hash needs its settings, salt and hash fields separated by $", prefix)
	}
	for _, c := range h {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("$./=,-", c)) {
			return errors.New("holds a character a crypt hash does not (allowed: letters, digits and $ . / = , -)")
		}
	}
	return nil
}

// WriteRootPassword saves root's password hash (checked with
// CheckCryptHash) at RootPasswordPath, readable by root only.
func (r Root) WriteRootPassword(hash string) error {
	if err := CheckCryptHash(hash); err != nil {
		return fmt.Errorf("root password: %w", err)
	}
	return r.write(RootPasswordPath, []byte(hash+"\n"), 0o600)
}
