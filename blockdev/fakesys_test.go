//go:build linux

package blockdev

import (
	"bufio"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeNoNode is the disk the fake /dev has no node for, so Lookup's fallback
// by kernel name is exercised even when nodes can be made.
const fakeNoNode = "sdd"

// useFakeSystem builds a sysfs, proc and /dev tree in a temporary directory
// from testdata/ and points the package variables at it for the rest of the
// test. The checked-in tree holds plain files only; the symlinks sysfs is
// made of are created here. As root the fake /dev gets real device nodes
// (mknod) plus a by-id link, so Lookup runs its device-number path; it
// returns whether it could.
func useFakeSystem(t *testing.T) (root string, nodes bool) {
	t.Helper()
	root = t.TempDir()
	sys := filepath.Join(root, "sys")
	dev := filepath.Join(root, "dev")
	for _, d := range []string{"sys/class/block", "sys/dev/block", "proc", "dev/disk/by-id"} {
		mkdirAll(t, filepath.Join(root, d))
	}

	// Copy testdata/sys/devices, turning the "~" of checked-in names back
	// into ":", and link every device directory (one with a "dev" file) from
	// class/block and dev/block as the kernel does.
	var devNumbers = map[string]string{} // kernel name → MAJ:MIN
	src := filepath.Join("testdata", "sys")
	err := filepath.WalkDir(filepath.Join(src, "devices"), func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		dst := filepath.Join(sys, strings.ReplaceAll(rel, "~", ":"))
		if e.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			return err
		}
		if e.Name() == "dev" {
			dir, num := filepath.Dir(dst), strings.TrimSpace(string(b))
			devNumbers[filepath.Base(dir)] = num
			relLink(t, filepath.Join(sys, "class/block", filepath.Base(dir)), dir)
			relLink(t, filepath.Join(sys, "dev/block", num), dir)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(src, "links.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		link, target, ok := strings.Cut(strings.ReplaceAll(line, "~", ":"), " ")
		if !ok {
			t.Fatalf("links.txt: bad line %q", line)
		}
		relLink(t, filepath.Join(sys, link), filepath.Join(sys, target))
	}

	// proc files name devices under /dev; point them at the fake /dev.
	for _, name := range []string{"mountinfo", "swaps"} {
		b, err := os.ReadFile(filepath.Join("testdata", "proc", name))
		if err != nil {
			t.Fatal(err)
		}
		s := strings.ReplaceAll(string(b), "/dev/", dev+"/")
		if err := os.WriteFile(filepath.Join(root, "proc", name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	nodes = os.Geteuid() == 0
	for name, num := range devNumbers {
		if !nodes || name == fakeNoNode {
			continue
		}
		if err := makeBlockNode(filepath.Join(dev, name), num); err != nil {
			t.Logf("mknod in %s: %v; using the fallback by name", dev, err)
			nodes = false
		}
	}
	if nodes {
		relLink(t, filepath.Join(dev, "disk/by-id/usb-SanDisk_Cruzer_Blade_4C530001230-0:0"), filepath.Join(dev, "sdc"))
		relLink(t, filepath.Join(dev, "disk/by-id/usb-SanDisk_Cruzer_Blade_4C530001230-0:0-part1"), filepath.Join(dev, "sdc1"))
	}

	setVar(t, &SysBlockDir, filepath.Join(sys, "class/block"))
	setVar(t, &SysDevBlockDir, filepath.Join(sys, "dev/block"))
	setVar(t, &MountInfoPath, filepath.Join(root, "proc/mountinfo"))
	setVar(t, &SwapsPath, filepath.Join(root, "proc/swaps"))
	setVar(t, &DevDir, dev)
	return root, nodes
}

// setVar sets a package variable for the duration of the test.
func setVar(t *testing.T, v *string, value string) {
	old := *v
	*v = value
	t.Cleanup(func() { *v = old })
}

// relLink makes link point at target with a relative path, as sysfs links do.
func relLink(t *testing.T, link, target string) {
	t.Helper()
	mkdirAll(t, filepath.Dir(link))
	rel, err := filepath.Rel(filepath.Dir(link), target)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(rel, link); err != nil {
		t.Fatal(err)
	}
}

func mkdirAll(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
}
