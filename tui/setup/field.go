package setup

import (
	"strings"
	"unicode"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/onramp-os/onramp/i18n"
	"github.com/onramp-os/onramp/tui/widget"
)

// fieldKind is what a form field holds.
type fieldKind int

const (
	fieldText   fieldKind = iota
	fieldSecret           // text shown as asterisks
	fieldCheck            // a checkbox
	fieldChoice           // one of a few options, changed with ←/→ (or Space)
	fieldPick             // a value chosen from a list that Enter opens
)

// field is one line of a form. Texts are catalog keys, translated when the
// form is drawn, so a language switch shows at once.
type field struct {
	kind    fieldKind
	label   string // catalog key
	val     []rune
	pos     int
	checked bool
	options []string // fieldChoice: catalog keys
	choice  int
	display string // fieldPick: the chosen value as shown
	// check returns a (translated) reason the value cannot be used, or "".
	check func(v string) string
	// hidden hides the field (and skips its check) when it returns true.
	hidden func() bool
	// pick opens the list of a fieldPick.
	pick func() tea.Cmd
	// max is the longest value accepted, in runes (0: 255).
	max int
}

func textField(label string, check func(string) string) *field {
	return &field{kind: fieldText, label: label, check: check}
}

func secretField(label string, check func(string) string) *field {
	return &field{kind: fieldSecret, label: label, check: check}
}

func (f *field) value() string { return string(f.val) }

func (f *field) set(v string) {
	f.val = []rune(v)
	f.pos = len(f.val)
}

func (f *field) visible() bool { return f.hidden == nil || !f.hidden() }

func (f *field) problem() string {
	if !f.visible() || f.check == nil {
		return ""
	}
	return f.check(f.value())
}

// editKey applies a key to a text field; false when the key is not for it.
func (f *field) editKey(k tea.KeyMsg) bool {
	limit := f.max
	if limit == 0 {
		limit = 255
	}
	switch k.Type {
	case tea.KeyRunes, tea.KeySpace:
		rs := k.Runes
		if k.Type == tea.KeySpace {
			rs = []rune{' '}
		}
		for _, r := range rs {
			if !unicode.IsPrint(r) || len(f.val) >= limit {
				continue
			}
			f.val = append(f.val[:f.pos], append([]rune{r}, f.val[f.pos:]...)...)
			f.pos++
		}
	case tea.KeyBackspace:
		if f.pos > 0 {
			f.val = append(f.val[:f.pos-1], f.val[f.pos:]...)
			f.pos--
		}
	case tea.KeyDelete:
		if f.pos < len(f.val) {
			f.val = append(f.val[:f.pos], f.val[f.pos+1:]...)
		}
	case tea.KeyLeft:
		f.pos = max(f.pos-1, 0)
	case tea.KeyRight:
		f.pos = min(f.pos+1, len(f.val))
	case tea.KeyHome, tea.KeyCtrlA:
		f.pos = 0
	case tea.KeyEnd, tea.KeyCtrlE:
		f.pos = len(f.val)
	case tea.KeyCtrlU:
		f.val, f.pos = nil, 0
	default:
		return false
	}
	return true
}

// render draws the field's value in width cells; focused fields show the
// text cursor as '_' (visible without colour).
func (f *field) render(t widget.Theme, tr i18n.Func, focused bool, width int) string {
	switch f.kind {
	case fieldCheck:
		box := "[ ]"
		if f.checked {
			box = "[x]"
		}
		return box
	case fieldChoice:
		s := "< " + tr(f.options[f.choice]) + " >"
		if focused {
			return t.Selected.Render(s)
		}
		return s
	case fieldPick:
		s := t.Fit(f.display, max(width-4, 4))
		return "[" + s + " v]"
	}
	rs := f.val
	if f.kind == fieldSecret {
		rs = []rune(strings.Repeat("*", len(f.val)))
	}
	inner := max(width-2, 4)
	// Scroll so the cursor stays inside the box.
	start := 0
	if f.pos >= inner {
		start = f.pos - inner + 1
	}
	var b strings.Builder
	for i := start; i < len(rs) && i-start < inner; i++ {
		c := string(rs[i])
		if focused && i == f.pos {
			c = t.Focused.Render(c)
		}
		b.WriteString(c)
	}
	shown := min(len(rs)-start, inner)
	pad := inner - shown
	if focused && f.pos == len(rs) && pad > 0 {
		b.WriteString(t.Selected.Render("_"))
		pad--
	}
	return "[" + b.String() + strings.Repeat(" ", max(pad, 0)) + "]"
}
