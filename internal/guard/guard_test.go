package guard

import (
	"errors"
	"io"
	"strings"
	"testing"
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
