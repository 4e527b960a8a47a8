//go:build linux

package blockdev

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onramp-os/onramp/internal/exitcode"
	"github.com/onramp-os/onramp/internal/testutil"
	"golang.org/x/sys/unix"
)

// rootFSDir returns a temporary directory on the file system mounted at
// /, skipping when none of the usual places is on it.
func rootFSDir(t *testing.T) string {
	t.Helper()
	var root unix.Stat_t
	if err := unix.Stat("/", &root); err != nil {
		t.Fatal(err)
	}
	for _, base := range []string{os.TempDir(), "/var/tmp", "/root"} {
		var st unix.Stat_t
		if unix.Stat(base, &st) != nil || st.Dev != root.Dev {
			continue
		}
		dir, err := os.MkdirTemp(base, "onramp-loop-on-root-")
		if err != nil {
			continue
		}
		t.Cleanup(func() { _ = os.RemoveAll(dir) })
		return dir
	}
	testutil.Skip(t, "no temporary directory on the root file system")
	return ""
}

// attachInPlace attaches file to a loop device as it is (testutil's
// LoopDevice moves files off the system disk, which this test must not).
func attachInPlace(t *testing.T, file string) string {
	t.Helper()
	testutil.RequireRoot(t)
	testutil.RequireTools(t, "losetup")
	dev := strings.TrimSpace(testutil.Run(t, "losetup", "--find", "--show", file))
	t.Cleanup(func() { _ = exec.Command("losetup", "-d", dev).Run() })
	return dev
}

// A loop device over a file on the file system mounted at / is stacked on
// the system disk: it is one itself, refused even with force, also when
// the file was reached through a bind mount elsewhere. A loop over a file
// on a tmpfs of its own is not.
func TestLoopOverFileOnSystemFileSystem(t *testing.T) {
	testutil.RequireRoot(t)
	dir := rootFSDir(t)
	file := filepath.Join(dir, "disk.img")
	if err := os.WriteFile(file, make([]byte, 8<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	bind := t.TempDir()
	if err := unix.Mount(dir, bind, "", unix.MS_BIND, ""); err != nil {
		t.Fatalf("bind mount: %v", err)
	}
	t.Cleanup(func() { _ = unix.Unmount(bind, unix.MNT_DETACH) })
	for _, path := range []string{file, filepath.Join(bind, "disk.img")} {
		loop := attachInPlace(t, path)
		d, err := Lookup(loop)
		if err != nil {
			t.Fatal(err)
		}
		want := "/ through its backing file " + path
		if !d.System || len(d.SystemUses) == 0 || d.SystemUses[0] != want {
			t.Errorf("Lookup(%s) over %s: system=%v uses=%q, want %q", loop, path, d.System, d.SystemUses, want)
		}
		if _, err := d.Check(1, true); exitcode.KindOf(err) != exitcode.Refused || !strings.Contains(err.Error(), "system disk") {
			t.Errorf("Check(force) of %s: %v, want refused as the system disk", loop, err)
		}
		ds, err := List()
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range Candidates(ds) {
			if c.Path == loop {
				t.Errorf("%s is offered as a candidate", loop)
			}
		}
	}

	// A loop over such a loop is stacked on the system disk too.
	under := attachInPlace(t, file)
	over := attachInPlace(t, under)
	if d, err := Lookup(over); err != nil || !d.System || !strings.HasSuffix(d.SystemUses[0], "through its backing device "+under) {
		t.Errorf("Lookup(%s) over %s: %+v, %v; want a system disk", over, under, d, err)
	}

	tmp := t.TempDir()
	if err := unix.Mount("tmpfs", tmp, "tmpfs", 0, "size=16m"); err != nil {
		t.Fatalf("mount tmpfs: %v", err)
	}
	t.Cleanup(func() { _ = unix.Unmount(tmp, unix.MNT_DETACH) })
	free := filepath.Join(tmp, "disk.img")
	if err := os.WriteFile(free, make([]byte, 8<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	loop := attachInPlace(t, free)
	d, err := Lookup(loop)
	if err != nil {
		t.Fatal(err)
	}
	if d.System || d.Mounted {
		t.Errorf("Lookup(%s) over a file on a private tmpfs: system=%v uses=%q in use %q", loop, d.System, d.SystemUses, d.InUse)
	}
}

// The same decision on the fake tree (sysfs and mountinfo replaced): the
// loop's backing file is on the file system the fake mount table has at
// /usr, then nowhere.
func TestFakeLoopOverFileOnSystemFileSystem(t *testing.T) {
	root, _ := useFakeSystem(t)
	file := filepath.Join(t.TempDir(), "test.img")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	var st unix.Stat_t
	if err := unix.Stat(file, &st); err != nil {
		t.Fatal(err)
	}
	backing := filepath.Join(SysBlockDir, "loop0", "loop", "backing_file")
	if err := os.WriteFile(backing, []byte(file+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	mountinfo := filepath.Join(root, "proc", "mountinfo")
	clean, err := os.ReadFile(mountinfo)
	if err != nil {
		t.Fatal(err)
	}
	line := fmt.Sprintf("40 27 %d:%d / /usr rw,relatime shared:40 - ext4 /dev/fake-usr rw\n", unix.Major(st.Dev), unix.Minor(st.Dev))
	if err := os.WriteFile(mountinfo, append(clean, line...), 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := Lookup(filepath.Join(DevDir, "loop0"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "/usr through its backing file " + file; !d.System || len(d.SystemUses) != 1 || d.SystemUses[0] != want {
		t.Fatalf("loop0: system=%v uses=%q, want %q", d.System, d.SystemUses, want)
	}
	if err := os.WriteFile(mountinfo, clean, 0o644); err != nil {
		t.Fatal(err)
	}
	if d, err = Lookup(filepath.Join(DevDir, "loop0")); err != nil || d.System {
		t.Fatalf("loop0 without that mount: system=%v uses=%q, %v", d.System, d.SystemUses, err)
	}
}
