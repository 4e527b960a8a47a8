package tui

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/onramp-os/onramp/netcfg"
	"github.com/onramp-os/onramp/sysconf"
	"github.com/onramp-os/onramp/tui/i18n"
)

// setupData is what the assistant reads once at the start.
type setupData struct {
	layouts  []sysconf.Layout
	zones    []sysconf.Zone
	os       sysconf.OSRelease
	hostname string
	state    sysconf.SetupState
	resumed  bool
}

type loadedMsg struct {
	data *setupData
	err  error
}

func loadCmd(cfg *SetupConfig) tea.Cmd {
	return func() tea.Msg {
		d := &setupData{os: cfg.Sys.OSRelease(), hostname: cfg.Sys.Hostname()}
		var err error
		if d.layouts, err = cfg.Sys.Layouts(); err != nil {
			return loadedMsg{err: fmt.Errorf("keyboard layouts: %w", err)}
		}
		if d.zones, err = cfg.Sys.Zones(); err != nil {
			return loadedMsg{err: fmt.Errorf("time zones: %w", err)}
		}
		if cfg.Fresh {
			return loadedMsg{data: d}
		}
		if d.state, d.resumed, err = cfg.Sys.LoadState(); err != nil {
			// A damaged state file is no reason to refuse the setup: it
			// starts over and overwrites it.
			d.state, d.resumed = sysconf.SetupState{}, false
		}
		return loadedMsg{data: d}
	}
}

// setupChoice is what the user decided so far.
type setupChoice struct {
	step    stepID
	lang    sysconf.Language
	layout  string
	variant string
	eula    string // SHA-256 of the accepted text
	network string // "present", "wired", "wlan:SSID", "mobile"
	zone    string
	email   string
	server  string
	port    int
}

func (c setupChoice) state(now time.Time) sysconf.SetupState {
	return sysconf.SetupState{Step: stepNames[c.step], Language: c.lang.Locale, Layout: c.layout, Variant: c.variant,
		EULA: c.eula, Network: c.network, TimeZone: c.zone, Email: c.email, Server: c.server, Port: c.port, Saved: now.UTC()}
}

// restore takes the choices of a saved state.
func (c *setupChoice) restore(st sysconf.SetupState) {
	for i, n := range stepNames {
		if n == st.Step {
			c.step = stepID(i)
		}
	}
	if l, ok := sysconf.LanguageFor(st.Language); ok {
		c.lang = l
	}
	c.layout, c.variant, c.eula, c.network, c.zone = st.Layout, st.Variant, st.EULA, st.Network, st.TimeZone
	c.email, c.server, c.port = st.Email, st.Server, st.Port
}

type stateSavedMsg struct{ err error }

func saveStateCmd(cfg *SetupConfig, st sysconf.SetupState) tea.Cmd {
	return func() tea.Msg { return stateSavedMsg{err: cfg.Sys.SaveState(st)} }
}

// loadingPage waits for the data, then starts or resumes.
type loadingPage struct{}

func (*loadingPage) name() string { return "loading" }
func (*loadingPage) step() stepID { return stepLanguage }

func (p *loadingPage) update(m *Setup, msg tea.Msg) tea.Cmd {
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

func (p *loadingPage) view(m *Setup, w, h int) (string, []keyHelp) {
	if m.fatal != nil {
		return m.cfg.Theme.Error.Render(m.t("load.failed")) + "\n\n" + m.fatal.Error(), []keyHelp{{"Enter", m.t("help.quit")}}
	}
	return m.spin.View() + " " + m.t("load.busy"), nil
}

// start resumes a saved run, or begins with the language.
func (m *Setup) start() tea.Cmd {
	m.choice.lang, _ = sysconf.LanguageFor(m.cfg.Prefill.Language)
	if m.choice.lang.Code == "" {
		m.choice.lang = sysconf.Languages[0]
	}
	if !m.data.resumed || m.data.state.Step == stepNames[stepLanguage] {
		m.tr = i18n.For(m.choice.lang.Code)
		return m.replace(newLanguagePage(m))
	}
	m.choice.restore(m.data.state)
	m.tr = i18n.For(m.choice.lang.Code)
	return m.replace(m.stepPage(m.choice.step))
}

// infoMsg is what the info dialog shows.
type infoMsg struct {
	macs     []string
	unitID   string
	addrs    []string
	hostname string
	osName   string
	osVer    string
}

type infoDialog struct {
	loaded bool
	data   infoMsg
}

func infoCmd(cfg *SetupConfig, d *setupData) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(cfg.Context, 5*time.Second)
		defer cancel()
		osr := cfg.Sys.OSRelease()
		msg := infoMsg{hostname: cfg.Sys.Hostname(), osName: osr.Name, osVer: osr.Version}
		if msg.osVer == "" {
			msg.osVer = osr.VersionID
		}
		links, _ := cfg.Net.Links(ctx)
		for _, l := range links {
			if l.MAC != "" {
				msg.macs = append(msg.macs, l.Name+"  "+strings.ToUpper(l.MAC))
			}
			for _, a := range l.Addrs {
				msg.addrs = append(msg.addrs, l.Name+"  "+a.String())
			}
		}
		sort.Strings(msg.addrs)
		if l, ok := netcfg.PreferredLink(links); ok {
			msg.unitID = netcfg.UnitID(l.MAC)
		}
		return msg
	}
}

func (d *infoDialog) view(m *Setup) string {
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
		{m.t("info.unitid"), dash(d.data.unitID)},
		{m.t("info.mac"), dash(strings.Join(d.data.macs, "\n"))},
		{m.t("info.ip"), dash(strings.Join(d.data.addrs, "\n"))},
		{m.t("info.hostname"), dash(d.data.hostname)},
		{m.t("info.os"), dash(strings.TrimSpace(d.data.osName + " " + d.data.osVer))},
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
			b.WriteString(padRight(label, w+2) + v + "\n")
		}
	}
	return strings.TrimRight(b.String(), "\n")
}
