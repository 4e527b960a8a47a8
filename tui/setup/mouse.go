package setup

import (
	"strings"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/onramp-os/onramp/i18n"
	"github.com/onramp-os/onramp/tui/widget"
)

// The mouse: the wheel scrolls lists and the license; a left click on a
// list row moves there and a click on the highlighted row chooses it; a
// click on a form's field focuses it (toggles a checkbox, turns a choice,
// opens a pick list) and one on a button presses it. Rows are found by
// arithmetic on the same text the page draws, so no zones are marked in
// the output.

// clickMsg is a left click in the frame's body: line 0 is the body's first
// line, col 0 its first cell.
type clickMsg struct{ line, col int }

// click turns a mouse press into a clickMsg; false when it is not a left
// click inside the body, or a dialog is open.
func (m *Model) click(msg tea.MouseMsg) (clickMsg, bool) {
	if msg.Action != tea.MouseActionPress || msg.Button != tea.MouseButtonLeft || m.info != nil {
		return clickMsg{}, false
	}
	f := m.cfg.Theme.Frame
	c := clickMsg{line: msg.Y - 1 - f.GetBorderTopSize() - f.GetPaddingTop(), col: msg.X - f.GetBorderLeftSize() - f.GetPaddingLeft()}
	if m.warn != "" { // drawn above the page's body
		c.line -= lineCount(widget.Wrap(m.cfg.Theme.Warn+" "+m.warn, m.bodyWidth()))
	}
	if c.line < 0 || c.line >= m.bodyRows() || c.col < 0 || c.col >= m.bodyWidth() {
		return clickMsg{}, false
	}
	return c, true
}

// linesOf is how many body lines text takes when drawn.
func linesOf(m *Model, text string) int {
	return strings.Count(widget.Wrap(text, m.bodyWidth()), "\n")
}

// listClick handles a click on a list drawn after top (which ends in a
// newline) in rows lines. moved is set when the click landed on a row;
// again when that row was highlighted already, which means choose it.
func listClick(m *Model, l *filterList, c clickMsg, top string, rows int) (moved, again bool) {
	return l.click(c.line-linesOf(m, top), rows)
}

// enterKey is what a click on a highlighted row stands for.
var enterKey = tea.KeyMsg{Type: tea.KeyEnter}

// click moves the cursor to the row at line of the list's view (0 is the
// search line) when drawn in rows lines.
func (l *filterList) click(line, rows int) (moved, again bool) {
	from, to := widget.Window(len(l.matches), l.cursor, max(rows-1, 1))
	i := from + line - 1
	if line < 1 || i >= to {
		return false, false
	}
	again = i == l.cursor
	l.cursor = i
	return true, again
}

// click handles a click at line and col of the form's view drawn in
// width cells.
func (f *form) click(line, col int, t widget.Theme, tr i18n.Func, width int) tea.Cmd {
	raw := strings.Split(f.view(t, tr, width), "\n")
	hit, at := -1, 0
	for j, l := range raw {
		h := lineCount(widget.Wrap(l, width))
		if line >= at && line < at+h {
			hit = j
			break
		}
		at += h
	}
	var shown []int
	for i, fl := range f.fields {
		if fl.visible() {
			shown = append(shown, i)
		}
	}
	switch {
	case hit < 0:
		return nil
	case hit < len(shown):
		f.focus = shown[hit]
		fl := f.fields[f.focus]
		switch fl.kind {
		case fieldCheck:
			fl.checked = !fl.checked
		case fieldChoice:
			fl.choice = (fl.choice + 1) % len(fl.options)
		case fieldPick:
			return fl.pick()
		}
		return nil
	case hit == len(raw)-1 && line == at:
		return f.clickButton(col, t, tr)
	}
	return nil
}

// clickButton presses the button at col of the button row.
func (f *form) clickButton(col int, t widget.Theme, tr i18n.Func) tea.Cmd {
	x := 0
	for i, b := range f.buttons {
		if i > 0 {
			x += 2
		}
		x += ansi.StringWidth(t.Cursor) + 1
		w := ansi.StringWidth("[ " + tr(b.label) + " ]")
		if col >= x && col < x+w {
			f.focus = len(f.fields) + i
			if b.primary {
				return f.primary(tr)
			}
			return b.press()
		}
		x += w
	}
	return nil
}
