package testutil

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

// RequireScreenSize fails t unless view is exactly h lines of at most w
// cells each: a screen that fits the terminal it was drawn for.
func RequireScreenSize(t *testing.T, view string, w, h int) {
	t.Helper()
	lines := strings.Split(view, "\n")
	if len(lines) != h {
		t.Errorf("screen has %d lines, want %d:\n%s", len(lines), h, view)
	}
	for i, l := range lines {
		if n := ansi.StringWidth(l); n > w {
			t.Errorf("line %d is %d cells wide, more than %d: %q", i+1, n, w, l)
		}
	}
}
