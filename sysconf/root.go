package sysconf

import (
	"os"
	"path/filepath"
	"strings"

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
	return filepath.Join(r.dir(), filepath.FromSlash(p))
}

// write and read go through an os.Root: a symbolic link inside an offline
// root (ROOT/etc pointing elsewhere) never leads outside it.
func (r Root) write(p string, data []byte, perm os.FileMode) error {
	return atomicfile.WriteFileIn(r.dir(), p, data, perm)
}

func (r Root) read(p string) ([]byte, error) {
	root, err := os.OpenRoot(r.dir())
	if err != nil {
		return nil, err
	}
	defer root.Close()
	return root.ReadFile(strings.TrimPrefix(filepath.Clean("/"+p), "/"))
}

func (r Root) dir() string {
	if r.Dir == "" {
		return "/"
	}
	return r.Dir
}
