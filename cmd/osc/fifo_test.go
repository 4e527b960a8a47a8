//go:build linux

package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestFIFOInputsRefused: a FIFO as --source, as --backup, or in a payload
// directory as manifest.json or initrd.img is refused at once with the
// exit code of its kind, naming it (before: osc blocked in open(2), deaf
// to SIGTERM).
func TestFIFOInputsRefused(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(dir, "disk.img")
	if err := os.WriteFile(target, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(target, 16<<30); err != nil {
		t.Fatal(err)
	}
	payloadWith := func(name string) (string, string) {
		p, pub := signedPayload(t)
		if err := os.Remove(filepath.Join(p, name)); err != nil {
			t.Fatal(err)
		}
		if err := syscall.Mkfifo(filepath.Join(p, name), 0o600); err != nil {
			t.Fatal(err)
		}
		return p, pub
	}
	manifestFIFO, pub1 := payloadWith("manifest.json")
	initrdFIFO, pub2 := payloadWith("initrd.img")
	for _, c := range []struct {
		name string
		args []string
		code int
	}{
		{"image inspect FIFO", []string{"image", "inspect", fifo}, 5},
		{"install --source FIFO", []string{"install", "--yes", "--accept-eula", "--source", fifo, "--target", target}, 5},
		{"restore --backup FIFO", []string{"restore", "--backup", fifo, "--target", target}, 2},
		{"manifest.json FIFO", []string{"image", "inspect", "--trust-key", pub1, manifestFIFO}, 5},
		{"initrd.img FIFO", []string{"install", "--yes", "--accept-eula", "--trust-key", pub2, "--source", initrdFIFO, "--target", target}, 5},
	} {
		done := make(chan runResult, 1)
		go func() { done <- run(t, context.Background(), "", c.args...) }()
		select {
		case r := <-done:
			if r.code != c.code || !strings.Contains(r.stdout+r.stderr, "is a FIFO: not a regular file") {
				t.Errorf("%s: exit %d, want %d naming the FIFO\n%s%s", c.name, r.code, c.code, r.stdout, r.stderr)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("%s: still blocked after 20 s", c.name)
		}
	}
}
