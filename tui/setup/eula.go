package setup

import (
	"fmt"

	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/onramp-os/onramp/firstboot"
	"github.com/onramp-os/onramp/sysconf"
	"github.com/onramp-os/onramp/tui/widget"
)

// eulaPage shows the license text, scrollable by keys and mouse wheel,
// and the acceptance checkbox; Continue is blocked until it is ticked.
type eulaPage struct {
	eula   *sysconf.EULA
	err    error
	vp     viewport.Model
	width  int
	form   *form
	accept *field
	tag    int64
}

type eulaMsg struct {
	tag  int64
	eula sysconf.EULA
	err  error
}

type eulaRecordedMsg struct{ err error }

func newEULAPage(m *Model) *eulaPage {
	p := &eulaPage{vp: viewport.New(0, 0)}
	p.accept = &field{kind: fieldCheck, label: "eula.accept"}
	p.accept.check = func(string) string {
		if !p.accept.checked {
			return m.t("eula.err.accept")
		}
		return ""
	}
	p.form = &form{fields: []*field{p.accept}, buttons: []button{
		{label: "btn.back", press: m.back},
		{label: "btn.continue", primary: true, press: func() tea.Cmd {
			cfg, e := m.cfg, *p.eula
			return func() tea.Msg { return eulaRecordedMsg{err: firstboot.ApplyEULA(&cfg.Config, e)} }
		}},
	}}
	return p
}

func (*eulaPage) name() string         { return "eula" }
func (*eulaPage) step() firstboot.Step { return firstboot.StepLicense }

func (p *eulaPage) enter(m *Model) tea.Cmd {
	if p.eula != nil && p.eula.Language == m.choice.Lang.Code {
		return nil
	}
	p.tag = m.busy()
	tag, cfg, lang := p.tag, m.cfg, m.choice.Lang.Code
	return func() tea.Msg {
		e, err := cfg.Sys.EULA(lang)
		return eulaMsg{tag: tag, eula: e, err: err}
	}
}

func (p *eulaPage) update(m *Model, msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case eulaMsg:
		if msg.tag != p.tag {
			return nil
		}
		p.eula, p.err, p.width = &msg.eula, msg.err, 0
		if msg.err == nil && m.choice.EULA == msg.eula.SHA256() {
			p.accept.checked = true // accepted before a restart: the same text
		}
		return nil
	case eulaRecordedMsg:
		if msg.err != nil {
			p.err = msg.err
			return nil
		}
		m.choice.EULA = p.eula.SHA256()
		return m.startStep(firstboot.StepNetwork)
	case tea.MouseMsg:
		var cmd tea.Cmd
		p.vp, cmd = p.vp.Update(msg)
		return cmd
	case clickMsg: // the form is below the heading line and the text
		if p.eula == nil {
			return nil
		}
		return p.form.click(msg.line-1-p.vp.Height, msg.col, m.cfg.Theme, m.t, m.bodyWidth())
	case tea.KeyMsg:
		switch msg.String() {
		case "esc":
			return m.back()
		case "up", "down", "pgup", "pgdown", "home", "end":
			switch msg.String() {
			case "up":
				p.vp.ScrollUp(1)
			case "down":
				p.vp.ScrollDown(1)
			case "pgup":
				p.vp.PageUp()
			case "pgdown":
				p.vp.PageDown()
			case "home":
				p.vp.GotoTop()
			case "end":
				p.vp.GotoBottom()
			}
			return nil
		case "enter":
			if p.eula == nil {
				return nil
			}
			if p.form.focusedField() == p.accept {
				return p.form.primary(m.t)
			}
		}
		if p.eula == nil {
			return nil
		}
		cmd, _ := p.form.key(msg, m.t)
		return cmd
	}
	return nil
}

func (p *eulaPage) view(m *Model, w, h int) (string, []widget.KeyHelp) {
	t := m.cfg.Theme
	head := t.Heading.Render(m.t("eula.heading"))
	help := []widget.KeyHelp{{Key: "Space", Does: m.t("help.toggle")}, {Key: "PgDn", Does: m.t("help.scroll")}, {Key: "Enter", Does: m.t("help.continue")}, {Key: "Esc", Does: m.t("help.back")}}
	if p.err != nil && p.eula == nil {
		return head + "\n\n" + t.Error.Render(m.t("eula.err.load")) + "\n" + p.err.Error(), []widget.KeyHelp{{Key: "Esc", Does: m.t("help.back")}}
	}
	if p.eula == nil {
		return head + "\n\n" + m.spin.View(), help
	}
	formView := p.form.view(t, m.t, w)
	formLines := lineCount(formView)
	p.vp.Height = max(h-3-formLines-1, 3)
	if p.width != w || p.vp.Width != w {
		p.width, p.vp.Width = w, w
		p.vp.SetContent(widget.Wrap(p.eula.Text, w-1))
	}
	pos := t.Muted.Render(fmt.Sprintf("%3.0f%%", p.vp.ScrollPercent()*100))
	body := head + "  " + pos + "\n" + p.vp.View() + "\n" + formView
	if p.err != nil {
		body += "\n" + t.Error.Render(p.err.Error())
	}
	return body, help
}

func lineCount(s string) int {
	n := 1
	for _, r := range s {
		if r == '\n' {
			n++
		}
	}
	return n
}
