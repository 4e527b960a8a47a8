//go:build linux

package installer

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/onramp-os/onramp/images"
	"github.com/onramp-os/onramp/internal/testutil"
)

// mkfsFAT formats a new image file of size bytes with mkfs.fat and the
// given options and returns its path.
func mkfsFAT(t testing.TB, size int64, args ...string) string {
	t.Helper()
	testutil.RequireTools(t, "mkfs.fat")
	p := filepath.Join(t.TempDir(), "fat.img")
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(p, size); err != nil {
		t.Fatal(err)
	}
	testutil.Run(t, "mkfs.fat", append(args, p)...)
	return p
}

// TestCheckFATAcceptsMkfs: what mkfs.fat makes, FAT12 to FAT32, small
// and large clusters, sectors of 512 and 4096 bytes, passes the check.
func TestCheckFATAcceptsMkfs(t *testing.T) {
	for _, c := range []struct {
		size int64
		args []string
	}{
		{1 << 20, nil},
		{16 << 20, []string{"-F", "16"}},
		{33 << 20, []string{"-F", "32", "-s", "1"}},
		{64 << 20, []string{"-F", "32", "-s", "1", "-S", "512"}},
		{260 << 20, []string{"-F", "32"}},
		{512 << 20, []string{"-F", "32", "-S", "4096"}},
		{2 << 30, []string{"-F", "32", "-s", "8"}},
		{3 << 30, nil},
	} {
		p := mkfsFAT(t, c.size, c.args...)
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := checkFAT(f, 0, c.size); err != nil {
			t.Errorf("%d bytes %v: %v", c.size, c.args, err)
		}
		f.Close()
	}
}

// TestCheckFATRefuses: a boot sector with counts beyond its partition,
// outside what the specification allows, or a table whose chain loops is
// refused, reading no more than the partition.
func TestCheckFATRefuses(t *testing.T) {
	const size = 64 << 20
	good, err := os.ReadFile(mkfsFAT(t, size, "-F", "32", "-s", "1", "-S", "512"))
	if err != nil {
		t.Fatal(err)
	}
	reserved := int64(binary.LittleEndian.Uint16(good[14:]))
	le32 := func(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
	for _, c := range []struct {
		name string
		off  int64
		b    []byte
		want string
	}{
		{"0x7fffffff sectors per FAT", 36, le32(0x7fffffff), "sectors per FAT"},
		{"twice the sectors per FAT", 36, le32(2*binary.LittleEndian.Uint32(good[36:]) + 64), "sectors per FAT"},
		{"0 bytes per sector", 11, []byte{0, 0}, "bytes per sector"},
		{"3 sectors per cluster", 13, []byte{3}, "sectors per cluster"},
		{"no FATs", 16, []byte{0}, "FATs"},
		{"more sectors than the partition", 32, le32(1 << 30), "the partition has"},
		{"no signature", 510, []byte{0, 0}, "signature"},
		{"cluster 3 points to itself", reserved*512 + 3*4, le32(3), "loops"},
		{"clusters 5, 6, 7 loop", reserved*512 + 5*4, append(append(le32(6), le32(7)...), le32(5)...), "loops"},
	} {
		bad := bytes.Clone(good)
		copy(bad[c.off:], c.b)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		err := checkFAT(bytes.NewReader(bad), 0, size)
		runtime.ReadMemStats(&after)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20 {
			t.Errorf("%s: allocated %d bytes", c.name, alloc)
		}
	}
}

// damageFAT writes 0x7fffffff sectors per FAT into the FAT32 boot sector
// at off of the image p (issue 22 A2).
func damageFAT(t testing.TB, p string, off int64) {
	t.Helper()
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(binary.LittleEndian.AppendUint32(nil, 0x7fffffff), off+36); err != nil {
		t.Fatal(err)
	}
}

// TestInspectDamagedESP: an installed target whose ESP claims 0x7fffffff
// sectors per FAT is inspected at once, with the ESP named as damaged
// (before: 58 s and 12.6 GB in go-diskfs, then the layout reported fine).
func TestInspectDamagedESP(t *testing.T) {
	testutil.RequireRoot(t)
	img := sparseFile(t, 8<<30)
	res, err := install(t, img, testPayload(t, 1<<20), No, No)
	if err != nil {
		t.Fatal(err)
	}
	damageFAT(t, img, res.Layout.Part(LabelESP).Start)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	in, err := Inspect(img)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if d := in.Existing.Damaged; len(d) != 1 || !strings.Contains(d[0], LabelESP) || !strings.Contains(d[0], "sectors per FAT") {
		t.Errorf("damaged: %q", d)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 256<<20 {
		t.Errorf("inspect allocated %d bytes", alloc)
	}
}

// TestCheckWriteTargetDamagedBackupPartition: osc write's check of an
// installer stick whose OSC-BACKUP partition claims 0x7fffffff sectors per
// FAT warns that it cannot be read, without the allocation.
func TestCheckWriteTargetDamagedBackupPartition(t *testing.T) {
	testutil.RequireTools(t, "sgdisk", "mkfs.fat")
	dir := t.TempDir()
	stick := filepath.Join(dir, "stick.img")
	if err := os.WriteFile(stick, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(stick, 256<<20); err != nil {
		t.Fatal(err)
	}
	testutil.Run(t, "sgdisk", "-n", "1:2048:+64M", "-c", "1:"+BackupLabel, stick)
	testutil.Run(t, "mkfs.fat", "-F", "32", "-s", "1", "-S", "512", "--offset", "2048", stick, fmt.Sprint(64<<10))
	damageFAT(t, stick, 2048*512)
	n, err := stickBackups(stick, nil)
	if n != 0 || !errors.Is(err, errDamagedFAT) {
		t.Errorf("stickBackups: %d, %v", n, err)
	}
	image := filepath.Join(dir, "new.img")
	if err := os.WriteFile(image, make([]byte, 1<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	src, err := images.Inspect(image)
	if err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	c, err := CheckWriteTarget(src, stick, false)
	runtime.ReadMemStats(&after)
	if err != nil || len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], "partition osc cannot read") || !strings.Contains(c.Warnings[0], "sectors per FAT") {
		t.Errorf("CheckWriteTarget: %+v, %v", c, err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
		t.Errorf("the check allocated %d bytes", alloc)
	}
}

// memFAT is an image in memory, as openFAT reads it.
type memFAT struct{ *bytes.Reader }

func (memFAT) Stat() (fs.FileInfo, error) { return nil, errors.New("no file info") }
func (memFAT) Close() error               { return nil }

// FuzzReadFAT: whatever the image, reading it as osc reads an ESP or
// OSC-BACKUP (the check, go-diskfs behind the guard, the directories and
// files osc reads) returns or fails, never panics, loops or allocates
// beyond the image. The fuzzed bytes are the image's first 64 KiB (boot
// sector, both FATs, root directory, the first clusters), the rest zeros:
// the fuzzer crawls on inputs of megabytes.
func FuzzReadFAT(f *testing.F) {
	testutil.RequireTools(f, "mkfs.fat", "mmd", "mcopy")
	const size = 4200 * 512 // the smallest FAT16
	const head = 64 << 10
	p := mkfsFAT(f, size, "-F", "16", "-s", "1")
	f.Setenv("MTOOLS_SKIP_CHECK", "1")
	testutil.Run(f, "mmd", "-i", p, "::/licenses", "::/"+backupsDir, "::/onramp")
	lic := filepath.Join(f.TempDir(), "a.lic")
	if err := os.WriteFile(lic, []byte("LICENSE"), 0o600); err != nil {
		f.Fatal(err)
	}
	testutil.Run(f, "mcopy", "-i", p, lic, "::/licenses/")
	testutil.Run(f, "mcopy", "-i", p, lic, "::/"+releaseFile)
	good, err := os.ReadFile(p)
	if err != nil {
		f.Fatal(err)
	}
	if len(bytes.TrimRight(good[head:], "\x00")) != 0 {
		f.Fatal("the seed image has data past its first 64 KiB")
	}
	f.Add(good[:head])
	bad := bytes.Clone(good[:head])
	copy(bad[22:], []byte{0xff, 0xff}) // 65535 sectors per FAT
	f.Add(bad)
	f.Fuzz(func(t *testing.T, start []byte) {
		img := make([]byte, size)
		copy(img, start)
		fsys, err := openFAT(memFAT{bytes.NewReader(img)}, 0, int64(len(img)), 512)
		if err != nil {
			return
		}
		_, _ = readFATDir(fsys.fs, "licenses", ".lic")
		_, _ = fsys.fs.ReadDir(backupsDir)
		if r, err := fsys.fs.Open(releaseFile); err == nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(r, int64(len(img))))
			r.Close()
		}
	})
}
