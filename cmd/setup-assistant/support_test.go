package main

import (
	"archive/zip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSupportFlag: --support FILE writes the same bundle as osc support,
// of --root, and exits without running the setup.
func TestSupportFlag(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "var/lib/onramp"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "var/lib/onramp/setup-state.json"), []byte(`{"version":1,"step":"onboarding"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "s.zip")
	code, stdout, stderr := runCLI(t, "--root", root, "--support", out)
	if code != 0 || !strings.Contains(stdout, "saved to "+out) {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	zr, err := zip.OpenReader(out)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var state, manifest bool
	for _, f := range zr.File {
		state = state || f.Name == "files/var/lib/onramp/setup-state.json"
		manifest = manifest || f.Name == "manifest.json"
	}
	if !state || !manifest {
		t.Errorf("bundle lacks the state or the manifest")
	}
	if _, err := os.Stat(filepath.Join(root, "var/lib/onramp/setup.done")); err == nil {
		t.Error("--support ran the setup")
	}
}
