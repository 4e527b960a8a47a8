// Package sysconf holds the system settings a first boot decides and the
// standard files that keep them, always under a root directory (like
// systemd-firstboot --root): the display languages and /etc/locale.conf,
// keyboard layouts from xkeyboard-config and /etc/vconsole.conf plus the X11
// keyboard file, time zones from tzdata and /etc/localtime, the clock and
// /etc/adjtime, the hostname, os-release, the EULA texts and their
// acceptance record, and the setup assistant's resumable state.
//
// Every file is replaced atomically (internal/atomicfile). Effects on the
// running system (console keymap, system clock, RTC) are separate types a
// caller chooses to use, so an offline root or a demo never touches the
// machine. The package knows nothing about screens.
package sysconf
