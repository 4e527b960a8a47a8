package guard

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"
)

// TestCall: a panic is ErrPanicked naming it; an error passes through
// unchanged.
func TestCall(t *testing.T) {
	lo, hi := 33, 12
	err := Call(func() error {
		b := make([]byte, 84)
		_ = b[lo:hi]
		return nil
	})
	if !errors.Is(err, ErrPanicked) || !strings.Contains(err.Error(), "slice bounds out of range") {
		t.Errorf("panic: %v", err)
	}
	if err := Call(func() error { return io.EOF }); err != io.EOF {
		t.Errorf("error: %v", err)
	}
}

// panicFS is a file system whose reader panics, as a dependency's parser
// may on input no check foresaw.
type panicFS struct{}

func (panicFS) Open(string) (fs.File, error) {
	panic("runtime error: slice bounds out of range [33:12]")
}

// TestFS: a panic in Open or ReadDir is the error onPanic makes of it;
// a missing file's error passes unchanged.
func TestFS(t *testing.T) {
	invalid := func(err error) error { return fmt.Errorf("invalid image (%w)", err) }
	g := FS(panicFS{}, invalid)
	if _, err := g.Open("onramp/manifest.json"); err == nil || !strings.HasPrefix(err.Error(), "invalid image") || !strings.Contains(err.Error(), "[33:12]") {
		t.Errorf("Open: %v", err)
	}
	if _, err := g.ReadDir("onramp"); !errors.Is(err, ErrPanicked) {
		t.Errorf("ReadDir: %v", err)
	}
	if _, err := FS(fstest.MapFS{}, invalid).Open("x"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}
