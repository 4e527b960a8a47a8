package widget

import (
	"io"
	"testing"
	"unicode"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
)

// TestConsoleThemeIsASCII: every glyph of the console theme, its border
// and its spinner are ASCII, so the Linux console can draw them.
func TestConsoleThemeIsASCII(t *testing.T) {
	th := PlainTheme()
	b := th.Border
	glyphs := []string{th.Cursor, th.Done, th.Active, th.Pending, th.Skipped, th.Warn, th.Failed,
		th.BarFull, th.BarEmpty, th.StepSep, th.Ellipsis,
		b.Top, b.Bottom, b.Left, b.Right, b.TopLeft, b.TopRight, b.BottomLeft, b.BottomRight}
	glyphs = append(glyphs, th.Spinner.Frames...)
	for _, g := range glyphs {
		for _, r := range g {
			if r > unicode.MaxASCII {
				t.Errorf("console theme glyph %q is not ASCII", g)
			}
		}
	}
}

func TestDetectTheme(t *testing.T) {
	for _, tc := range []struct {
		term, colorterm, want string
	}{
		{"linux", "", "console"},
		{"xterm", "", "console"},
		{"xterm-256color", "", "modern"},
		{"xterm-256color", "truecolor", "modern"},
		{"linux", "truecolor", "console"},
	} {
		t.Setenv("TERM", tc.term)
		t.Setenv("COLORTERM", tc.colorterm)
		tty := lipgloss.NewRenderer(io.Discard, termenv.WithTTY(true))
		if got := themeFor(tty, tc.term).Name; got != tc.want {
			t.Errorf("TERM=%s COLORTERM=%s: %s theme, want %s", tc.term, tc.colorterm, got, tc.want)
		}
	}
	// Not a terminal (a pipe, a file): no colours, the console theme.
	if got := DetectTheme(io.Discard, "xterm-256color").Name; got != "console" {
		t.Errorf("output not a terminal: %s theme, want console", got)
	}
}
