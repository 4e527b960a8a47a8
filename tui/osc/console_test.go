package osc

import (
	"strings"
	"testing"
	"unicode"
)

// TestConsoleScreensAreASCII renders the screens of the golden tests' kind
// with the console theme: nothing outside ASCII reaches the screen.
func TestConsoleScreensAreASCII(t *testing.T) {
	for _, m := range everyState(t) {
		view := m.View()
		if i := strings.IndexFunc(view, func(r rune) bool { return r > unicode.MaxASCII }); i >= 0 {
			t.Fatalf("non-ASCII %q on a console screen:\n%s", []rune(view[i:])[0], view)
		}
	}
}
