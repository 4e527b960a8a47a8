package osc

import (
	"strings"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/onramp-os/onramp/tui/widget"
)

// updateHome handles the home menu and, once chosen, the install flow.
func (m Model) updateHome(msg tea.Msg) (tea.Model, tea.Cmd) {
	var cmd tea.Cmd
	if m.installing {
		if k, ok := msg.(tea.KeyMsg); ok {
			switch {
			case m.install.asking:
				m.install = m.install.updateQuestion(k.String())
				return m, nil
			case m.install.busy():
				// Never ignored: ctrl+c asks, and stopping runs the
				// installer's failure path.
				if s := k.String(); s == "ctrl+c" || s == "q" {
					m.install = m.install.askStop()
				}
				return m, nil
			}
			switch k.String() {
			case "ctrl+c", "q":
				return m, tea.Quit
			case "esc":
				var ok bool
				if m.install, ok = m.install.back(); !ok && !m.env.cfg.InstallOnly && m.install.step < instProgress {
					m.installing, m.home = false, true
				}
				return m, nil
			}
		}
		if _, ok := msg.(quitMsg); ok {
			return m, tea.Quit
		}
		m.install, cmd = m.install.update(msg)
		return m, cmd
	}
	if k, ok := msg.(tea.KeyMsg); ok {
		switch k.String() {
		case "ctrl+c", "q", "esc":
			return m, tea.Quit
		case "up", "k", "down", "j", "tab", "shift+tab":
			m.homeFocus = 1 - m.homeFocus
		case "enter":
			m.home = false
			if m.homeFocus == 0 {
				m.active = pageImages
				return m, m.images.enter()
			}
			m.installing = true
			if m.install.entered { // the payload check and the scan stand
				m.install.step, m.install.cursor = instLanguage, 0
				return m, nil
			}
			m.install.entered = true
			return m, m.install.load()
		}
	}
	return m, nil
}

// viewHome draws the home menu in the installer's language (English until
// one is chosen there), or the install flow.
func (m Model) viewHome(inner int) string {
	th := m.env.cfg.Theme
	if m.installing {
		body, help := m.install.view(inner, m.height, m.spin.View())
		steps, cur := m.install.steps()
		return th.Screen(m.width, m.height, m.install.title(), steps, cur, body, help)
	}
	t := m.install.tr.T
	var b strings.Builder
	b.WriteString(th.Heading.Render(t("home.question")) + "\n\n")
	for i, l := range []string{t("home.create"), t("install.title")} {
		b.WriteString(th.Row(i == m.homeFocus, false, l) + "\n")
	}
	help := []widget.KeyHelp{{Key: "↑/↓", Does: t("help.move")}, {Key: "enter", Does: t("help.choose")}, {Key: "q", Does: t("help.quit")}}
	return th.Screen(m.width, m.height, t("home.title"), nil, 0, b.String(), help)
}
