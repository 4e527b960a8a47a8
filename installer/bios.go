package installer

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/onramp-os/onramp/images"
	"github.com/onramp-os/onramp/internal/exitcode"
	"github.com/onramp-os/onramp/internal/grubcfg"
)

// Legacy BIOS boot (the legacy variant): a payload holding GRUB's i386-pc
// images gets them placed as grub-bios-setup places them on a GPT disk:
// core.img (made by grub-mkimage -O i386-pc with prefix (hd0,gpt1)/grub)
// in ONRAMP-BIOS, and boot.img's code in the MBR's boot-code area, patched
// to load core.img from there; GRUB then reads grub/grub.cfg on the ESP.
const (
	BIOSBootImage = "bios/boot.img"
	BIOSCoreImage = "bios/core.img"
	// GRUBConfig is GRUB's configuration on the ESP (prefix (hd0,gpt1)/grub).
	GRUBConfig = "grub/grub.cfg"
)

// Offsets GRUB's setup patches (grub-core/boot/i386/pc/boot.S and
// include/grub/i386/pc/boot.h; util/setup.c).
const (
	bootCodeSize     = 440  // MBR boot code; the disk signature follows
	bootKernelSector = 0x5c // 64-bit LBA of core.img's first sector
	bootDrive        = 0x64 // 0xff: use the drive the BIOS passed in DL
	bootDriveCheck   = 0x66 // a 2-byte jmp that setup turns into NOPs for hard disks
	// diskboot.img (core.img's first sector) ends with a blocklist: 64-bit
	// start LBA, 16-bit sector count, 16-bit load segment per entry,
	// growing downwards; an entry of length 0 ends it.
	blocklistEntry = 12
	coreLoadSeg    = 0x820 // GRUB_BOOT_I386_PC_KERNEL_SEG + 0x20
	grubSector     = 512
)

// biosBoot holds the checked GRUB images of a payload.
type biosBoot struct {
	boot, core []byte
}

// hasBIOSBoot reports whether the payload lists GRUB's images; listing only
// one of them is ImageInvalid.
func hasBIOSBoot(m *images.Manifest) (bool, error) {
	_, boot := m.File(BIOSBootImage)
	_, core := m.File(BIOSCoreImage)
	if boot != core {
		return false, exitcode.New(exitcode.ImageInvalid, "payload lists only one of %s and %s; legacy BIOS boot needs both", BIOSBootImage, BIOSCoreImage)
	}
	return boot, nil
}

// readBIOSBoot reads and checks GRUB's images from the payload (through
// Open, so against the manifest once more); nil when the payload has none.
func readBIOSBoot(p *images.Payload, bios Part, sectorSize int) (*biosBoot, error) {
	ok, err := hasBIOSBoot(p.Manifest)
	if !ok || err != nil {
		return nil, err
	}
	if sectorSize != grubSector {
		return nil, fmt.Errorf("legacy BIOS boot needs 512-byte sectors; the target has %d", sectorSize)
	}
	var b biosBoot
	for _, f := range []struct {
		name string
		dst  *[]byte
	}{{BIOSBootImage, &b.boot}, {BIOSCoreImage, &b.core}} {
		r, err := p.Open(f.name)
		if err != nil {
			return nil, err
		}
		*f.dst, err = io.ReadAll(r)
		r.Close()
		if err != nil {
			return nil, err
		}
	}
	if len(b.boot) != grubSector || b.boot[510] != 0x55 || b.boot[511] != 0xaa {
		return nil, exitcode.New(exitcode.ImageInvalid, "%s is not a 512-byte boot sector", BIOSBootImage)
	}
	sectors := (int64(len(b.core)) + grubSector - 1) / grubSector
	if sectors < 2 || sectors*grubSector > bios.Size || sectors-1 > 0xffff {
		return nil, exitcode.New(exitcode.ImageInvalid, "%s has %d bytes; it must span 2 sectors at least and fit the %d bytes of %s",
			BIOSCoreImage, len(b.core), bios.Size, LabelBIOS)
	}
	return &b, nil
}

// mbrCode is boot.img's boot code patched, as grub-bios-setup does, to load
// core.img from LBA coreLBA of the boot drive.
func (b *biosBoot) mbrCode(coreLBA uint64) []byte {
	code := bytes.Clone(b.boot[:bootCodeSize])
	binary.LittleEndian.PutUint64(code[bootKernelSector:], coreLBA)
	code[bootDrive] = 0xff
	code[bootDriveCheck], code[bootDriveCheck+1] = 0x90, 0x90
	return code
}

// coreImage is core.img padded to whole sectors, its first blocklist
// entry pointing at the sectors after coreLBA (where the rest of core.img
// lies) and the next entry ending the list.
func (b *biosBoot) coreImage(coreLBA uint64) []byte {
	sectors := (len(b.core) + grubSector - 1) / grubSector
	img := make([]byte, sectors*grubSector)
	copy(img, b.core)
	first := img[grubSector-blocklistEntry : grubSector]
	binary.LittleEndian.PutUint64(first[0:], coreLBA+1)
	binary.LittleEndian.PutUint16(first[8:], uint16(sectors-1))
	binary.LittleEndian.PutUint16(first[10:], coreLoadSeg)
	clear(img[grubSector-2*blocklistEntry : grubSector-blocklistEntry])
	return img
}

// writeBIOSBoot writes core.img at the start of ONRAMP-BIOS (the rest of it
// zeroed) and the patched boot code into the MBR, leaving its partition
// entries to the table written last; both are read back. Without a payload
// GRUB, ONRAMP-BIOS is only zeroed.
func (t *Target) writeBIOSBoot(b *biosBoot, part Part) error {
	content := make([]byte, part.Size)
	if b == nil {
		return t.writeAt(content, part.Start)
	}
	lba := uint64(part.Start / grubSector)
	copy(content, b.coreImage(lba))
	code := b.mbrCode(lba)
	for _, w := range []struct {
		data []byte
		off  int64
	}{{content, part.Start}, {code, 0}} {
		if err := t.writeAt(w.data, w.off); err != nil {
			return err
		}
		got := make([]byte, len(w.data))
		if _, err := t.f.ReadAt(got, w.off); err != nil {
			return verifyFailed("read back the BIOS boot code at %d: %v", w.off, err)
		}
		if !bytes.Equal(got, w.data) {
			return verifyFailed("the BIOS boot code at %d of %s reads back different", w.off, t.Path)
		}
	}
	return nil
}

// grubConfig is GRUB's menu for slot A (UEFI and BIOS alike).
func grubConfig(m *images.Manifest) []byte {
	return grubcfg.Menu(3, []grubcfg.Entry{{
		ID: "onramp-a", Title: m.OSName + " " + m.Version,
		Kernel: "/onramp/a/vmlinuz", Initrd: "/onramp/a/initrd.img", Options: slotOptions(m, "a"),
	}})
}
