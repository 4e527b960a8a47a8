package widget

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/onramp-os/onramp/blockdev"
	"github.com/onramp-os/onramp/images"
)

// The size a screen assumes until the terminal reports its own; every screen
// is laid out to work at this size, the Linux console's default.
const (
	DefaultWidth  = 80
	DefaultHeight = 24
)

// KeyHelp is one entry of the help line: a key and what it does.
type KeyHelp struct{ Key, Does string }

// Screen lays out a whole screen of w×h cells: the header with the title and
// the steps (current one marked), the body in a frame, the help line. The
// body is clipped to the frame, so a small terminal loses lines at the
// bottom of the body, never the header or the help.
func (t Theme) Screen(w, h int, title string, steps []string, current int, body string, help []KeyHelp) string {
	if w <= 0 || h <= 0 {
		w, h = DefaultWidth, DefaultHeight
	}
	header := t.Header(w, title, steps, current)
	inner := max(w-t.Frame.GetHorizontalFrameSize(), 1)
	rows := max(h-2-t.Frame.GetVerticalFrameSize(), 1)
	body = ClipLines(Wrap(body, inner), rows)
	frame := t.Frame.Width(w - t.Frame.GetHorizontalBorderSize()).Height(rows).Render(body)
	return lipgloss.JoinVertical(lipgloss.Left, header, frame, t.HelpLine(w, help))
}

// Header is the title on the left and the steps on the right; when both do
// not fit, the steps go.
func (t Theme) Header(w int, title string, steps []string, current int) string {
	var parts []string
	plain := 0
	for i, s := range steps {
		if i == current && t.Name == "console" {
			s = "[" + s + "]" // without colour the current step must still show
		}
		plain += ansi.StringWidth(s)
		if i == current {
			s = t.StepNow.Render(s)
		} else {
			s = t.StepOff.Render(s)
		}
		parts = append(parts, s)
	}
	plain += ansi.StringWidth(t.StepSep) * max(len(steps)-1, 0)
	left := " " + title
	gap := w - ansi.StringWidth(left) - plain - 1
	if len(steps) == 0 || gap < 2 {
		return t.Title.Render(ansi.Truncate(left, w, ""))
	}
	return t.Title.Render(left) + strings.Repeat(" ", gap) + strings.Join(parts, t.StepOff.Render(t.StepSep)) + " "
}

func (t Theme) HelpLine(w int, help []KeyHelp) string {
	var parts []string
	for _, k := range help {
		parts = append(parts, t.Key.Render(k.Key)+" "+t.Muted.Render(k.Does))
	}
	return ansi.Truncate(" "+strings.Join(parts, "   "), w, "")
}

// Buttons renders a row of buttons, the focused one marked with the cursor
// (visible without colour) and highlighted.
func (t Theme) Buttons(labels []string, focus int) string {
	var out []string
	for i, l := range labels {
		b := "[ " + l + " ]"
		if i == focus {
			out = append(out, t.Selected.Render(t.Cursor)+" "+t.Focused.Render(b))
		} else {
			out = append(out, strings.Repeat(" ", ansi.StringWidth(t.Cursor)+1)+t.Button.Render(b))
		}
	}
	return strings.Join(out, "  ")
}

// ProgressBar is a progress bar of width cells for frac in [0,1].
func (t Theme) ProgressBar(width int, frac float64) string {
	width = max(width, 4)
	frac = min(max(frac, 0), 1)
	fill := int(frac * float64(width-2))
	return "[" + t.Bar.Render(strings.Repeat(t.BarFull, fill)) + t.Muted.Render(strings.Repeat(t.BarEmpty, width-2-fill)) + "]"
}

// Row marks a list row: the cursor when it is highlighted, a warning mark
// when it deserves a second look.
func (t Theme) Row(selected, warn bool, text string) string {
	cur := strings.Repeat(" ", ansi.StringWidth(t.Cursor))
	if selected {
		cur = t.Selected.Render(t.Cursor)
		text = t.Selected.Render(text)
	}
	mark := " "
	if warn {
		mark = t.Warning.Render(t.Warn)
	}
	return cur + " " + mark + " " + text
}

// Window returns the range of n list rows to show in rows lines so that the
// cursor stays visible.
func Window(n, cursor, rows int) (from, to int) {
	if rows <= 0 || n <= rows {
		return 0, n
	}
	from = min(max(cursor-rows/2, 0), n-rows)
	return from, from + rows
}

// Wrap breaks the lines of s at word boundaries to fit width cells.
func Wrap(s string, width int) string {
	return ansi.Wrap(s, width, "/-")
}

// ClipLines keeps the first n lines of s.
func ClipLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "\n")
}

// Fit pads or truncates the plain string s to exactly n cells, truncating at
// the end with the theme's ellipsis.
func (t Theme) Fit(s string, n int) string {
	if ansi.StringWidth(s) > n {
		s = ansi.Truncate(s, n, t.Ellipsis)
	}
	return s + strings.Repeat(" ", max(n-ansi.StringWidth(s), 0))
}

// FitLeft is fit for paths: it keeps the end, which names the file.
func (t Theme) FitLeft(s string, n int) string {
	if w := ansi.StringWidth(s); w > n {
		s = t.Ellipsis + ansi.TruncateLeft(s, w-n+ansi.StringWidth(t.Ellipsis), "")
	}
	return s + strings.Repeat(" ", max(n-ansi.StringWidth(s), 0))
}

// PadLeft right-aligns s in n cells.
func PadLeft(s string, n int) string {
	return strings.Repeat(" ", max(n-ansi.StringWidth(s), 0)) + s
}

// FormatDuration formats a duration as m:ss or h:mm:ss.
func FormatDuration(d time.Duration) string {
	d = d.Round(time.Second)
	h, m, s := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
	if h > 0 {
		return fmt.Sprintf("%d:%02d:%02d", h, m, s)
	}
	return fmt.Sprintf("%d:%02d", m, s)
}

// Offer puts v in a one-slot channel, replacing a value nobody took yet, so
// a slow screen always gets the latest progress and the worker never waits.
func Offer[T any](ch chan T, v T) {
	for {
		select {
		case ch <- v:
			return
		default:
		}
		select {
		case <-ch:
		default:
		}
	}
}

// ProgressView draws a labelled bar with bytes (" of " or " / " the total),
// rate and, while it is known, the time left in the words eta gives.
func ProgressView(th Theme, w int, label string, pr images.Progress, of string, eta func(time.Duration) string) string {
	frac := 0.0
	if pr.Total > 0 {
		frac = min(float64(pr.Bytes)/float64(pr.Total), 1)
	}
	barW := max(w-2-11-6, 10)
	var b strings.Builder
	fmt.Fprintf(&b, "\n  %-10s %s %3d%%\n", label, th.ProgressBar(barW, frac), int(frac*100))
	stats := blockdev.HumanSize(pr.Bytes)
	if pr.Total > 0 {
		stats += of + blockdev.HumanSize(pr.Total)
	}
	if pr.Rate > 0 {
		stats += "   " + blockdev.HumanSize(int64(pr.Rate)) + "/s"
	}
	if pr.ETA > 0 && pr.Rate > 0 && pr.Bytes < pr.Total {
		stats += "   " + eta(pr.ETA)
	}
	b.WriteString("  " + strings.Repeat(" ", 11) + th.Muted.Render(stats) + "\n")
	return b.String()
}

// MoveCursor applies a list navigation key (arrows, vi keys, home/end) to
// cursor in a list of n rows; ok is false for any other key.
func MoveCursor(key string, cursor, n int) (int, bool) {
	last := max(n-1, 0)
	switch key {
	case "up", "k":
		return max(cursor-1, 0), true
	case "down", "j":
		return min(cursor+1, last), true
	case "home", "g":
		return 0, true
	case "end", "G":
		return last, true
	}
	return cursor, false
}
