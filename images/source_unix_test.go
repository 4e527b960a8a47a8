//go:build !windows

package images

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/onramp-os/onramp/internal/exitcode"
)

func TestInspectRejects(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.img")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{
		"fifo":      fifo, // must not block waiting for a writer
		"missing":   filepath.Join(dir, "nope.img"),
		"directory": dir,
		"empty":     fxWrite(t, filepath.Join(dir, "empty.img"), nil),
		"device":    "/dev/null",
	}
	for name, path := range cases {
		_, err := Inspect(path)
		if exitcode.Code(err) != 5 || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: Inspect(%s) = %v, want an image-invalid error naming it", name, path, err)
		}
	}
}
