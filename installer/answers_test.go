//go:build linux

package installer

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onramp-os/onramp/blockdev"
	"github.com/onramp-os/onramp/firstboot"
	"github.com/onramp-os/onramp/internal/exitcode"
)

// TestAutoTargetReasons: every reason that makes a disk ineligible for
// target auto, the empty set of rules.
func TestAutoTargetReasons(t *testing.T) {
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
		disk("mmcblk0", func(d *blockdev.Drive) { d.Size, d.Transport = 0, "mmc" }),
		disk("sdf", func(*blockdev.Drive) {}), // the installer medium
	}
	target := disk("nvme0n1", func(d *blockdev.Drive) { d.Transport = "nvme" })
	if d, err := MatchTarget(append(ineligible, target), TargetRules{}, "sdf"); err != nil || d.Path != "/dev/nvme0n1" {
		t.Errorf("picked %q %v", d.Path, err)
	}
	_, err := MatchTarget(ineligible, TargetRules{}, "sdf")
	for _, w := range []string{"target auto: no eligible internal disk", "/dev/sda (sata, 68.7 GB): system disk, mounted", "/dev/sdb (sata, 68.7 GB): mounted",
		"sdc (sata, 68.7 GB): read-only", "sdd (sata, 68.7 GB, removable): removable", "sde (usb, 68.7 GB): USB", "loop0 (loop, 68.7 GB): loop device",
		"mmcblk0 (mmc, 0 B): empty", "sdf (sata, 68.7 GB): installer medium"} {
		if err == nil || !strings.Contains(err.Error(), w) || exitcode.KindOf(err) != exitcode.Refused {
			t.Errorf("none eligible: %v; want refused and %q", err, w)
		}
	}
	if _, err := MatchTarget(nil, TargetRules{}, ""); err == nil || !strings.Contains(err.Error(), "disks seen: none") {
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
	f.Add([]byte("target:\n  bus: [sata, nvme]\n  min_size: 16G\n  max_size: 1.5TB\n  model: \"Samsung*\"\n  removable: false\naccept_eula: true\n"), false)
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
