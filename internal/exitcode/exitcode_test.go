package exitcode

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

// TestCodeMap holds the exit codes of DESIGN.md: scripts depend on them.
func TestCodeMap(t *testing.T) {
	want := map[Kind]int{OK: 0, Failure: 1, Usage: 2, Refused: 3, VerifyFailed: 4, ImageInvalid: 5, Aborted: 130}
	for k, code := range want {
		if got := k.Code(); got != code {
			t.Errorf("%v.Code() = %d, want %d", k, got, code)
		}
	}
}

func TestKindOf(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{nil, 0},
		{errors.New("x"), 1},
		{New(Refused, "system disk"), 3},
		{fmt.Errorf("target /dev/sdb: %w", New(VerifyFailed, "mismatch")), 4},
		{fmt.Errorf("write: %w", context.Canceled), 130},
		{Wrap(ImageInvalid, errors.New("bad magic")), 5},
	}
	for _, tt := range tests {
		if got := Code(tt.err); got != tt.want {
			t.Errorf("Code(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
	if Wrap(Refused, nil) != nil {
		t.Error("Wrap(nil) must stay nil")
	}
}
