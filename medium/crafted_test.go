//go:build linux

package medium

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestCraftedInstallerISO: the installer ISO of osc image build with the
// damage of issue 22 A1 (a logical block size of 0, a zeroed root
// directory record, a path table or root directory claiming 0xfffffff0
// bytes) is an invalid image for osc image inspect and osc install
// --source: exit 5, no stack trace, the target untouched. Before, the
// first two panicked inside go-diskfs (the hybrid MBR in the system area
// read as a path table and as a directory record) and the other two
// allocated 4 GiB.
func TestCraftedInstallerISO(t *testing.T) {
	requireBuildTools(t)
	f := samplePayload(t, Standard)
	dir := t.TempDir()
	iso := filepath.Join(dir, "osc.iso")
	if _, err := f.build(t, iso, Options{}); err != nil {
		t.Fatal(err)
	}
	if code, out := runOsc(t, "image", "inspect", "--trust-key", f.pubFile, iso); code != 0 {
		t.Fatalf("the intact ISO: exit %d\n%s", code, out)
	}
	good, err := os.ReadFile(iso)
	if err != nil {
		t.Fatal(err)
	}
	huge := []byte{0xf0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xf0} // both-endian 0xfffffff0
	const pvd = 16 * 2048
	for _, c := range []struct {
		name string
		off  int
		b    []byte
	}{
		{"block size 0", pvd + 128, make([]byte, 4)},
		{"root record zeroed", pvd + 158, make([]byte, 8)},
		{"path table 0xfffffff0", pvd + 132, huge},
		{"root directory 0xfffffff0", pvd + 156 + 10, huge},
	} {
		t.Run(c.name, func(t *testing.T) {
			bad := bytes.Clone(good)
			copy(bad[c.off:], c.b)
			p := filepath.Join(t.TempDir(), "crafted.iso")
			if err := os.WriteFile(p, bad, 0o644); err != nil {
				t.Fatal(err)
			}
			code, out := runOsc(t, "image", "inspect", "--trust-key", f.pubFile, p)
			checkInvalidImage(t, "image inspect", code, out)
			target := filepath.Join(t.TempDir(), "disk.img")
			if err := os.WriteFile(target, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(target, 16<<30); err != nil {
				t.Fatal(err)
			}
			code, out = runOsc(t, "install", "--yes", "--accept-eula", "--trust-key", f.pubFile, "--source", p, "--target", target)
			checkInvalidImage(t, "install", code, out)
			if fi, err := os.Stat(target); err != nil || fi.Size() != 16<<30 {
				t.Fatalf("target: %v", err)
			}
			if blocks := diskBlocks(t, target); blocks != 0 {
				t.Errorf("install wrote %d blocks to the target", blocks)
			}
		})
	}
}

func checkInvalidImage(t *testing.T, what string, code int, out string) {
	t.Helper()
	if code != 5 || !strings.Contains(out, "valid ISO 9660 image") || strings.Contains(out, "goroutine") || strings.Contains(out, "panic") {
		if len(out) > 2000 {
			out = out[:2000]
		}
		t.Errorf("osc %s: exit %d, want 5 and an invalid image:\n%s", what, code, out)
	}
}

// diskBlocks is the number of 512-byte blocks a sparse file has on disk.
func diskBlocks(t *testing.T, p string) int64 {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(p, &st); err != nil {
		t.Fatal(err)
	}
	return st.Blocks
}
