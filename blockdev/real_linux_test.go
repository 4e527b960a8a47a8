//go:build linux

package blockdev

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onramp-os/onramp/internal/exitcode"
)

// rootDisk finds the whole disk under / by hand from the real /proc and
// /sys, independently of the code under test.
func rootDisk(t *testing.T) (disk, node string) {
	t.Helper()
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Skipf("no /proc/self/mountinfo: %v", err)
	}
	var dev string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 && f[4] == "/" {
			dev = f[2] // the last mount on / wins, as it hides the others
		}
	}
	if dev == "" || strings.HasPrefix(dev, "0:") {
		t.Skipf("/ is not on a block device here (device %q, e.g. overlay in a container)", dev)
	}
	target, err := filepath.EvalSymlinks("/sys/dev/block/" + dev)
	if err != nil {
		t.Skipf("no sysfs entry for %s: %v", dev, err)
	}
	node = filepath.Base(target)
	disk = node
	if _, err := os.Stat(filepath.Join(target, "partition")); err == nil {
		disk = filepath.Base(filepath.Dir(target))
	}
	if _, err := os.Stat(filepath.Join(target, "slaves")); err == nil {
		if entries, _ := os.ReadDir(filepath.Join(target, "slaves")); len(entries) > 0 {
			t.Skipf("/ is on a stacked device (%s); this test only follows plain disks", node)
		}
	}
	return disk, node
}

func TestListRealSystem(t *testing.T) {
	if _, err := os.Stat("/sys/class/block"); err != nil {
		t.Skipf("no sysfs: %v", err)
	}
	disk, node := rootDisk(t)
	drives, err := List()
	if err != nil {
		t.Fatal(err)
	}
	var found *Drive
	for i, d := range drives {
		t.Logf("%-8s %-10s system=%-5v mounted=%-5v removable=%-5v usb=%-5v %s", d.Name, d.Transport,
			d.System, d.Mounted, d.Removable, d.USB, d.Describe())
		if d.Name == disk {
			found = &drives[i]
		}
		if d.Size <= 0 || d.LogicalBlockSize <= 0 || d.Path != "/dev/"+d.Name {
			t.Errorf("%s: size %d, block size %d, path %s", d.Name, d.Size, d.LogicalBlockSize, d.Path)
		}
	}
	if found == nil {
		t.Fatalf("List() has no %s, the disk under /", disk)
	}
	if !found.System || !found.Mounted || found.SystemUses[0] != "/" {
		t.Errorf("%s: system=%v mounted=%v uses=%v, want the system disk holding /", disk, found.System, found.Mounted, found.SystemUses)
	}
	if want := "/dev/" + node + " mounted on /"; len(found.InUse) == 0 || found.InUse[0] != want {
		t.Errorf("%s InUse = %q, want it to start with %q", disk, found.InUse, want)
	}
	for _, c := range Candidates(drives) {
		if c.Name == disk {
			t.Errorf("Candidates offers the system disk %s", disk)
		}
	}

	d, err := Lookup("/dev/" + disk)
	if err != nil {
		t.Fatal(err)
	}
	if !d.System {
		t.Errorf("Lookup(/dev/%s) not system", disk)
	}
	_, err = d.Check(1, true)
	if want := "/dev/" + disk + " is the system disk (it holds /"; err == nil || !strings.HasPrefix(err.Error(), want) || exitcode.Code(err) != 3 {
		t.Errorf("Check(force) of the system disk = %v, want refusal %q...", err, want)
	}
}
