//go:build linux

package installer

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/onramp-os/onramp/internal/exitcode"
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
		if _, err := ReadBackup(bad); exitcode.KindOf(err) != exitcode.VerifyFailed {
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
	b, err := ReadBackup(p)
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
