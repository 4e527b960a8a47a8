//go:build linux

package installer

import (
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/onramp-os/onramp/internal/testutil"
)

func TestBackupDirForPayloadFiles(t *testing.T) {
	root := t.TempDir()
	for _, src := range []string{filepath.Join(root, "onramp"), filepath.Join(root, "osc.iso")} {
		if strings.HasSuffix(src, ".iso") {
			os.WriteFile(src, []byte("iso"), 0o644)
		} else {
			os.Mkdir(src, 0o755)
		}
		if got := BackupDirFor(src); got != filepath.Join(root, "osc-backups") {
			t.Errorf("BackupDirFor(%s) = %s", src, got)
		}
	}
	if got := BackupDirFor(filepath.Join(root, "missing")); got != DefaultBackupDir {
		t.Errorf("missing source: %s", got)
	}
}

// TestBackupDirForInstallerStick: an ISO written to a stick, with a file
// system inside the ISO (as a hybrid ISO's EFI image, which must not change
// even when labelled OSC-BACKUP), then an unlabelled and an OSC-BACKUP one
// after it (ext4: this kernel may lack vfat): the backup goes to the
// labelled one past the ISO, mounted if it is not, and to its existing mount
// when it is.
func TestBackupDirForInstallerStick(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.RequireTools(t, "sfdisk", "partx", "mkfs.ext4", "mount", "umount", "blkid")
	dir := t.TempDir()
	img := filepath.Join(dir, "stick.img")
	os.WriteFile(img, nil, 0o600)
	os.Truncate(img, 96<<20)
	testutil.Run(t, "sh", "-c", "printf 'start=2048, size=16384, type=ef\\nstart=49152, size=32768\\nstart=98304\\n' | sfdisk -q "+img)
	// An ISO 9660 primary volume descriptor saying the volume is 20 MiB.
	f, err := os.OpenFile(img, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	pvd := make([]byte, 2048)
	pvd[0] = 1
	copy(pvd[1:], "CD001")
	binary.LittleEndian.PutUint32(pvd[80:], 20<<20/2048)
	f.WriteAt(pvd, 16*2048)
	f.Close()
	for _, p := range []struct {
		label string
		off   int64
		size  string
	}{{BackupLabel, 1 << 20, "8M"}, {"", 24 << 20, "16M"}, {BackupLabel, 48 << 20, "40M"}} {
		fsImg := filepath.Join(dir, "fs.img")
		os.Remove(fsImg)
		args := []string{"-q", "-F", fsImg, p.size}
		if p.label != "" {
			args = append([]string{"-L", p.label}, args...)
		}
		testutil.Run(t, "mkfs.ext4", args...)
		b, _ := os.ReadFile(fsImg)
		f, _ := os.OpenFile(img, os.O_RDWR, 0)
		f.WriteAt(b, p.off)
		f.Close()
	}
	loop := testutil.LoopDevice(t, img, "--partscan")
	name := filepath.Base(loop)
	if !testutil.WaitFor(500*time.Millisecond, func() bool { return exists("/sys/class/block/" + name + "p3") }) {
		testutil.Run(t, "partx", "-a", loop)
	}
	if !testutil.WaitFor(3*time.Second, func() bool { return exists("/sys/class/block/" + name + "p3") }) {
		t.Fatal("partitions did not appear")
	}
	t.Cleanup(func() { testutil.Run(t, "partx", "-d", loop) })
	old := MediumMountDir
	MediumMountDir = filepath.Join(dir, "medium")
	t.Cleanup(func() { MediumMountDir = old })
	mp := filepath.Join(MediumMountDir, name+"p3")
	t.Cleanup(func() { // whatever was mounted, also when the test fails
		for _, p := range []string{"p1", "p2", "p3"} {
			exec.Command("umount", filepath.Join(MediumMountDir, name+p)).Run()
		}
	})

	if got := BackupDirFor(loop); got != filepath.Join(mp, "osc-backups") {
		t.Fatalf("BackupDirFor(%s) = %s, want the OSC-BACKUP partition mounted at %s", loop, got, mp)
	}
	if mounts := mountPoints(); len(mounts[name+"p1"])+len(mounts[name+"p2"]) != 0 || len(mounts[name+"p3"]) != 1 {
		t.Errorf("mounts: p1 %v, p2 %v, p3 %v", mounts[name+"p1"], mounts[name+"p2"], mounts[name+"p3"])
	}
	// Mounted already: used where it is, not mounted twice.
	if got := BackupDirFor(loop); got != filepath.Join(mp, "osc-backups") {
		t.Errorf("second BackupDirFor = %s", got)
	}
	if mounts := mountPoints(); len(mounts[name+"p3"]) != 1 {
		t.Errorf("p3 mounted %v", mounts[name+"p3"])
	}

	// The live installer's view: the payload is a folder on a read-only
	// mount of the stick (here p2 stands for the ISO 9660 volume, which
	// this host's kernel cannot mount): the backup still goes to OSC-BACKUP.
	ro := filepath.Join(dir, "ro")
	os.Mkdir(ro, 0o755)
	testutil.Run(t, "mount", "/dev/"+name+"p2", ro)
	os.Mkdir(filepath.Join(ro, "onramp"), 0o755)
	testutil.Run(t, "mount", "-o", "remount,ro", ro)
	t.Cleanup(func() { exec.Command("umount", ro).Run() })
	if got := BackupDirFor(filepath.Join(ro, "onramp")); got != filepath.Join(mp, "osc-backups") {
		t.Errorf("BackupDirFor(payload on a read-only mount of the stick) = %s, want %s", got, filepath.Join(mp, "osc-backups"))
	}

	// A read-only payload on a drive that holds no installer ISO: its
	// partitions are none of osc's business.
	other := filepath.Join(dir, "other.img")
	testutil.Run(t, "mkfs.ext4", "-q", "-F", other, "16M")
	otherDir := filepath.Join(dir, "other")
	os.Mkdir(otherDir, 0o755)
	testutil.Run(t, "mount", testutil.LoopDevice(t, other), otherDir)
	t.Cleanup(func() { exec.Command("umount", otherDir).Run() })
	os.Mkdir(filepath.Join(otherDir, "onramp"), 0o755)
	testutil.Run(t, "mount", "-o", "remount,ro", otherDir)
	if got := BackupDirFor(filepath.Join(otherDir, "onramp")); got != DefaultBackupDir {
		t.Errorf("BackupDirFor(read-only payload on a plain disk) = %s, want %s", got, DefaultBackupDir)
	}
}
