package setup

import (
	"strings"
	"unicode"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/onramp-os/onramp/i18n"
	"github.com/onramp-os/onramp/sysconf"
	"github.com/onramp-os/onramp/tui/widget"
)

// listItem is one row of a filterList.
type listItem struct {
	label    string // what the row shows and the filter matches
	detail   string // a second column (signal, security, local time)
	id       string // what choosing it means to the page
	search   string // folded label + extra terms, computed once
	disabled bool   // shown, but cannot be chosen (with detail saying why)
}

// filterList is a list with search as you type: printable keys narrow it,
// Backspace widens it again, ↑/↓/PgUp/PgDn/Home/End move, the mouse wheel
// scrolls. Matching folds case and accents, so "francais" finds Français.
type filterList struct {
	items   []listItem
	query   []rune
	matches []int // indexes into items
	cursor  int   // index into matches
}

func newFilterList(items []listItem) *filterList {
	for i := range items {
		if items[i].search == "" {
			items[i].search = sysconf.Fold(items[i].label + " " + items[i].id)
		}
	}
	l := &filterList{items: items}
	l.refilter()
	return l
}

// refilter recomputes the matches for the query; the cursor stays on its
// item when that still matches.
func (l *filterList) refilter() {
	keep := l.selectedID()
	q := sysconf.Fold(string(l.query))
	l.matches = l.matches[:0]
	for i := range l.items {
		if q == "" || strings.Contains(l.items[i].search, q) {
			l.matches = append(l.matches, i)
		}
	}
	l.cursor = 0
	for i, m := range l.matches {
		if l.items[m].id == keep {
			l.cursor = i
		}
	}
}

// selectID moves the cursor to the item with id, if it is shown.
func (l *filterList) selectID(id string) {
	for i, m := range l.matches {
		if l.items[m].id == id {
			l.cursor = i
			return
		}
	}
}

func (l *filterList) selected() (listItem, bool) {
	if len(l.matches) == 0 {
		return listItem{}, false
	}
	return l.items[l.matches[l.cursor]], true
}

func (l *filterList) selectedID() string {
	it, _ := l.selected()
	return it.id
}

// key handles movement and filter keys; false for others (Enter, Esc).
func (l *filterList) key(k tea.KeyMsg, rows int) bool {
	n := len(l.matches)
	switch k.String() {
	case "up":
		l.cursor = max(l.cursor-1, 0)
	case "down":
		l.cursor = min(l.cursor+1, max(n-1, 0))
	case "pgup":
		l.cursor = max(l.cursor-rows, 0)
	case "pgdown":
		l.cursor = min(l.cursor+rows, max(n-1, 0))
	case "home":
		l.cursor = 0
	case "end":
		l.cursor = max(n-1, 0)
	case "backspace":
		if len(l.query) == 0 {
			return false
		}
		l.query = l.query[:len(l.query)-1]
		l.refilter()
	case "ctrl+u":
		l.query = nil
		l.refilter()
	default:
		if k.Type != tea.KeyRunes && k.Type != tea.KeySpace {
			return false
		}
		if k.Type == tea.KeySpace {
			if len(l.query) == 0 {
				return false // Space on an empty filter may mean something to the page
			}
			l.query = append(l.query, ' ')
		}
		for _, r := range k.Runes {
			if unicode.IsPrint(r) {
				l.query = append(l.query, r)
			}
		}
		l.refilter()
	}
	return true
}

// wheel scrolls with the mouse; false for other mouse events.
func (l *filterList) wheel(m tea.MouseMsg) bool {
	switch m.Button {
	case tea.MouseButtonWheelUp:
		l.cursor = max(l.cursor-1, 0)
	case tea.MouseButtonWheelDown:
		l.cursor = min(l.cursor+1, max(len(l.matches)-1, 0))
	default:
		return false
	}
	return true
}

// view draws the search line and up to rows rows, with the detail column
// right-aligned in width cells.
func (l *filterList) view(t widget.Theme, tr i18n.Func, width, rows int) string {
	var lines []string
	q := string(l.query)
	search := tr("list.search") + " " + q + t.Selected.Render("_")
	if len(l.matches) != len(l.items) {
		search += "  " + t.Muted.Render(tr("list.matches", len(l.matches), len(l.items)))
	}
	lines = append(lines, search)
	rows = max(rows-1, 1)
	if len(l.matches) == 0 {
		lines = append(lines, t.Muted.Render("  "+tr("list.nomatch")))
		return strings.Join(lines, "\n")
	}
	from, to := widget.Window(len(l.matches), l.cursor, rows)
	textW := width - ansi.StringWidth(t.Cursor) - 3
	for i := from; i < to; i++ {
		it := l.items[l.matches[i]]
		detW := ansi.StringWidth(it.detail)
		label := t.Fit(it.label, max(textW-detW-1, 8))
		text := label
		if it.detail != "" {
			text = label + " " + widget.PadLeft(it.detail, max(textW-ansi.StringWidth(label)-1, 0))
		}
		if it.disabled {
			text = t.Muted.Render(text)
		}
		lines = append(lines, t.Row(i == l.cursor, false, text))
	}
	return strings.Join(lines, "\n")
}
