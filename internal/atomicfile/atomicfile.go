// Package atomicfile replaces files so that a reader (or a power cut) sees
// either the old content or the new one, never a mix: the data goes to a
// temporary file in the same directory, is synced, renamed over the target,
// and the directory is synced. It is not a general file-system helper.
package atomicfile

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
)

// WriteFile writes data to path atomically with mode perm, creating the
// parent directories (0755) as needed. The temporary file gets perm before
// any data is written, so a secret is never readable by others, not even
// for a moment.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	root, name, err := splitAbs(path)
	if err != nil {
		return err
	}
	return WriteFileIn(root, name, data, perm)
}

// splitAbs makes path absolute and splits it into the root of its volume
// ("/"; "C:\" on Windows) and the rest.
func splitAbs(path string) (root, name string, err error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", "", err
	}
	vol := filepath.VolumeName(abs)
	return vol + string(filepath.Separator), abs[len(vol):], nil
}

// WriteFileIn is WriteFile for name inside the directory tree root: every
// step (the parents, the temporary file, the rename) goes through an
// os.Root, so a symbolic link in the tree (ROOT/etc pointing elsewhere)
// can never lead a write outside it.
func WriteFileIn(root, name string, data []byte, perm os.FileMode) (err error) {
	r, rel, err := open(root, name)
	if err != nil {
		return err
	}
	defer r.Close()
	dir := filepath.Dir(rel)
	if err := r.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, tmp, err := createTemp(r, rel)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = r.Remove(tmp)
		}
	}()
	if err = f.Chmod(perm); err != nil {
		return err
	}
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = r.Rename(tmp, rel); err != nil {
		return err
	}
	return syncDir(r, dir)
}

// Symlink makes path a symbolic link to target atomically: a link under a
// temporary name is renamed over whatever path was (file or link).
func Symlink(target, path string) error {
	root, name, err := splitAbs(path)
	if err != nil {
		return err
	}
	return SymlinkIn(root, target, name)
}

// SymlinkIn is Symlink for name inside the directory tree root, confined
// like WriteFileIn.
func SymlinkIn(root, target, name string) error {
	r, rel, err := open(root, name)
	if err != nil {
		return err
	}
	defer r.Close()
	dir := filepath.Dir(rel)
	if err := r.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for i := 0; ; i++ {
		tmp := filepath.Join(dir, fmt.Sprintf(".%s.tmp-%d-%d", filepath.Base(rel), os.Getpid(), i))
		err := r.Symlink(target, tmp)
		if os.IsExist(err) {
			continue
		}
		if err != nil {
			return err
		}
		if err := r.Rename(tmp, rel); err != nil {
			_ = r.Remove(tmp)
			return err
		}
		return syncDir(r, dir)
	}
}

// open opens root and makes name relative to it ("/etc/x" and "etc/x"
// name the same file).
func open(root, name string) (*os.Root, string, error) {
	if root == "" {
		root = "/"
	}
	r, err := os.OpenRoot(root)
	if err != nil {
		return nil, "", err
	}
	rel := strings.TrimPrefix(path.Clean("/"+filepath.ToSlash(name)), "/")
	if rel == "" {
		r.Close()
		return nil, "", fmt.Errorf("%s: not a file name", name)
	}
	return r, filepath.FromSlash(rel), nil
}

// createTemp creates a new, empty file beside rel with a random name.
func createTemp(r *os.Root, rel string) (*os.File, string, error) {
	for {
		tmp := filepath.Join(filepath.Dir(rel), "."+filepath.Base(rel)+".tmp-"+strconv.FormatUint(rand.Uint64(), 36))
		f, err := r.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if os.IsExist(err) {
			continue
		}
		return f, tmp, err
	}
}

func syncDir(r *os.Root, dir string) error {
	d, err := r.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	// Some file systems cannot sync a directory; the rename is done anyway.
	_ = d.Sync()
	return nil
}
