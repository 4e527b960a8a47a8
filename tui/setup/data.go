package setup

import (
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/onramp-os/onramp/firstboot"
	"github.com/onramp-os/onramp/i18n"
	"github.com/onramp-os/onramp/license"
	"github.com/onramp-os/onramp/sysconf"
	"github.com/onramp-os/onramp/tui/widget"
)

type loadedMsg struct {
	data *firstboot.Data
	err  error
}

func loadCmd(cfg *Config) tea.Cmd {
	return func() tea.Msg {
		d, err := firstboot.Load(&cfg.Config)
		return loadedMsg{data: d, err: err}
	}
}

type stateSavedMsg struct{ err error }

func saveStateCmd(cfg *Config, st sysconf.SetupState) tea.Cmd {
	return func() tea.Msg { return stateSavedMsg{err: cfg.Sys.SaveState(st)} }
}

// loadingPage waits for the data, then starts or resumes.
type loadingPage struct{}

func (*loadingPage) name() string         { return "loading" }
func (*loadingPage) step() firstboot.Step { return firstboot.StepLanguage }

func (p *loadingPage) update(m *Model, msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case loadedMsg:
		if msg.err != nil {
			m.fatal = msg.err
			return nil
		}
		m.data = msg.data
		return m.start()
	case tea.KeyMsg:
		if m.fatal != nil {
			m.outcome.Err = m.fatal
			return tea.Quit
		}
	}
	return nil
}

func (p *loadingPage) view(m *Model, w, h int) (string, []widget.KeyHelp) {
	if m.fatal != nil {
		return m.cfg.Theme.Error.Render(m.t("load.failed")) + "\n\n" + m.fatal.Error(), []widget.KeyHelp{{Key: "Enter", Does: m.t("help.quit")}}
	}
	return m.spin.View() + " " + m.t("load.busy"), nil
}

// start resumes a saved run, or begins with the language.
func (m *Model) start() tea.Cmd {
	m.choice.Lang, _ = sysconf.LanguageFor(m.cfg.Prefill.Language)
	if m.choice.Lang.Code == "" {
		m.choice.Lang = sysconf.Languages[0]
	}
	if !m.data.Resumed || m.data.State.Step == firstboot.StepNames[firstboot.StepLanguage] {
		m.tr = i18n.For(m.choice.Lang.Code)
		return m.replace(newLanguagePage(m))
	}
	m.choice.Restore(m.data.State)
	m.tr = i18n.For(m.choice.Lang.Code)
	return m.replace(m.stepPage(m.choice.Step))
}

type infoDialog struct {
	loaded bool
	data   firstboot.Info
}

func infoCmd(cfg *Config) tea.Cmd {
	return func() tea.Msg { return firstboot.DeviceInfo(&cfg.Config) }
}

func (d *infoDialog) view(m *Model) string {
	t := m.cfg.Theme
	if !d.loaded {
		return t.Heading.Render(m.t("info.title")) + "\n\n" + m.spin.View()
	}
	dash := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
	rows := [][2]string{
		{m.t("info.unitid"), dash(d.data.UnitID)},
		{m.t("info.mac"), dash(strings.Join(d.data.MACs, "\n"))},
		{m.t("info.ip"), dash(strings.Join(d.data.Addrs, "\n"))},
		{m.t("info.hostname"), dash(d.data.Hostname)},
		{m.t("info.os"), dash(strings.TrimSpace(d.data.OSName + " " + d.data.OSVersion))},
		{m.t("info.licenses"), dash(licenseLines(m, d.data.Licenses))},
		{m.t("info.version"), dash(m.cfg.Version)},
	}
	w := 0
	for _, r := range rows {
		w = max(w, len([]rune(r[0])))
	}
	var b strings.Builder
	b.WriteString(t.Heading.Render(m.t("info.title")) + "\n\n")
	for _, r := range rows {
		for i, v := range strings.Split(r[1], "\n") {
			label := ""
			if i == 0 {
				label = r[0]
			}
			b.WriteString(widget.PadRight(label, w+2) + v + "\n")
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

// licenseLines is one line per license with its state.
func licenseLines(m *Model, st []license.Status) string {
	lines := make([]string, 0, len(st))
	for _, s := range st {
		lines = append(lines, firstboot.LicenseText(m.t, s))
	}
	return strings.Join(lines, "\n")
}
