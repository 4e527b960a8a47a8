//go:build linux

package installer

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onramp-os/onramp/blockdev"
	"github.com/onramp-os/onramp/firstboot"
)

// TestPickInternalDisk: every reason that makes a disk ineligible.
func TestPickInternalDisk(t *testing.T) {
	disk := func(name string, edit func(*blockdev.Drive)) blockdev.Drive {
		d := blockdev.Drive{Name: name, Path: "/dev/" + name, Size: 64 << 30, Transport: "sata"}
		edit(&d)
		return d
	}
	ineligible := []blockdev.Drive{
		disk("sda", func(d *blockdev.Drive) { d.System, d.Mounted = true, true }),
		disk("sdb", func(d *blockdev.Drive) { d.Mounted = true }),
		disk("sdc", func(d *blockdev.Drive) { d.ReadOnly = true }),
		disk("sdd", func(d *blockdev.Drive) { d.Removable = true }),
		disk("sde", func(d *blockdev.Drive) { d.USB, d.Transport = true, "usb" }),
		disk("loop0", func(d *blockdev.Drive) { d.Transport = "loop" }),
		disk("mmcblk0", func(d *blockdev.Drive) { d.Size = 0 }),
	}
	target := disk("nvme0n1", func(d *blockdev.Drive) { d.Transport = "nvme" })
	if got, err := PickInternalDisk(append(ineligible, target)); err != nil || got != "/dev/nvme0n1" {
		t.Errorf("picked %q %v", got, err)
	}
	_, err := PickInternalDisk(ineligible)
	for _, w := range []string{"sda) (system disk, mounted)", "sdb) (mounted)", "sdc) (read-only)", "sdd) (removable)",
		"sde) (USB)", "loop0) (loop device)", "mmcblk0) (empty)"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("none eligible: %v; want %q", err, w)
		}
	}
	if _, err := PickInternalDisk(nil); err == nil || !strings.Contains(err.Error(), "disks seen: none") {
		t.Errorf("no disks: %v", err)
	}
}

// FuzzParseAnswers: any file parses or fails with an error, never a
// panic; what it accepts as firstboot the setup assistant accepts too.
func FuzzParseAnswers(f *testing.F) {
	if b, err := os.ReadFile(filepath.Join("..", "examples", "install-answers.yaml")); err == nil {
		f.Add(b, true)
	}
	f.Add([]byte("target: auto\naccept_eula: true\nfirstboot: {onboarding: skip}\n"), false)
	f.Add([]byte("firstboot:\n  network: {wired: {address: 192.0.2.10/24}}\n  x: [1, {y: z}]\n"), false)
	f.Fuzz(func(t *testing.T, data []byte, live bool) {
		a, err := ParseAnswers(data, live)
		if err != nil || a.FirstBoot == nil {
			return
		}
		if _, err := firstboot.ParseAnswers(a.FirstBoot); err != nil {
			t.Fatalf("firstboot accepted here but not by the setup assistant: %v", err)
		}
	})
}
