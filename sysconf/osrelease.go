package sysconf

import (
	"bufio"
	"bytes"
	"strconv"
	"strings"
)

// OSRelease is what the assistant shows of /etc/os-release.
type OSRelease struct {
	Name       string // NAME
	Version    string // VERSION
	VersionID  string // VERSION_ID
	PrettyName string // PRETTY_NAME
}

// Title is how screens name the system: the pretty name, else the name and
// version, else a neutral default.
func (o OSRelease) Title() string {
	switch {
	case o.PrettyName != "":
		return o.PrettyName
	case o.Name != "" && o.VersionID != "":
		return o.Name + " " + o.VersionID
	case o.Name != "":
		return o.Name
	}
	return "Linux"
}

// ParseOSRelease reads os-release(5) content: KEY=value lines, values
// optionally quoted with shell quoting.
func ParseOSRelease(data []byte) OSRelease {
	var o OSRelease
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		k, v, ok := strings.Cut(line, "=")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		if u, err := strconv.Unquote(v); err == nil && strings.HasPrefix(v, `"`) {
			v = u
		} else {
			v = strings.Trim(v, `'"`)
		}
		switch k {
		case "NAME":
			o.Name = v
		case "VERSION":
			o.Version = v
		case "VERSION_ID":
			o.VersionID = v
		case "PRETTY_NAME":
			o.PrettyName = v
		}
	}
	return o
}

// OSRelease reads ROOT/etc/os-release, falling back to
// ROOT/usr/lib/os-release; the zero value when neither exists.
func (r Root) OSRelease() OSRelease {
	for _, p := range []string{"/etc/os-release", "/usr/lib/os-release"} {
		if data, err := r.read(p); err == nil {
			return ParseOSRelease(data)
		}
	}
	return OSRelease{}
}
