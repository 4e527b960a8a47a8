// Package settings defines what a device's settings are: the one list of
// files the setup assistant, sysconf, netcfg and onboard write for the
// installed system, where that set lives on ONRAMP-DATA, and how it is
// saved there from a running root and laid back into a root at boot.
//
// The installer migrates exactly this set (and nothing else) when it
// reinstalls a device; the installed system keeps it in DATA/settings/
// under the same absolute paths (DATA/settings/etc/locale.conf for
// /etc/locale.conf). It is not a general backup tool: files outside the set
// are never saved, laid back or migrated.
package settings

import (
	"path"
	"strings"
)

// Dir is the directory of ONRAMP-DATA that holds the set, each member under
// its absolute path: DATA/settings/etc/locale.conf is /etc/locale.conf.
const Dir = "settings"

// LicensesDir is the directory of ONRAMP-DATA that holds the device's
// licenses. They are not part of Dir: the installer carries them with its
// own choice ("Migrate licenses"), and they are read from DATA directly.
const LicensesDir = "licenses"

// Kind says how much of the file system an Entry covers.
type Kind int

// The kinds of entries.
const (
	// Single is one regular file or symbolic link.
	Single Kind = iota
	// Tree is a directory and everything below it (directories, regular
	// files, symbolic links).
	Tree
	// Glob is the regular files and links of a directory whose names match
	// a path.Match pattern; the directory itself is not a member.
	Glob
)

// Entry is one member of the set.
type Entry struct {
	// Path is the absolute path on the installed system; for a Glob the
	// last element is the pattern.
	Path string
	Kind Kind
	// Writer says who writes it, for people reading the list.
	Writer string
}

// Set is the device's settings. A test runs the real writers (the setup
// assistant's unattended run for every kind of network and onboarding, and
// netcfg's writers) into an empty root and holds that everything they
// write for the installed system is in the set, and that the set names
// nothing they do not write.
//
// Left out on purpose: /etc/resolv.conf (the static DNS servers are in the
// .network file, from which systemd-networkd and resolved make it; a copy
// would override resolved after a reinstall, and the one written while
// setting up is the live network's); the scripts Debian's wpasupplicant
// ships in /etc/wpa_supplicant (hence *.conf: a settings copy of a script
// would shadow a newer base system's).
var Set = []Entry{
	{"/etc/locale.conf", Single, "sysconf.WriteLocale (language)"},
	{"/etc/vconsole.conf", Single, "sysconf.WriteKeyboard (console keymap)"},
	{"/etc/X11/xorg.conf.d/00-keyboard.conf", Single, "sysconf.WriteKeyboard (X11 layout)"},
	{"/etc/localtime", Single, "sysconf.WriteTimezone (symbolic link into /usr/share/zoneinfo)"},
	{"/etc/adjtime", Single, "sysconf.WriteAdjtime (hardware clock in UTC)"},
	{"/etc/hostname", Single, "sysconf.WriteHostname"},
	{"/etc/systemd/network", Tree, "netcfg.WriteWired, netcfg.WriteWLAN (50-onramp-IFACE.network)"},
	{"/etc/wpa_supplicant/*.conf", Glob, "netcfg.WriteWLAN (wpa_supplicant-IFACE.conf, 0600), netcfg.WriteWired with 802.1X (wpa_supplicant-wired-IFACE.conf, 0600)"},
	{"/etc/onramp", Tree, "onboard (ums/: device.key 0600, device.crt, ca.crt, server.json), netcfg.WriteModem (network/modem.json, 0600), netcfg.WriteWired with 802.1X (network/8021x/IFACE/: certificates and key, 0600), proxy.Write (proxy.env, 0600 with a password)"},
	{"/var/lib/onramp/setup.done", Single, "the setup assistant, when it completes"},
	{"/var/lib/onramp/setup-state.json", Single, "the setup assistant's resumable progress (no secrets)"},
	{"/var/lib/onramp/eula-accepted.json", Single, "the EULA acceptance record"},
}

// Rel is the entry's path relative to a root: "etc/locale.conf".
func (e Entry) Rel() string { return strings.TrimPrefix(e.Path, "/") }

// Source is the path (relative to a root) to read for the entry: the file
// or the tree itself, or a Glob's directory.
func (e Entry) Source() string {
	if e.Kind == Glob {
		return path.Dir(e.Rel())
	}
	return e.Rel()
}

// Covers reports whether rel (slash-separated, relative to a root:
// "etc/onramp/ums/device.key") is a member of the entry; dir says whether
// it is a directory, which only a Tree holds. A writer's temporary file is
// never a member.
func (e Entry) Covers(rel string, dir bool) bool {
	if Transient(path.Base(rel)) {
		return false
	}
	p := e.Rel()
	switch e.Kind {
	case Single:
		return rel == p && !dir
	case Tree:
		return rel == p && dir || strings.HasPrefix(rel, p+"/")
	case Glob:
		ok, _ := path.Match(path.Base(p), path.Base(rel))
		return ok && !dir && path.Dir(rel) == path.Dir(p)
	}
	return false
}

// Lookup returns the entry of the set that rel is a member of.
func Lookup(rel string, dir bool) (Entry, bool) {
	for _, e := range Set {
		if e.Covers(rel, dir) {
			return e, true
		}
	}
	return Entry{}, false
}

// Member reports whether rel is a member of the set.
func Member(rel string, dir bool) bool {
	_, ok := Lookup(rel, dir)
	return ok
}

// Transient reports whether a file name is a temporary file of an atomic
// write: internal/atomicfile's ".NAME.tmp-*", onboard's ".write-test-*",
// Load's own ".NAME.onramp-settings". A save that runs while a setting is
// being written must not keep the half-written copy.
func Transient(name string) bool {
	return strings.HasPrefix(name, ".") && (strings.Contains(name, ".tmp-") ||
		strings.HasPrefix(name, ".write-test-") || strings.HasSuffix(name, ".onramp-settings"))
}
