package setup

import (
	"fmt"
	"runtime/debug"

	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/onramp-os/onramp/firstboot"
	"github.com/onramp-os/onramp/i18n"
	"github.com/onramp-os/onramp/netcfg/proxy"
	"github.com/onramp-os/onramp/sysconf"
	"github.com/onramp-os/onramp/tui/widget"
)

// Config is what the screens work on: the flow's configuration, and how
// they look.
type Config struct {
	firstboot.Config
	Theme   widget.Theme
	Version string // the assistant's version, for the info dialog
	// Hints are shown under a page's body, by page name: the demo tells
	// its keys and passwords there.
	Hints map[string]string
	// SaveSupport saves support information (F9 on the error screens);
	// nil offers no key.
	SaveSupport widget.SaveSupportFunc
}

func (c *Config) defaults() {
	c.Config.Defaults()
	if c.Theme.IsZero() {
		c.Theme = widget.PlainTheme()
	}
}

// page is one screen of the assistant.
type page interface {
	name() string
	step() firstboot.Step
	update(m *Model, msg tea.Msg) tea.Cmd
	view(m *Model, w, h int) (body string, help []widget.KeyHelp)
}

// Model is the root model of the setup assistant. Pages are components:
// the root handles the window size, F1 and Ctrl+C, then hands the message
// to the active page; pages move on through the root's goTo/back.
type Model struct {
	cfg    *Config
	tr     *i18n.Catalog
	width  int
	height int
	spin   spinner.Model

	cur     page
	history []page
	data    *firstboot.Data // loaded by the first Cmd; nil until then
	choice  firstboot.Choice
	info    *infoDialog
	tag     int64 // of the request whose answer the current page waits for
	outcome firstboot.Outcome
	fatal   error  // loading failed: shown, then quit on a key
	warn    string // a background write failed: shown above every page
	support widget.Support
	// supportOn is the error screen support information was saved from:
	// the result shows there only.
	supportOn page
	// savedProxy is the proxy saved in this run (the proxy page shows it
	// when opened again); nil when none was.
	savedProxy *proxy.Config
}

// New returns the assistant, starting by loading its data.
func New(cfg Config) *Model {
	cfg.defaults()
	m := &Model{cfg: &cfg, width: widget.DefaultWidth, height: widget.DefaultHeight, tr: i18n.For("en")}
	m.spin = spinner.New(spinner.WithSpinner(cfg.Theme.Spinner))
	if l, ok := sysconf.LanguageFor(cfg.Prefill.Language); ok {
		m.tr = i18n.For(l.Code)
	}
	m.cur = &loadingPage{}
	return m
}

// Outcome says how the run ended; call it after the program ended.
func (m *Model) Outcome() firstboot.Outcome { return m.outcome }

// Init loads the lists and the saved state.
func (m *Model) Init() tea.Cmd {
	return tea.Batch(loadCmd(m.cfg), m.spin.Tick)
}

func (m *Model) t(key string, args ...any) string { return m.tr.T(key, args...) }

// Update handles the global messages, then the page's.
func (m *Model) Update(msg tea.Msg) (model tea.Model, cmd tea.Cmd) {
	defer func() {
		if r := recover(); r != nil {
			m.outcome.Err = fmt.Errorf("internal error: %v\n%s", r, debug.Stack())
			model, cmd = m, tea.Quit
		}
	}()
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		return m, nil
	case spinner.TickMsg:
		m.spin, cmd = m.spin.Update(msg)
		return m, cmd
	case stateSavedMsg:
		if msg.err != nil {
			m.warn = m.t("warn.state", msg.err)
		}
		return m, nil
	case persistedMsg:
		if msg.err != nil {
			m.warn = m.t("warn.persist", msg.err)
		}
		return m, nil
	case keymapMsg:
		if msg.err != nil {
			m.warn = m.t("warn.keymap", msg.err)
		}
		return m, nil
	case widget.SupportSavedMsg:
		m.support.Update(msg)
		return m, nil
	case firstboot.Info:
		if m.info != nil {
			m.info.data, m.info.loaded = msg, true
		}
		return m, nil
	case tea.MouseMsg:
		if c, ok := m.click(msg); ok {
			return m, m.cur.update(m, c)
		}
		if m.info != nil {
			return m, nil
		}
	case tea.KeyMsg:
		switch msg.String() {
		case "ctrl+c":
			return m, tea.Quit
		case widget.SupportKey:
			if m.info == nil && m.onErrorScreen() {
				if m.supportOn != m.cur {
					m.support.Reset()
				}
				m.supportOn = m.cur
				return m, m.support.Start(m.cfg.Context, m.cfg.SaveSupport)
			}
		case "f1":
			if m.info != nil {
				m.info = nil
				return m, nil
			}
			m.info = &infoDialog{}
			return m, infoCmd(m.cfg)
		}
		if m.info != nil {
			if s := msg.String(); s == "esc" || s == "enter" || s == "q" {
				m.info = nil
			}
			return m, nil
		}
	}
	return m, m.cur.update(m, msg)
}

// View draws the whole screen.
func (m *Model) View() string {
	t := m.cfg.Theme
	body, help := m.cur.view(m, m.bodyWidth(), m.bodyRows())
	if h, ok := m.cfg.Hints[m.cur.name()]; ok && m.info == nil {
		body += "\n\n" + t.Muted.Render(h)
	}
	if m.info != nil {
		body, help = m.info.view(m), []widget.KeyHelp{{Key: "Esc", Does: m.t("help.close")}}
	} else if m.warn != "" {
		body = t.Warning.Render(t.Warn+" "+m.warn) + "\n" + body
	}
	if m.info == nil && m.onErrorScreen() {
		if m.supportOn == m.cur {
			if s := m.support.View(t, m.t, m.bodyWidth()); s != "" {
				body += "\n\n" + s
			}
		}
		help = append(help, m.support.Help(m.t))
	}
	help = append(help, widget.KeyHelp{Key: "F1", Does: m.t("help.info")})
	var steps []string
	for _, k := range firstboot.StepKeys {
		steps = append(steps, m.t(k))
	}
	return t.Screen(m.width, m.height, m.title(), steps, int(m.cur.step()), body, help)
}

// onErrorScreen reports whether the screen shows a failure support may
// want to see (loading failed, a connection failed, onboarding failed) and
// support information can be saved.
func (m *Model) onErrorScreen() bool {
	if m.cfg.SaveSupport == nil {
		return false
	}
	if m.fatal != nil {
		return true
	}
	e, ok := m.cur.(interface{ failed() bool })
	return ok && e.failed()
}

func (m *Model) title() string {
	if m.data == nil {
		return m.t("title.loading")
	}
	return m.data.OS.Title()
}

// bodyWidth and bodyRows are the frame's inside.
func (m *Model) bodyWidth() int {
	return max(m.width-m.cfg.Theme.Frame.GetHorizontalFrameSize(), 20)
}

func (m *Model) bodyRows() int {
	return max(m.height-2-m.cfg.Theme.Frame.GetVerticalFrameSize(), 5)
}

// goTo shows p, remembering the current page for Back.
func (m *Model) goTo(p page) tea.Cmd {
	if t, ok := m.cur.(interface{ transient() bool }); !ok || !t.transient() {
		m.history = append(m.history, m.cur)
	}
	m.cur = p
	return m.enter(p)
}

// replace shows p instead of the current page (progress pages are not
// returned to).
func (m *Model) replace(p page) tea.Cmd {
	m.cur = p
	return m.enter(p)
}

// back returns to the page before; at the start of a resumed run it builds
// the previous step's first page.
func (m *Model) back() tea.Cmd {
	m.tag = widget.NextTag() // whatever the page waited for is stale now
	if n := len(m.history); n > 0 {
		m.cur = m.history[n-1]
		m.history = m.history[:n-1]
		return m.enter(m.cur)
	}
	if s := m.cur.step(); s > firstboot.StepLanguage && s < firstboot.StepDone {
		prev := s - 1
		if prev == firstboot.StepNetwork && m.choice.Network == "present" {
			prev = firstboot.StepLicense
		}
		m.cur = m.stepPage(prev)
		return m.enter(m.cur)
	}
	return nil
}

// enter runs what a page needs when it shows (a scan, a detection).
func (m *Model) enter(p page) tea.Cmd {
	if e, ok := p.(interface{ enter(*Model) tea.Cmd }); ok {
		return e.enter(m)
	}
	return nil
}

// stepPage is the first page of a step.
func (m *Model) stepPage(s firstboot.Step) page {
	switch s {
	case firstboot.StepLicense:
		return newEULAPage(m)
	case firstboot.StepNetwork:
		return &netCheckPage{}
	case firstboot.StepTimezone:
		return newTZPage(m)
	case firstboot.StepOnboarding:
		return newEmailPage(m)
	case firstboot.StepDone:
		return &finishPage{}
	}
	return newLanguagePage(m)
}

// startStep goes to the first page of step s after finishing the one
// before: the state is saved first (in a Cmd), so a restart resumes there.
func (m *Model) startStep(s firstboot.Step) tea.Cmd {
	m.choice.Step = s
	save := saveStateCmd(m.cfg, m.choice.State(m.cfg.Now()))
	return tea.Batch(save, m.goTo(m.stepPage(s)))
}

// busy tags a new request and returns its tag.
func (m *Model) busy() int64 {
	m.tag = widget.NextTag()
	return m.tag
}

// current reports whether an answer with tag is still awaited.
func (m *Model) current(tag int64) bool { return tag == m.tag }
