//go:build linux

package main

import (
	"archive/zip"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSupportToFile: osc support --root DIR --to FILE writes a 0600 zip of
// that root's files and says where.
func TestSupportToFile(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc/wpa_supplicant"), 0o755); err != nil {
		t.Fatal(err)
	}
	conf := "network={\n\tssid=\"Office\"\n\tpsk=\"office-secret-42\"\n}\n"
	if err := os.WriteFile(filepath.Join(root, "etc/wpa_supplicant/wpa_supplicant-wlan0.conf"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	useFakeDisks(t, fakeSATA)
	out := filepath.Join(t.TempDir(), "support.zip")
	r := run(t, context.Background(), "", "support", "--root", root, "--to", out)
	if r.code != 0 || !strings.Contains(r.stdout, "saved to "+out) {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	fi, err := os.Stat(out)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("%s: %v, mode %v", out, err, fi.Mode().Perm())
	}
	zr, err := zip.OpenReader(out)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
	}
	if all := strings.Join(names, " "); !strings.Contains(all, "manifest.json") || !strings.Contains(all, "files/etc/wpa_supplicant/wpa_supplicant-wlan0.conf") {
		t.Errorf("entries %v", names)
	}
}

// TestSupportNoStick: --to auto without a removable drive writes nothing
// and exits 3 (refused, like an install whose target rule matches no
// disk); no --to is a usage error.
func TestSupportNoStick(t *testing.T) {
	useFakeDisks(t, fakeSATA)
	dir := t.TempDir()
	t.Chdir(dir)
	r := run(t, context.Background(), "", "support", "--root", t.TempDir(), "--to", "auto")
	if r.code != 3 || !strings.Contains(r.stderr, "no USB stick") {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("wrote %v", entries)
	}
	if r := run(t, context.Background(), "", "support"); r.code != 2 || !strings.Contains(r.stderr, "--to") {
		t.Errorf("no --to: exit %d\n%s", r.code, r.stderr)
	}
}
