package medium

import (
	"fmt"
	"strings"

	"github.com/onramp-os/onramp/internal/grubcfg"
)

// Paths of the kernel and initrd, the same in the EFI image (where GRUB
// reads them) and on the ISO 9660 side (where ISOLINUX does).
const (
	kernelPath = "/onramp/vmlinuz"
	initrdPath = "/onramp/initrd.img"
)

// baseOptions start every installer command line: the init of the medium
// opens the installer on tty1 and on the serial console.
const baseOptions = "osc.mode=install console=tty0 " + serialConsole

const serialConsole = "console=ttyS0,115200"

// bootEntry is one entry of the boot menu; the first is the default.
type bootEntry struct {
	id, title, options string
}

// menu is the boot menu of both boot loaders (DESIGN.md "Installer medium").
// Failsafe leaves ACPI on: the unattended installer powers off through it.
var menu = []bootEntry{
	{"standard", "Standard Installation + Recovery", "quiet"},
	{"verbose", "Verbose Installation + Recovery", "loglevel=7 osc.verbose=1"},
	{"failsafe", "Failsafe Installation + Recovery", "nomodeset noapic osc.failsafe=1"},
}

func (e bootEntry) cmdline() string { return baseOptions + " " + e.options }

// menuTimeout is how long both menus wait for a choice, in seconds.
const menuTimeout = 5

// grubMenu is the EFI image's grub.cfg (grubcfg.EFIConfig): the menu for
// Debian's signed GRUB, which shim starts.
func grubMenu() []byte {
	entries := make([]grubcfg.Entry, len(menu))
	for i, e := range menu {
		entries[i] = grubcfg.Entry{ID: e.id, Title: e.title, Kernel: kernelPath, Initrd: initrdPath, Options: e.cmdline()}
	}
	return grubcfg.Menu(menuTimeout, entries)
}

// isolinuxConfig is isolinux/isolinux.cfg: the same menu, on the screen and
// the first serial port, and "Memory Test" when memtest is set.
func isolinuxConfig(title string, memtest bool) []byte {
	var b strings.Builder
	// SERIAL must come first; TIMEOUT is in 1/10 s.
	fmt.Fprintf(&b, "SERIAL 0 115200\nUI menu.c32\nPROMPT 0\nTIMEOUT %d\nDEFAULT %s\nMENU TITLE %s\n", menuTimeout*10, menu[0].id, title)
	for _, e := range menu {
		fmt.Fprintf(&b, "\nLABEL %s\n  MENU LABEL %s\n  LINUX %s\n  INITRD %s\n  APPEND %s\n", e.id, e.title, kernelPath, initrdPath, e.cmdline())
	}
	if memtest {
		// memtest86+ 6.x loads as a Linux kernel (LINUX says so whatever
		// the file is called) and mirrors its screen to the serial port.
		fmt.Fprintf(&b, "\nLABEL memtest\n  MENU LABEL Memory Test\n  LINUX %s\n  APPEND %s\n", memtestPath, serialConsole)
	}
	return []byte(b.String())
}
