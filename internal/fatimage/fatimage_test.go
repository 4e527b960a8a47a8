package fatimage

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onramp-os/onramp/internal/testutil"
)

// TestTreeOnImage formats a FAT file system in the middle of an image file,
// copies a nested tree in, and lets fsck.fat and mtools judge the result.
func TestTreeOnImage(t *testing.T) {
	testutil.RequireTools(t, "mkfs.fat", "mcopy", "mtype", "fsck.fat")
	ctx := context.Background()
	tree, err := NewTree()
	if err != nil {
		t.Fatal(err)
	}
	defer tree.Remove()
	files := map[string]string{"EFI/BOOT/BOOTX64.EFI": "loader", "loader/loader.conf": "timeout 5\n", "top.txt": "top"}
	for name, content := range files {
		if err := tree.Add(name, strings.NewReader(content)); err != nil {
			t.Fatal(err)
		}
	}
	if tree.Files() != 3 || tree.Bytes() != int64(len("loader")+len("timeout 5\n")+len("top")) {
		t.Errorf("tree: %d files, %d bytes", tree.Files(), tree.Bytes())
	}
	img := filepath.Join(t.TempDir(), "disk.img")
	const off, size = 1 << 20, 4 << 20
	if err := os.WriteFile(img, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, off+size); err != nil {
		t.Fatal(err)
	}
	if err := Format(ctx, img, off, size, "-n", "TEST"); err != nil {
		t.Fatal(err)
	}
	if err := tree.CopyTo(ctx, img, off); err != nil {
		t.Fatal(err)
	}
	part := filepath.Join(t.TempDir(), "part.img")
	testutil.Run(t, "dd", "if="+img, "of="+part, "bs=1M", "skip=1", "status=none")
	testutil.Run(t, "fsck.fat", "-n", part)
	for name, want := range files {
		cmd := exec.Command("mtype", "-i", part, "::/"+name)
		cmd.Env = append(os.Environ(), "MTOOLS_SKIP_CHECK=1")
		got, err := cmd.Output()
		if err != nil || string(got) != want {
			t.Errorf("%s: %q, %v; want %q", name, got, err, want)
		}
	}
	if err := Format(ctx, img, 100, size); err == nil || !strings.Contains(err.Error(), "multiple") {
		t.Errorf("unaligned offset: %v", err)
	}
	if err := Format(ctx, filepath.Join(t.TempDir(), "missing"), 0, size); err == nil || !strings.Contains(err.Error(), "mkfs.fat") {
		t.Errorf("missing image: %v", err)
	}
}
