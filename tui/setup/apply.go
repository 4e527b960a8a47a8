package setup

import (
	tea "github.com/charmbracelet/bubbletea"

	"github.com/onramp-os/onramp/firstboot"
	"github.com/onramp-os/onramp/sysconf"
)

// languageAppliedMsg: keymapErr was already shown as a warning when the
// layout was picked (keymapMsg), so only err stops the step.
type languageAppliedMsg struct{ err error }

func applyLanguageCmd(m *Model) tea.Cmd {
	cfg, c := m.cfg, m.choice
	return func() tea.Msg {
		_, err := firstboot.ApplyLanguage(cfg.Context, &cfg.Config, c.Lang, c.Layout, c.Variant)
		return languageAppliedMsg{err: err}
	}
}

type keymapMsg struct{ err error }

// loadKeymapCmd loads the console keymap at once, so the layout just
// chosen already works in the try field.
func loadKeymapCmd(cfg *Config, layout, variant string) tea.Cmd {
	return func() tea.Msg {
		return keymapMsg{err: cfg.Keymaps.Load(cfg.Context, sysconf.ConsoleKeymap(layout, variant))}
	}
}

type finishedMsg struct{ err error }

// skipCmd ends a setup without onboarding: the Starter license, then
// setup.done.
func skipCmd(m *Model) tea.Cmd {
	cfg, c := m.cfg, m.choice
	return func() tea.Msg {
		if err := firstboot.SkipOnboarding(&cfg.Config); err != nil {
			return finishedMsg{err: err}
		}
		return finishedMsg{err: firstboot.Finish(&cfg.Config, c)}
	}
}

func finishCmd(m *Model) tea.Cmd {
	cfg, c := m.cfg, m.choice
	return func() tea.Msg { return finishedMsg{err: firstboot.Finish(&cfg.Config, c)} }
}
