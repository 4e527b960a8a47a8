//go:build linux

package support

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func setLimit[T any](t *testing.T, v *T, to T) {
	old := *v
	*v = to
	t.Cleanup(func() { *v = old })
}

// TestCommandBounds: a command's output is cut at CommandCap and a command
// that hangs is stopped after CommandTimeout; both are said in the note.
func TestCommandBounds(t *testing.T) {
	setLimit(t, &CommandCap, 1000)
	it := command(context.Background(), "x", "sh", "-c", "head -c 5000 /dev/zero")
	if len(it.data) != 1000 || !strings.Contains(it.note, "cut at 1000 bytes (4000 more)") {
		t.Errorf("%d bytes, note %q", len(it.data), it.note)
	}
	setLimit(t, &CommandTimeout, 200*time.Millisecond)
	start := time.Now()
	it = command(context.Background(), "x", "sh", "-c", "echo started; exec sleep 30")
	if time.Since(start) > 5*time.Second || !strings.Contains(it.note, "stopped after 200ms") || string(it.data) != "started\n" {
		t.Errorf("after %s: %q, note %q", time.Since(start), it.data, it.note)
	}
	it = command(context.Background(), "x", "no-such-program-onramp")
	if it.name != "" || it.note != "no-such-program-onramp is not installed" {
		t.Errorf("%+v", it)
	}
}

// TestFilesStayInRoot: a link out of the root, a FIFO and a file larger
// than FileCap are collected safely: not followed, not opened, cut.
func TestFilesStayInRoot(t *testing.T) {
	root := t.TempDir()
	outside := filepath.Join(t.TempDir(), "host-secret")
	if err := os.WriteFile(outside, []byte("HOST-ONLY-CONTENT"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "etc/systemd/network"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(root, "etc/resolv.conf")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../../../../../../../../"+outside, filepath.Join(root, "etc/hostname")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(root, "etc/os-release"), 0o644); err != nil {
		t.Fatal(err)
	}
	// An absolute link inside the root is read from the root, as a
	// chroot would (systemd-resolved's /etc/resolv.conf link).
	if err := os.MkdirAll(filepath.Join(root, "run/systemd/resolve"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "run/systemd/resolve/stub-resolv.conf"), []byte("nameserver 127.0.0.53\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/run/systemd/resolve/stub-resolv.conf", filepath.Join(root, "etc/locale.conf")); err != nil {
		t.Fatal(err)
	}
	setLimit(t, &FileCap, 10)
	if err := os.WriteFile(filepath.Join(root, "etc/systemd/network/big.network"), []byte(strings.Repeat("x", 100)), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := os.OpenRoot(root)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, glob := range []string{"etc/resolv.conf", "etc/hostname", "etc/os-release"} {
		for _, it := range rootFiles(r, glob) {
			if it.name != "" || strings.Contains(string(it.data), "HOST-ONLY") || it.note == "" {
				t.Errorf("%s: %+v", glob, it)
			}
		}
	}
	if it := rootFiles(r, "etc/locale.conf"); len(it) != 1 || string(it[0].data) != "nameserver" {
		t.Errorf("absolute link in the root: %+v", it)
	}
	big := rootFiles(r, "etc/systemd/network/*.network")
	if len(big) != 1 || len(big[0].data) != 10 || !strings.Contains(big[0].note, "cut at 10 bytes of 100") {
		t.Errorf("big file: %+v", big)
	}
}
