//go:build linux

package installer

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/onramp-os/onramp/internal/exitcode"
	"github.com/onramp-os/onramp/internal/testutil"
)

func sampleExisting() *Existing {
	tm := time.Date(2022, 5, 6, 7, 8, 9, 0, time.UTC)
	return &Existing{Layout: 2, OSName: "Onramp OS", OSVersion: "12.1.0",
		Settings: Files{
			"app":          {Mode: fs.ModeDir | 0o750, ModTime: tm},
			"app/x.ini":    {Data: []byte("x=1"), Mode: 0o640, ModTime: tm},
			"empty":        {Mode: fs.ModeDir | fs.ModeSticky | 0o777, ModTime: tm},
			"zero":         {Mode: 0o600, ModTime: tm},
			"current":      {Mode: fs.ModeSymlink | 0o777, Target: "app/x.ini"},
			"run/suid.bin": {Data: []byte("#!"), Mode: fs.ModeSetuid | 0o755, ModTime: tm},
			"run":          {Mode: fs.ModeDir | 0o755, ModTime: tm},
		},
		Licenses: Files{"a.lic": {Data: []byte("A"), Mode: 0o400, ModTime: tm}}}
}

// TestBackupRoundTrip: every entry comes back from the archive as it was;
// a header changed behind backup.json's back is caught.
func TestBackupRoundTrip(t *testing.T) {
	ex := sampleExisting()
	b, err := writeBackup(t.TempDir(), "/dev/sdx", ex, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if !sameFiles(b.Settings, ex.Settings) || !sameFiles(b.Licenses, ex.Licenses) {
		t.Fatalf("read back %v", b.Settings)
	}
	if b.Meta.Settings != 4 || b.Meta.Licenses != 1 || len(b.Meta.Entries) != 8 {
		t.Errorf("meta %+v", b.Meta)
	}
	for name, edit := range map[string]func(h *tar.Header){
		"mode":   func(h *tar.Header) { h.Mode = 0o777 },
		"time":   func(h *tar.Header) { h.ModTime = h.ModTime.Add(time.Hour) },
		"target": func(h *tar.Header) { h.Linkname = "/etc/shadow" },
	} {
		bad := rewriteTar(t, b.Path, func(h *tar.Header) {
			if (name == "target") == (h.Typeflag == tar.TypeSymlink) && strings.HasPrefix(h.Name, "settings/") {
				edit(h)
			}
		})
		if _, err := ReadBackup(context.Background(), bad); exitcode.KindOf(err) != exitcode.VerifyFailed {
			t.Errorf("%s changed: %v", name, err)
		}
	}
}

// rewriteTar copies the archive at p, letting edit change each header.
func rewriteTar(t *testing.T, p string, edit func(*tar.Header)) string {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out bytes.Buffer
	tr, tw := tar.NewReader(f), tar.NewWriter(&out)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(tr)
		edit(h)
		tw.WriteHeader(h)
		tw.Write(data)
	}
	tw.Close()
	dst := filepath.Join(t.TempDir(), "edited.tar")
	os.WriteFile(dst, out.Bytes(), 0o600)
	return dst
}

// TestBackupWithoutEntries: archives written before entries were recorded
// (regular files, SHA256SUMS and backup.json only) still restore.
func TestBackupWithoutEntries(t *testing.T) {
	var out bytes.Buffer
	tw := tar.NewWriter(&out)
	var sums strings.Builder
	add := func(name, data string) {
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: int64(len(data)), ModTime: time.Now(), Typeflag: tar.TypeReg})
		tw.Write([]byte(data))
		s := sha256.Sum256([]byte(data))
		fmt.Fprintf(&sums, "%s  %s\n", hex.EncodeToString(s[:]), name)
	}
	add("settings/a.ini", "A")
	add("licenses/l.lic", "L")
	add(backupMeta, `{"layout_version":2,"settings":1,"licenses":1}`)
	tw.WriteHeader(&tar.Header{Name: backupSums, Mode: 0o600, Size: int64(sums.Len()), Typeflag: tar.TypeReg})
	tw.Write([]byte(sums.String()))
	tw.Close()
	p := filepath.Join(t.TempDir(), "old.tar")
	os.WriteFile(p, out.Bytes(), 0o600)
	b, err := ReadBackup(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if string(b.Settings["a.ini"].Data) != "A" || string(b.Licenses["l.lic"].Data) != "L" || !b.Settings["a.ini"].ModTime.IsZero() {
		t.Errorf("%+v", b)
	}
}

// TestStageRefusesPathsBelowLinks: a crafted backup cannot make staging
// write through a link out of the staging directory.
func TestStageRefusesPathsBelowLinks(t *testing.T) {
	outside := t.TempDir()
	err := stageFiles(t.TempDir(), Files{"l": {Mode: fs.ModeSymlink | 0o777, Target: outside}, "l/x": {Data: []byte("x"), Mode: 0o600}})
	if err == nil {
		t.Fatal("staged a file below a link")
	}
	if _, err := os.Stat(filepath.Join(outside, "x")); err == nil {
		t.Error("a file was written outside the staging directory")
	}
}

// TestSparseBackupRefused: a 20 kB archive of four sparse 1 GiB files (GNU
// tar, POSIX format, as issue 22 A3 made it) is refused from its headers:
// nothing near the 4 GiB it claims is allocated or read (before: 6.4 GB
// and 34 s, then "no SHA256SUMS").
func TestSparseBackupRefused(t *testing.T) {
	archive := sparseArchive(t)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := ReadBackup(context.Background(), archive)
	runtime.ReadMemStats(&after)
	if exitcode.KindOf(err) != exitcode.VerifyFailed || !strings.Contains(err.Error(), "more than 256 MiB") {
		t.Errorf("got %v", err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
		t.Errorf("allocated %d bytes for a 20 kB archive", alloc)
	}
}

// sparseArchive makes the archive of issue 22 A3 with GNU tar: four sparse
// files of 1 GiB in settings/, 20 kB in all.
func sparseArchive(t testing.TB) string {
	t.Helper()
	testutil.RequireTools(t, "tar", "truncate")
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	if err := os.MkdirAll(filepath.Join(src, "settings"), 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		testutil.Run(t, "truncate", "-s", "1G", filepath.Join(src, "settings", fmt.Sprintf("f%d", i)))
	}
	archive := filepath.Join(dir, "sparse.tar")
	testutil.Run(t, "tar", "--sparse", "--format=posix", "-C", src, "-cf", archive, "settings")
	if fi, err := os.Stat(archive); err != nil || fi.Size() > 64<<10 {
		t.Fatalf("archive: %v", err)
	}
	return archive
}

// TestBackupChecksumListFirst: an archive whose SHA256SUMS comes last and
// does not list a large file is refused before that file is read; one
// without SHA256SUMS says so without reading its contents.
func TestBackupChecksumListFirst(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, entries ...string) string {
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		for i := 0; i < len(entries); i += 2 {
			if err := tw.WriteHeader(&tar.Header{Name: entries[i], Mode: 0o600, Size: int64(len(entries[i+1])), Typeflag: tar.TypeReg}); err != nil {
				t.Fatal(err)
			}
			if _, err := tw.Write([]byte(entries[i+1])); err != nil {
				t.Fatal(err)
			}
		}
		if err := tw.Close(); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, buf.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	meta := `{"layout_version":2}`
	sum := sha256.Sum256([]byte(meta))
	big := strings.Repeat("x", 1<<20)
	for p, want := range map[string]string{
		write("unlisted.tar", "settings/big", big, backupMeta, meta, backupSums, hex.EncodeToString(sum[:])+"  "+backupMeta+"\n"): "settings/big is not in SHA256SUMS",
		write("nosums.tar", "settings/big", big, backupMeta, meta):                                                                "no SHA256SUMS",
	} {
		_, err := ReadBackup(context.Background(), p)
		if exitcode.KindOf(err) != exitcode.VerifyFailed || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", filepath.Base(p), err, want)
		}
	}
	ok := write("ok.tar", backupMeta, meta, backupSums, hex.EncodeToString(sum[:])+"  "+backupMeta+"\n")
	if _, err := ReadBackup(context.Background(), ok); err != nil {
		t.Errorf("ok.tar: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ReadBackup(ctx, ok); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

// TestBackupFIFORefused: a FIFO given as the backup is refused at once as
// a usage error naming it, not waited on.
func TestBackupFIFORefused(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "backup.tar")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := ReadBackup(context.Background(), fifo); done <- err }()
	select {
	case err := <-done:
		if exitcode.KindOf(err) != exitcode.Usage || !strings.Contains(err.Error(), "a FIFO") {
			t.Errorf("got %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("still blocked on the FIFO after 10 s")
	}
}

// FuzzReadBackup: whatever the archive, ReadBackup returns a backup whose
// every file is in SHA256SUMS or an error of kind VerifyFailed, never
// panics and never reads more than it bounds. Seeds: a real backup, the
// sparse archive of issue 22 A3, and one without SHA256SUMS.
func FuzzReadBackup(f *testing.F) {
	good, err := writeBackup(f.TempDir(), "/dev/sdx", sampleExisting(), time.Now())
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range []string{good.Path, sparseArchive(f)} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	_ = tw.WriteHeader(&tar.Header{Name: "settings/x", Mode: 0o600, Size: 1, Typeflag: tar.TypeReg})
	_, _ = tw.Write([]byte("x"))
	_ = tw.Close()
	f.Add(buf.Bytes())
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, archive []byte) {
		p := filepath.Join(dir, "backup.tar")
		if err := os.WriteFile(p, archive, 0o600); err != nil {
			t.Fatal(err)
		}
		b, err := ReadBackup(context.Background(), p)
		if err != nil {
			if exitcode.KindOf(err) != exitcode.VerifyFailed {
				t.Fatalf("error of kind %v: %v", exitcode.KindOf(err), err)
			}
			return
		}
		var total int
		for _, files := range []Files{b.Settings, b.Licenses} {
			for _, e := range files {
				total += len(e.Data)
			}
		}
		if total > maxBackupTotal {
			t.Fatalf("%d bytes read back", total)
		}
	})
}
