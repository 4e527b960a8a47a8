// Package fatimage builds FAT file systems with the dosfstools and mtools
// programs: Format makes one with mkfs.fat at a byte offset of an image file
// or a disk, and a Tree of files staged in a temporary directory is copied
// into it with mcopy. go-diskfs' FAT writer is not used: its directories
// fail fsck.fat ("Invalid '..' entry"). Reading a FAT file system back is
// left to go-diskfs' reader; this package only writes.
package fatimage

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Tree is a set of files staged in a temporary directory, to be copied onto
// a FAT file system. Remove it when done.
type Tree struct {
	dir   string
	bytes int64
	files int
}

// NewTree creates an empty staging directory.
func NewTree() (*Tree, error) {
	dir, err := os.MkdirTemp("", "onramp-fat-")
	if err != nil {
		return nil, fmt.Errorf("staging FAT files: %w", err)
	}
	return &Tree{dir: dir}, nil
}

// Add stages the content of r as name, a slash-separated path on the file
// system; parent directories are created.
func (t *Tree) Add(name string, r io.Reader) error {
	dst := filepath.Join(t.dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fmt.Errorf("staging %s: %w", name, err)
	}
	out, err := os.Create(dst)
	if err != nil {
		return fmt.Errorf("staging %s: %w", name, err)
	}
	n, err := io.Copy(out, r)
	if err != nil {
		out.Close()
		return fmt.Errorf("staging %s: %w", name, err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("staging %s: %w", name, err)
	}
	t.bytes += n
	t.files++
	return nil
}

// Bytes is the total size of the files staged.
func (t *Tree) Bytes() int64 { return t.bytes }

// Files is the number of files staged.
func (t *Tree) Files() int { return t.files }

// Remove deletes the staging directory.
func (t *Tree) Remove() error { return os.RemoveAll(t.dir) }

// CopyTo copies the staged files into the root of the FAT file system at
// byte offset off of path.
func (t *Tree) CopyTo(ctx context.Context, path string, off int64) error {
	entries, err := os.ReadDir(t.dir)
	if err != nil {
		return fmt.Errorf("staging FAT files: %w", err)
	}
	if len(entries) == 0 {
		return nil
	}
	args := []string{"-s", "-Q", "-i", fmt.Sprintf("%s@@%d", path, off)}
	for _, e := range entries {
		args = append(args, filepath.Join(t.dir, e.Name()))
	}
	return run(ctx, []string{"MTOOLS_SKIP_CHECK=1"}, "mcopy", append(args, "::/")...)
}

// Format makes a FAT file system of size bytes at byte offset off of path
// (an existing file or device, both multiples of 512 bytes) with mkfs.fat,
// passing args (type, cluster size, label, ...) before the offset.
func Format(ctx context.Context, path string, off, size int64, args ...string) error {
	if off%512 != 0 || size%1024 != 0 {
		return fmt.Errorf("mkfs.fat %s: offset %d or size %d is not a multiple of 512 and 1024 bytes", path, off, size)
	}
	args = append(args, "--offset", fmt.Sprint(off/512), path, fmt.Sprint(size/1024))
	return run(ctx, nil, "mkfs.fat", args...)
}

// run runs an external program, its output going into the error.
func run(ctx context.Context, env []string, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %w: %s", name, err, strings.TrimSpace(string(out)))
	}
	return nil
}
