package setup

import (
	"strings"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/onramp-os/onramp/i18n"
	"github.com/onramp-os/onramp/tui/widget"
)

// button is an action at the bottom of a form. Continue-like buttons are
// blocked while a field has a problem.
type button struct {
	label   string // catalog key
	primary bool   // blocked while the form is invalid; Enter in a field presses it
	press   func() tea.Cmd
}

// form is fields and buttons with one focus moving over both: Tab/↓ and
// Shift+Tab/↑ move, Enter moves on or presses, Space toggles a checkbox.
type form struct {
	fields  []*field
	buttons []button
	focus   int // fields first, then buttons
	// shown is set after the user tried to continue: from then on every
	// problem is listed, not only the first.
	tried bool
	// rows, when above 0, is how many lines the fields may take: a longer
	// form shows a window of them around the focused field, with a line
	// saying more are above or below (the wired form with IPv6 and
	// EAP-TLS on a 24-line console).
	rows int
}

func (f *form) items() int { return len(f.fields) + len(f.buttons) }

func (f *form) focusedField() *field {
	if f.focus < len(f.fields) {
		return f.fields[f.focus]
	}
	return nil
}

// problem is the first reason the form cannot continue, "" when it can.
func (f *form) problem(tr i18n.Func) string {
	for _, fl := range f.fields {
		if p := fl.problem(); p != "" {
			return tr(fl.label) + ": " + p
		}
	}
	return ""
}

func (f *form) move(d int) {
	n := f.items()
	for i := 0; i < n; i++ {
		f.focus = (f.focus + d + n) % n
		if fl := f.focusedField(); fl == nil || fl.visible() {
			return
		}
	}
}

// focusFirst puts the focus on the first visible field (or the first
// button).
func (f *form) focusFirst() {
	f.focus = 0
	if fl := f.focusedField(); fl != nil && !fl.visible() {
		f.move(1)
	}
}

// primary presses the primary button if the form is valid.
func (f *form) primary(tr i18n.Func) tea.Cmd {
	f.tried = true
	if f.problem(tr) != "" {
		return nil
	}
	for _, b := range f.buttons {
		if b.primary {
			return b.press()
		}
	}
	return nil
}

// key handles a key; handled is false for keys the form has no use for
// (Esc, F1), which the page or the root then handles.
func (f *form) key(k tea.KeyMsg, tr i18n.Func) (cmd tea.Cmd, handled bool) {
	fl := f.focusedField()
	switch k.String() {
	case "tab", "down":
		f.move(1)
		return nil, true
	case "shift+tab", "up":
		f.move(-1)
		return nil, true
	case "enter":
		if fl == nil {
			b := f.buttons[f.focus-len(f.fields)]
			if b.primary {
				return f.primary(tr), true
			}
			return b.press(), true
		}
		if fl.kind == fieldPick {
			return fl.pick(), true
		}
		// Enter in the last visible field continues; elsewhere it moves on.
		if f.lastField(fl) {
			return f.primary(tr), true
		}
		f.move(1)
		return nil, true
	case "left", "right":
		if fl == nil {
			d := 1
			if k.String() == "left" {
				d = -1
			}
			f.focus = len(f.fields) + (f.focus-len(f.fields)+d+len(f.buttons))%len(f.buttons)
			return nil, true
		}
	}
	if fl == nil {
		return nil, false
	}
	switch fl.kind {
	case fieldCheck:
		if k.Type == tea.KeySpace {
			fl.checked = !fl.checked
			return nil, true
		}
	case fieldChoice:
		switch k.String() {
		case "right", " ":
			fl.choice = (fl.choice + 1) % len(fl.options)
			return nil, true
		case "left":
			fl.choice = (fl.choice - 1 + len(fl.options)) % len(fl.options)
			return nil, true
		}
	case fieldPick:
		if k.Type == tea.KeySpace {
			return fl.pick(), true
		}
	case fieldText, fieldSecret:
		return nil, fl.editKey(k)
	}
	return nil, false
}

func (f *form) lastField(fl *field) bool {
	for i := len(f.fields) - 1; i >= 0; i-- {
		if f.fields[i].visible() {
			return f.fields[i] == fl
		}
	}
	return false
}

// view draws the fields (label column, value), the problem of the focused
// field or, once the user tried to continue, of the form, and the buttons.
func (f *form) view(t widget.Theme, tr i18n.Func, width int) string {
	labelW := 0
	for _, fl := range f.fields {
		if fl.visible() && fl.kind != fieldCheck {
			labelW = max(labelW, ansi.StringWidth(tr(fl.label)))
		}
	}
	labelW = min(labelW+1, width/2)
	valueW := min(max(width-labelW-4, 10), 44)
	var lines []string
	focusLine := -1
	for i, fl := range f.fields {
		if !fl.visible() {
			continue
		}
		focused := i == f.focus
		if focused {
			focusLine = len(lines)
		}
		cur := strings.Repeat(" ", ansi.StringWidth(t.Cursor))
		if focused {
			cur = t.Selected.Render(t.Cursor)
		}
		var line string
		if fl.kind == fieldCheck {
			line = cur + " " + fl.render(t, tr, focused, valueW) + " " + tr(fl.label)
		} else {
			line = cur + " " + widget.PadRight(t.Fit(tr(fl.label), labelW), labelW) + " " + fl.render(t, tr, focused, valueW)
		}
		lines = append(lines, line)
	}
	lines = f.window(t, lines, focusLine)
	if msg := f.message(tr); msg != "" {
		lines = append(lines, "", t.Error.Render(t.Warn+" "+msg))
	}
	lines = append(lines, "", f.buttonRow(t, tr))
	return strings.Join(lines, "\n")
}

// message is the problem shown under the fields: the focused field's, or
// after a try to continue the form's first.
func (f *form) message(tr i18n.Func) string {
	if fl := f.focusedField(); fl != nil && fl.problem() != "" && (f.tried || fl.value() != "") {
		return fl.problem()
	}
	if f.tried {
		return f.problem(tr)
	}
	return ""
}

// window cuts the field lines to f.rows around the focused one (the last
// ones while a button has the focus), marking what is cut off.
func (f *form) window(t widget.Theme, lines []string, focusLine int) []string {
	if f.rows < 3 || len(lines) <= f.rows {
		return lines
	}
	n := f.rows - 2 // one line each for "more above" and "more below"
	if focusLine < 0 {
		focusLine = len(lines) - 1
	}
	start := min(max(focusLine-n/2, 0), len(lines)-n)
	out := []string{"  ", ""}
	if start > 0 {
		out[0] = t.Muted.Render("  ^ ...")
	}
	out = append(out[:1], lines[start:start+n]...)
	if start+n < len(lines) {
		return append(out, t.Muted.Render("  v ..."))
	}
	return append(out, "")
}

// buttonRow draws the buttons; a blocked primary button is drawn in
// parentheses and muted, so it reads as disabled without colour.
func (f *form) buttonRow(t widget.Theme, tr i18n.Func) string {
	blocked := f.problem(tr) != ""
	var out []string
	for i, b := range f.buttons {
		focused := f.focus == len(f.fields)+i
		label := "[ " + tr(b.label) + " ]"
		if b.primary && blocked {
			label = "( " + tr(b.label) + " )"
		}
		cur := strings.Repeat(" ", ansi.StringWidth(t.Cursor)+1)
		switch {
		case focused:
			cur = t.Selected.Render(t.Cursor) + " "
			label = t.Focused.Render(label)
		case b.primary && blocked:
			label = t.Muted.Render(label)
		default:
			label = t.Button.Render(label)
		}
		out = append(out, cur+label)
	}
	return strings.Join(out, "  ")
}
