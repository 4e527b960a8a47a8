// Package grubcfg writes the GRUB configurations osc generates: the
// installer medium's boot menu and the installed system's slot entry,
// read by Debian's signed GRUB (UEFI, Secure Boot) and by GRUB's i386-pc
// core.img (legacy BIOS). Both show the menu on the screen and on the
// first serial port.
package grubcfg

import (
	"fmt"
	"strings"
)

// EFIConfig is where Debian's signed GRUB (grubx64.efi, which shim starts
// from the same directory as EFI/BOOT/BOOTX64.EFI) reads its configuration
// on the volume it was loaded from: the prefix built into the signed image
// is /EFI/debian, and a signed GRUB loads no configuration from elsewhere
// without one there.
const EFIConfig = "EFI/debian/grub.cfg"

// Entry is one menu entry: the kernel and initrd paths on GRUB's root
// device (the volume GRUB's configuration is on) and the command line.
type Entry struct {
	ID, Title      string
	Kernel, Initrd string
	Options        string
}

// Menu is a grub.cfg with the entries, the first the default, shown for
// timeout seconds on the screen and the first serial port (115200 baud).
func Menu(timeout int, entries []Entry) []byte {
	var b strings.Builder
	b.WriteString("# Written by osc.\n")
	b.WriteString("serial --unit=0 --speed=115200\nterminal_input console serial\nterminal_output console serial\n")
	fmt.Fprintf(&b, "set default=0\nset timeout=%d\n", timeout)
	for _, e := range entries {
		fmt.Fprintf(&b, "\nmenuentry '%s' --id '%s' {\n\tlinux %s %s\n\tinitrd %s\n}\n",
			Quote(e.Title), Quote(e.ID), e.Kernel, e.Options, e.Initrd)
	}
	return []byte(b.String())
}

// Quote makes s safe inside GRUB's single quotes.
func Quote(s string) string { return strings.ReplaceAll(s, "'", `'\''`) }
