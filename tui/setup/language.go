package setup

import (
	tea "github.com/charmbracelet/bubbletea"

	"github.com/onramp-os/onramp/firstboot"
	"github.com/onramp-os/onramp/i18n"
	"github.com/onramp-os/onramp/sysconf"
	"github.com/onramp-os/onramp/tui/widget"
)

// languagePage lists the display languages by their own names; the screen
// switches language as the cursor moves, so a user finds their language
// in words they read.
type languagePage struct {
	list *filterList
}

func newLanguagePage(m *Model) *languagePage {
	var items []listItem
	for _, l := range sysconf.Languages {
		items = append(items, listItem{label: l.Native, detail: l.English, id: l.Code, search: sysconf.Fold(l.Native + " " + l.English + " " + l.Locale)})
	}
	p := &languagePage{list: newFilterList(items)}
	p.list.selectID(m.choice.Lang.Code)
	return p
}

func (*languagePage) name() string         { return "language" }
func (*languagePage) step() firstboot.Step { return firstboot.StepLanguage }

func (p *languagePage) update(m *Model, msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.KeyMsg:
		if msg.String() == "enter" {
			it, ok := p.list.selected()
			if !ok {
				return nil
			}
			l, _ := sysconf.LanguageFor(it.id)
			if l.Code != m.choice.Lang.Code || m.choice.Layout == "" {
				m.choice.Layout, m.choice.Variant = l.Layout, l.Variant
				if pre := m.cfg.Prefill.Keyboard; pre.Layout != "" && l.Code == m.cfg.Prefill.LanguageCode() {
					m.choice.Layout, m.choice.Variant = pre.Layout, pre.Variant
				}
			}
			m.choice.Lang = l
			m.tr = i18n.For(l.Code)
			return tea.Batch(m.goTo(newKeyboardPage(m)), loadKeymapCmd(m.cfg, m.choice.Layout, m.choice.Variant))
		}
		if p.list.key(msg, m.bodyRows()-3) {
			p.follow(m)
		}
	case tea.MouseMsg:
		if p.list.wheel(msg) {
			p.follow(m)
		}
	case clickMsg:
		moved, again := listClick(m, p.list, msg, p.top(m), m.bodyRows()-4)
		if again {
			return p.update(m, enterKey)
		}
		if moved {
			p.follow(m)
		}
	}
	return nil
}

func (p *languagePage) top(m *Model) string {
	return m.cfg.Theme.Heading.Render(m.t("lang.heading")) + "\n\n"
}

// follow switches the screen to the highlighted language.
func (p *languagePage) follow(m *Model) {
	if it, ok := p.list.selected(); ok {
		m.tr = i18n.For(it.id)
	}
}

func (p *languagePage) view(m *Model, w, h int) (string, []widget.KeyHelp) {
	t := m.cfg.Theme
	body := p.top(m) + p.list.view(t, m.t, w, h-4)
	return body, []widget.KeyHelp{{Key: "Enter", Does: m.t("help.choose")}, {Key: "↑↓", Does: m.t("help.move")}, {Key: m.t("help.type"), Does: m.t("help.search")}}
}

// keyboardPage sets layout and variant, with a field to try them.
type keyboardPage struct {
	form   *form
	layout *field
	varnt  *field
	try    *field
	err    string
}

func newKeyboardPage(m *Model) *keyboardPage {
	p := &keyboardPage{}
	p.layout = &field{kind: fieldPick, label: "kbd.layout"}
	p.varnt = &field{kind: fieldPick, label: "kbd.variant"}
	p.try = textField("kbd.try", nil)
	p.layout.pick = func() tea.Cmd { return m.goTo(p.layoutPicker(m)) }
	p.varnt.pick = func() tea.Cmd { return m.goTo(p.variantPicker(m)) }
	p.layout.check = func(string) string {
		if _, ok := sysconf.FindLayout(m.data.Layouts, m.choice.Layout); !ok {
			return m.t("kbd.err.layout")
		}
		return ""
	}
	p.form = &form{fields: []*field{p.layout, p.varnt, p.try}, buttons: []button{
		{label: "btn.back", press: m.back},
		{label: "btn.continue", primary: true, press: func() tea.Cmd { return applyLanguageCmd(m) }},
	}}
	p.form.focus = 2 // typing tries the layout at once; Enter continues
	p.refresh(m)
	return p
}

func (*keyboardPage) name() string         { return "keyboard" }
func (*keyboardPage) step() firstboot.Step { return firstboot.StepLanguage }

// refresh shows the chosen layout and variant in the fields.
func (p *keyboardPage) refresh(m *Model) {
	lay, ok := sysconf.FindLayout(m.data.Layouts, m.choice.Layout)
	if !ok {
		p.layout.display, p.varnt.display = m.choice.Layout, ""
		return
	}
	p.layout.display = lay.Description + " (" + lay.Name + ")"
	v, _ := lay.Variant(m.choice.Variant)
	p.varnt.display = v.Description
	if m.choice.Variant == "" {
		p.varnt.display = m.t("kbd.variant.default")
	}
}

func (p *keyboardPage) layoutPicker(m *Model) *pickerPage {
	var items []listItem
	for _, l := range m.data.Layouts {
		items = append(items, listItem{label: l.Description, detail: l.Name, id: l.Name})
	}
	return newPicker("kbd.layout.pick", firstboot.StepLanguage, items, m.choice.Layout, func(m *Model, id string) tea.Cmd {
		if id != m.choice.Layout {
			m.choice.Layout, m.choice.Variant = id, ""
		}
		p.refresh(m)
		p.form.move(1)
		return loadKeymapCmd(m.cfg, m.choice.Layout, m.choice.Variant)
	})
}

func (p *keyboardPage) variantPicker(m *Model) *pickerPage {
	lay, _ := sysconf.FindLayout(m.data.Layouts, m.choice.Layout)
	items := []listItem{{label: m.t("kbd.variant.default"), detail: lay.Name, id: ""}}
	for _, v := range lay.Variants {
		items = append(items, listItem{label: v.Description, detail: v.Name, id: v.Name})
	}
	return newPicker("kbd.variant.pick", firstboot.StepLanguage, items, m.choice.Variant, func(m *Model, id string) tea.Cmd {
		m.choice.Variant = id
		p.refresh(m)
		p.form.move(1)
		return loadKeymapCmd(m.cfg, m.choice.Layout, m.choice.Variant)
	})
}

func (p *keyboardPage) enter(m *Model) tea.Cmd {
	p.refresh(m)
	return nil
}

func (p *keyboardPage) update(m *Model, msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case languageAppliedMsg:
		if msg.err != nil {
			p.err = m.t("kbd.err.apply", msg.err)
			return nil
		}
		return m.startStep(firstboot.StepLicense)
	case tea.KeyMsg:
		if msg.String() == "esc" {
			return m.back()
		}
		cmd, _ := p.form.key(msg, m.t)
		return cmd
	case clickMsg:
		return p.form.click(msg.line-linesOf(m, p.top(m)), msg.col, m.cfg.Theme, m.t, m.bodyWidth())
	}
	return nil
}

func (p *keyboardPage) top(m *Model) string {
	return m.cfg.Theme.Heading.Render(m.t("kbd.heading")) + "\n\n"
}

func (p *keyboardPage) view(m *Model, w, h int) (string, []widget.KeyHelp) {
	t := m.cfg.Theme
	body := p.top(m) + p.form.view(t, m.t, w)
	if p.err != "" {
		body += "\n\n" + t.Error.Render(p.err)
	}
	return body, formHelp(m)
}

// formHelp is the help line of a form page.
func formHelp(m *Model) []widget.KeyHelp {
	return []widget.KeyHelp{{Key: "Enter", Does: m.t("help.continue")}, {Key: "Esc", Does: m.t("help.back")}, {Key: "Tab", Does: m.t("help.next")}}
}

// pickerPage chooses one item of a searchable list for a form field.
type pickerPage struct {
	title  string
	stepv  firstboot.Step
	list   *filterList
	choose func(m *Model, id string) tea.Cmd
}

func newPicker(title string, s firstboot.Step, items []listItem, selected string, choose func(*Model, string) tea.Cmd) *pickerPage {
	p := &pickerPage{title: title, stepv: s, list: newFilterList(items), choose: choose}
	p.list.selectID(selected)
	return p
}

func (p *pickerPage) name() string         { return "pick:" + p.title }
func (p *pickerPage) step() firstboot.Step { return p.stepv }

func (p *pickerPage) update(m *Model, msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.KeyMsg:
		switch msg.String() {
		case "esc":
			return m.back()
		case "enter":
			it, ok := p.list.selected()
			if !ok || it.disabled {
				return nil
			}
			back := m.back()
			return tea.Batch(back, p.choose(m, it.id))
		}
		p.list.key(msg, m.bodyRows()-3)
	case tea.MouseMsg:
		p.list.wheel(msg)
	case clickMsg:
		if _, again := listClick(m, p.list, msg, p.top(m), m.bodyRows()-2); again {
			return p.update(m, enterKey)
		}
	}
	return nil
}

func (p *pickerPage) top(m *Model) string { return m.cfg.Theme.Heading.Render(m.t(p.title)) + "\n\n" }

func (p *pickerPage) view(m *Model, w, h int) (string, []widget.KeyHelp) {
	t := m.cfg.Theme
	body := p.top(m) + p.list.view(t, m.t, w, h-2)
	return body, []widget.KeyHelp{{Key: "Enter", Does: m.t("help.choose")}, {Key: "Esc", Does: m.t("help.back")}, {Key: m.t("help.type"), Does: m.t("help.search")}}
}
