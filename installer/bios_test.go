//go:build linux

package installer

import (
	"bytes"
	"encoding/binary"
	"os"
	"strings"
	"testing"

	"github.com/diskfs/go-diskfs/backend/file"
	"github.com/diskfs/go-diskfs/filesystem/fat32"

	"github.com/onramp-os/onramp/images"
	"github.com/onramp-os/onramp/internal/exitcode"
	"github.com/onramp-os/onramp/internal/grubcfg"
	"github.com/onramp-os/onramp/internal/testutil"
)

// fakeGRUB is a boot.img and a core.img of 3.5 sectors shaped like GRUB's:
// a signed boot sector, and a first sector ending in the default blocklist.
func fakeGRUB() (boot, core []byte) {
	boot = bytes.Repeat([]byte{0xb0}, 512)
	boot[510], boot[511] = 0x55, 0xaa
	core = bytes.Repeat([]byte{0xc0}, 3*512+256)
	binary.LittleEndian.PutUint64(core[500:], 2)
	binary.LittleEndian.PutUint16(core[508:], 3)
	binary.LittleEndian.PutUint16(core[510:], 0x820)
	return boot, core
}

// TestInstallBIOSBoot: GRUB's images are placed and patched as
// grub-bios-setup does, the protective MBR entry stays, and the BIOS
// grub.cfg boots slot A like the signed GRUB's (UEFI) menu.
func TestInstallBIOSBoot(t *testing.T) {
	testutil.RequireRoot(t)
	boot, core := fakeGRUB()
	p := testPayloadWith(t, 1<<20, map[string][]byte{BIOSBootImage: boot, BIOSCoreImage: core},
		images.SignOptions{Variant: "legacy", KernelOptions: "console=ttyS0,115200"})
	img := sparseFile(t, 2<<30)
	res, err := install(t, img, p, Auto, Auto)
	if err != nil {
		t.Fatal(err)
	}
	checkInstalled(t, img, res, p)
	f, err := os.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	bios := res.Layout.Part(LabelBIOS)
	lba := uint64(bios.Start / 512)
	mbr := make([]byte, 512)
	f.ReadAt(mbr, 0)
	part := make([]byte, bios.Size)
	f.ReadAt(part, bios.Start)
	if !bytes.Equal(mbr[:0x5c], boot[:0x5c]) || binary.LittleEndian.Uint64(mbr[0x5c:]) != lba || mbr[0x64] != 0xff ||
		!bytes.Equal(mbr[0x66:0x68], []byte{0x90, 0x90}) || !bytes.Equal(mbr[0x68:440], boot[0x68:440]) {
		t.Errorf("MBR boot code not patched as grub-bios-setup does: % x", mbr[0x58:0x70])
	}
	if mbr[446+4] != 0xee || mbr[510] != 0x55 || mbr[511] != 0xaa {
		t.Error("protective MBR entry lost")
	}
	got := part[:4*512]
	entry := got[500:512]
	if binary.LittleEndian.Uint64(entry) != lba+1 || binary.LittleEndian.Uint16(entry[8:]) != 3 ||
		binary.LittleEndian.Uint16(entry[10:]) != 0x820 || !bytes.Equal(got[488:500], make([]byte, 12)) {
		t.Errorf("diskboot blocklist: % x", got[488:512])
	}
	if !bytes.Equal(got[:488], core[:488]) || !bytes.Equal(got[512:len(core)], core[512:]) ||
		!bytes.Equal(part[len(core):], make([]byte, bios.Size-int64(len(core)))) {
		t.Error("core.img not written as given, or the rest of ONRAMP-BIOS not zeroed")
	}

	esp := res.Layout.Part(LabelESP)
	fsys, err := fat32.Read(file.New(f, true), esp.Size, esp.Start, 512)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err1 := fsys.ReadFile(GRUBConfig)
	efiCfg, err2 := fsys.ReadFile(grubcfg.EFIConfig)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	opts := "root=PARTLABEL=ONRAMP-SYS-A ro onramp.slot=a console=ttyS0,115200"
	if !bytes.Equal(cfg, efiCfg) || !strings.Contains(string(cfg), "linux /onramp/a/vmlinuz "+opts+"\n") ||
		!strings.Contains(string(cfg), "initrd /onramp/a/initrd.img\n") {
		t.Errorf("menus differ or lack slot A:\n%s\n%s", efiCfg, cfg)
	}
}

// TestBIOSBootRefusedBeforeWrite: a payload with only one GRUB image or a
// boot.img that is no boot sector is refused before anything is written.
func TestBIOSBootRefusedBeforeWrite(t *testing.T) {
	testutil.RequireRoot(t)
	boot, core := fakeGRUB()
	for name, extra := range map[string]map[string][]byte{
		"only boot.img":  {BIOSBootImage: boot},
		"no boot sector": {BIOSBootImage: boot[:511], BIOSCoreImage: core},
		"core too large": {BIOSBootImage: boot, BIOSCoreImage: make([]byte, 2<<20)},
	} {
		p := testPayloadWith(t, 1<<20, extra, images.SignOptions{})
		img := sparseFile(t, 2<<30)
		os.WriteFile(img, []byte("untouched"), 0o644)
		os.Truncate(img, 2<<30)
		_, err := install(t, img, p, Auto, Auto)
		if exitcode.KindOf(err) != exitcode.ImageInvalid {
			t.Errorf("%s: %v", name, err)
		}
		head := make([]byte, 9)
		if f, err := os.Open(img); err == nil {
			f.ReadAt(head, 0)
			f.Close()
		}
		if string(head) != "untouched" {
			t.Errorf("%s: the target was written", name)
		}
	}
}
