package widget

import (
	"io"

	"github.com/charmbracelet/bubbles/spinner"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
)

// Theme is how every screen looks: colours, the frame's border and the
// glyphs. The console theme keeps to ASCII and the 16 ANSI colours because
// the Linux console (TERM=linux) has fonts without braille or rounded
// corners; the modern theme is for terminal emulators. A Theme is chosen
// once and handed to the models, so tests can fix it.
type Theme struct {
	Name string // "console" or "modern"

	r      *lipgloss.Renderer
	Border lipgloss.Border

	Cursor   string // marks the highlighted row or button
	Done     string // a finished step
	Active   string // the step in progress
	Pending  string // a step still to come
	Skipped  string // a step that does not apply
	Warn     string // a row worth a second look
	Failed   string // a failed step
	BarFull  string // progress bar, done part
	BarEmpty string // progress bar, remaining part
	StepSep  string // between the steps in the header
	Ellipsis string
	Spinner  spinner.Spinner

	Title    lipgloss.Style // the header line
	StepNow  lipgloss.Style // the current step in the header
	StepOff  lipgloss.Style // the other steps
	Frame    lipgloss.Style // the box around a screen's body
	Heading  lipgloss.Style // a screen's question or statement
	Muted    lipgloss.Style // hints and secondary columns
	Selected lipgloss.Style // the highlighted row
	Warning  lipgloss.Style
	Error    lipgloss.Style
	Success  lipgloss.Style
	Key      lipgloss.Style // key names in the help line
	Button   lipgloss.Style
	Focused  lipgloss.Style // the focused button
	Bar      lipgloss.Style // the done part of a progress bar
}

// palette is the handful of colours a theme uses.
type palette struct {
	accent, success, warning, failure, muted, onAccent lipgloss.Color
}

// consolePalette uses ANSI colour numbers only, which every terminal and the
// Linux console map to their own 16 colours.
var consolePalette = palette{
	accent: "6", success: "2", warning: "3", failure: "1", muted: "7", onAccent: "0",
}

var modernPalette = palette{
	accent: "#5FAFD7", success: "#5FD787", warning: "#FFD75F", failure: "#FF5F5F", muted: "#8A8A8A", onAccent: "#1C1C1C",
}

// ConsoleTheme is the ASCII, 16-colour theme of the Linux console.
func ConsoleTheme(r *lipgloss.Renderer) Theme {
	t := newTheme(r, consolePalette)
	t.Name = "console"
	t.Border = lipgloss.ASCIIBorder()
	t.Frame = t.Frame.Border(t.Border)
	t.Cursor, t.Done, t.Active, t.Pending, t.Skipped, t.Warn, t.Failed = ">", "[x]", "[>]", "[ ]", "[-]", "!", "[!]"
	t.BarFull, t.BarEmpty = "#", "-"
	t.StepSep, t.Ellipsis = " > ", "..."
	t.Spinner = spinner.Line
	return t
}

// ModernTheme is the theme for terminal emulators with 256 colours or more
// and Unicode fonts.
func ModernTheme(r *lipgloss.Renderer) Theme {
	t := newTheme(r, modernPalette)
	t.Name = "modern"
	t.Border = lipgloss.RoundedBorder()
	t.Frame = t.Frame.Border(t.Border)
	t.Cursor, t.Done, t.Active, t.Pending, t.Skipped, t.Warn, t.Failed = "›", "✓", "▸", "·", "–", "!", "✗"
	t.BarFull, t.BarEmpty = "█", "░"
	t.StepSep, t.Ellipsis = " › ", "…"
	t.Spinner = spinner.MiniDot
	return t
}

func newTheme(r *lipgloss.Renderer, p palette) Theme {
	s := r.NewStyle
	return Theme{
		r:        r,
		Title:    s().Bold(true).Foreground(p.accent),
		StepNow:  s().Bold(true).Foreground(p.accent),
		StepOff:  s().Foreground(p.muted),
		Frame:    s().BorderForeground(p.accent).Padding(0, 1),
		Heading:  s().Bold(true),
		Muted:    s().Foreground(p.muted),
		Selected: s().Bold(true).Foreground(p.accent),
		Warning:  s().Bold(true).Foreground(p.warning),
		Error:    s().Bold(true).Foreground(p.failure),
		Success:  s().Bold(true).Foreground(p.success),
		Key:      s().Bold(true),
		Button:   s(),
		Focused:  s().Bold(true).Foreground(p.onAccent).Background(p.accent),
		Bar:      s().Foreground(p.accent),
	}
}

// DetectTheme picks the theme for a terminal writing to out: the console
// theme for TERM=linux or fewer than 256 colours, else the modern one. The
// colour profile comes from the environment only; nothing is asked of the
// terminal, which the Linux console would not answer.
func DetectTheme(out io.Writer, term string) Theme {
	return themeFor(lipgloss.NewRenderer(out), term)
}

func themeFor(r *lipgloss.Renderer, term string) Theme {
	r.SetHasDarkBackground(true)
	if term == "linux" || r.ColorProfile() > termenv.ANSI256 { // ANSI or Ascii
		return ConsoleTheme(r)
	}
	return ModernTheme(r)
}

// PlainTheme is the console theme without any colour or attribute: the
// fixed look of golden tests.
func PlainTheme() Theme {
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.Ascii)
	r.SetHasDarkBackground(true)
	return ConsoleTheme(r)
}

// IsZero reports whether t is the zero Theme, which draws nothing: a
// caller that left the theme out gets PlainTheme.
func (t Theme) IsZero() bool { return t.r == nil }
