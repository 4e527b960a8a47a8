package atomicfile

import (
	"os"
	"path/filepath"
	"testing"
)

func TestWriteFileReplacesAndKeepsMode(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a", "b", "secret")
	if err := WriteFile(p, []byte("one"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(p, []byte("two"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(p)
	if err != nil || string(got) != "two" {
		t.Fatalf("content %q, %v", got, err)
	}
	st, _ := os.Stat(p)
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", st.Mode().Perm())
	}
	ents, _ := os.ReadDir(filepath.Dir(p))
	if len(ents) != 1 {
		t.Errorf("temporary files left behind: %v", ents)
	}
}

func TestSymlinkReplacesFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "etc", "localtime")
	if err := WriteFile(p, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Symlink("../usr/share/zoneinfo/UTC", p); err != nil {
		t.Fatal(err)
	}
	if err := Symlink("../usr/share/zoneinfo/Europe/Berlin", p); err != nil {
		t.Fatal(err)
	}
	got, err := os.Readlink(p)
	if err != nil || got != "../usr/share/zoneinfo/Europe/Berlin" {
		t.Fatalf("link %q, %v", got, err)
	}
}

func TestWriteFileFailsInUnwritableDir(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "file")
	if err := os.WriteFile(f, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(filepath.Join(f, "x"), []byte("x"), 0o644); err == nil {
		t.Fatal("writing below a regular file succeeded")
	}
}
