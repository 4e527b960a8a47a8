package tui

import (
	"strings"

	tea "github.com/charmbracelet/bubbletea"
)

const homeTitle = "OS Creator"

// updateHome handles the home menu and, once chosen, the install flow.
func (m OSC) updateHome(msg tea.Msg) (tea.Model, tea.Cmd) {
	var cmd tea.Cmd
	if m.installing {
		if k, ok := msg.(tea.KeyMsg); ok && !m.install.busy() {
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

func (m OSC) viewHome(inner int) string {
	th := m.env.cfg.Theme
	if m.installing {
		body, help := m.install.view(inner, m.height, m.spin.View())
		steps, cur := m.install.steps()
		return th.screen(m.width, m.height, m.install.title(), steps, cur, body, help)
	}
	var b strings.Builder
	b.WriteString(th.Heading.Render("What do you want to do?") + "\n\n")
	for i, l := range []string{oscTitle, "Install base system"} {
		b.WriteString(th.row(i == m.homeFocus, false, l) + "\n")
	}
	help := []keyHelp{{"up/down", "choose"}, {"enter", "select"}, {"q", "quit"}}
	return th.screen(m.width, m.height, homeTitle, nil, 0, b.String(), help)
}
