package medium

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/onramp-os/onramp/internal/exitcode"
)

// DefaultSyslinuxDirs are where the legacy variant looks for ISOLINUX when
// no --syslinux directory is given: Debian's isolinux and syslinux-common
// packages.
var DefaultSyslinuxDirs = []string{"/usr/lib/ISOLINUX", "/usr/lib/syslinux/modules/bios"}

// On the ISO 9660 side, ISOLINUX and its files live in isolinux/.
const (
	isolinuxDir = "isolinux"
	isolinuxBin = "isolinux.bin"
	memtestPath = "/isolinux/memtest"
	// isohdpfx.bin is the MBR boot code isohybrid puts in front of an ISO
	// booted from a disk: it loads isolinux.bin from the LBA patched in.
	isohybridMBR = "isohdpfx.bin"
)

// isolinuxFiles are copied to isolinux/: the loader, its core module and
// the menu with the libraries menu.c32 needs.
var isolinuxFiles = []string{isolinuxBin, "ldlinux.c32", "menu.c32", "libutil.c32", "libcom32.c32"}

// isohybridMagic at byte 64 of isolinux.bin marks a version that can boot
// from a disk through isohdpfx.bin (ISOLINUX 3.72 and later).
const isohybridMagic = 0x7078c0fb

// syslinux holds the ISOLINUX files of the legacy variant.
type syslinux struct {
	files map[string]string // name in isolinux/ -> file on the host
	mbr   []byte            // isohdpfx.bin, 432 bytes
}

// findSyslinux looks each file up in the first of dirs that has it.
func findSyslinux(dirs []string) (*syslinux, error) {
	if len(dirs) == 0 {
		dirs = DefaultSyslinuxDirs
	}
	find := func(name string) (string, error) {
		for _, d := range dirs {
			p := filepath.Join(d, name)
			if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
				return p, nil
			}
		}
		return "", exitcode.New(exitcode.Usage, "ISOLINUX: %s is not in %s (install Debian's isolinux and syslinux-common, or give --syslinux DIR)",
			name, strings.Join(dirs, ", "))
	}
	s := &syslinux{files: map[string]string{}}
	for _, name := range isolinuxFiles {
		p, err := find(name)
		if err != nil {
			return nil, err
		}
		s.files[name] = p
	}
	bin, err := os.ReadFile(s.files[isolinuxBin])
	if err != nil {
		return nil, fmt.Errorf("ISOLINUX: %w", err)
	}
	if len(bin) < 68 || binary.LittleEndian.Uint32(bin[64:]) != isohybridMagic {
		return nil, exitcode.New(exitcode.Usage, "ISOLINUX: %s cannot boot from a disk (no isohybrid signature; ISOLINUX 3.72 or later needed)", s.files[isolinuxBin])
	}
	p, err := find(isohybridMBR)
	if err != nil {
		return nil, err
	}
	if s.mbr, err = os.ReadFile(p); err != nil {
		return nil, fmt.Errorf("ISOLINUX: %w", err)
	}
	if len(s.mbr) != mbrCodeSize || bytes.Count(s.mbr, []byte{0}) == len(s.mbr) {
		return nil, exitcode.New(exitcode.Usage, "ISOLINUX: %s is not %d bytes of MBR boot code", p, mbrCodeSize)
	}
	return s, nil
}
