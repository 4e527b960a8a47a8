package sysconf

import (
	"os"
	"path/filepath"

	"github.com/onramp-os/onramp/internal/atomicfile"
)

// Root is the file system tree a configuration is written into: "/" on the
// running system, any directory for an offline root or a demo.
type Root struct {
	Dir string
}

// Path is the absolute path of p (written as on the installed system,
// "/etc/locale.conf") inside the root.
func (r Root) Path(p string) string {
	dir := r.Dir
	if dir == "" {
		dir = "/"
	}
	return filepath.Join(dir, filepath.FromSlash(p))
}

func (r Root) write(p string, data []byte, perm os.FileMode) error {
	return atomicfile.WriteFile(r.Path(p), data, perm)
}

func (r Root) read(p string) ([]byte, error) {
	return os.ReadFile(r.Path(p))
}
