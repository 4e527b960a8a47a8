package tui

import (
	"context"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/onramp-os/onramp/netcfg"
	"github.com/onramp-os/onramp/onboard"
	"github.com/onramp-os/onramp/sysconf"
	"github.com/onramp-os/onramp/tui/i18n"
)

// SetupSystem is what the setup assistant reads and writes under its root;
// sysconf.Root implements it.
type SetupSystem interface {
	Path(p string) string
	Layouts() ([]sysconf.Layout, error)
	Zones() ([]sysconf.Zone, error)
	EULA(lang string) (sysconf.EULA, error)
	OSRelease() sysconf.OSRelease
	Hostname() string
	WriteLocale(sysconf.Language) error
	WriteKeyboard(layout, variant string) error
	RecordEULA(e sysconf.EULA, at time.Time) error
	WriteTimezone(zone string) error
	WriteAdjtime() error
	LoadState() (sysconf.SetupState, bool, error)
	SaveState(sysconf.SetupState) error
	MarkDone(at time.Time) error
}

// SetupConfig is what the setup assistant works on: the root's files, the
// network, the onboarding client and the effects on the running system.
// The real system and the demo differ only here.
type SetupConfig struct {
	Context   context.Context
	Theme     Theme
	Sys       SetupSystem
	Net       netcfg.Backend
	Onboarder onboard.Onboarder
	Keymaps   sysconf.Keymaps          // default: none (offline root)
	Clock     sysconf.Clock            // default: none
	Detector  sysconf.TimezoneDetector // nil: DHCP option 101 of the connection only
	Now       func() time.Time
	Version   string  // the assistant's version, for the info dialog
	Prefill   Answers // values to start with (--answers)
	// Fresh ignores the saved progress (--force after a completed setup).
	Fresh bool
	// Hints are shown under a page's body, by page name: the demo tells
	// its keys and passwords there.
	Hints map[string]string
}

func (c *SetupConfig) defaults() {
	if c.Context == nil {
		c.Context = context.Background()
	}
	if c.Theme.r == nil {
		c.Theme = PlainTheme()
	}
	if c.Keymaps == nil {
		c.Keymaps = sysconf.NoKeymaps{}
	}
	if c.Clock == nil {
		c.Clock = sysconf.NoClock{}
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Detector == nil {
		c.Detector = sysconf.Detector{DHCP: func(ctx context.Context) string {
			if c.Net == nil {
				return ""
			}
			st, err := c.Net.Status(ctx)
			if err != nil {
				return ""
			}
			return st.TimeZone
		}}
	}
}

// stepID is a step of the header; pages belong to one.
type stepID int

const (
	stepLanguage stepID = iota
	stepLicense
	stepNetwork
	stepTimezone
	stepOnboarding
	stepDone
)

// stepNames are the steps as saved in the state file.
var stepNames = []string{"language", "eula", "network", "timezone", "onboarding", "done"}

var stepKeys = []string{"step.language", "step.license", "step.network", "step.timezone", "step.onboarding"}

// page is one screen of the assistant.
type page interface {
	name() string
	step() stepID
	update(m *Setup, msg tea.Msg) tea.Cmd
	view(m *Setup, w, h int) (body string, help []keyHelp)
}

// SetupOutcome is how a run of the assistant ended.
type SetupOutcome struct {
	Finished  bool            // every step done, setup.done written
	Onboarded *onboard.Result // nil when onboarding was skipped
	Reboot    bool            // the user asked for the reboot
	Err       error           // an internal error (a panic) ended it
}

// Setup is the root model of the setup assistant. Pages are components:
// the root handles the window size, F1 and Ctrl+C, then hands the message
// to the active page; pages move on through the root's goTo/back.
type Setup struct {
	cfg    *SetupConfig
	tr     *i18n.Catalog
	width  int
	height int
	spin   spinner.Model

	cur     page
	history []page
	data    *setupData // loaded by the first Cmd; nil until then
	choice  setupChoice
	info    *infoDialog
	tag     int64 // of the request whose answer the current page waits for
	outcome SetupOutcome
	fatal   error  // loading failed: shown, then quit on a key
	warn    string // a background write failed: shown above every page
}

// NewSetup returns the assistant, starting by loading its data.
func NewSetup(cfg SetupConfig) *Setup {
	cfg.defaults()
	m := &Setup{cfg: &cfg, width: defaultWidth, height: defaultHeight, tr: i18n.For("en")}
	m.spin = spinner.New(spinner.WithSpinner(cfg.Theme.Spinner))
	if l, ok := sysconf.LanguageFor(cfg.Prefill.Language); ok {
		m.tr = i18n.For(l.Code)
	}
	m.cur = &loadingPage{}
	return m
}

// Outcome says how the run ended; call it after the program ended.
func (m *Setup) Outcome() SetupOutcome { return m.outcome }

// Init loads the lists and the saved state.
func (m *Setup) Init() tea.Cmd {
	return tea.Batch(loadCmd(m.cfg), m.spin.Tick)
}

func (m *Setup) t(key string, args ...any) string { return m.tr.T(key, args...) }

// Update handles the global messages, then the page's.
func (m *Setup) Update(msg tea.Msg) (model tea.Model, cmd tea.Cmd) {
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
	case infoMsg:
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
		case "f1":
			if m.info != nil {
				m.info = nil
				return m, nil
			}
			m.info = &infoDialog{}
			return m, infoCmd(m.cfg, m.data)
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
func (m *Setup) View() string {
	t := m.cfg.Theme
	body, help := m.cur.view(m, m.bodyWidth(), m.bodyRows())
	if h, ok := m.cfg.Hints[m.cur.name()]; ok && m.info == nil {
		body += "\n\n" + t.Muted.Render(h)
	}
	if m.info != nil {
		body, help = m.info.view(m), []keyHelp{{"Esc", m.t("help.close")}}
	} else if m.warn != "" {
		body = t.Warning.Render(t.Warn+" "+m.warn) + "\n" + body
	}
	help = append(help, keyHelp{"F1", m.t("help.info")})
	var steps []string
	for _, k := range stepKeys {
		steps = append(steps, m.t(k))
	}
	return t.screen(m.width, m.height, m.title(), steps, int(m.cur.step()), body, help)
}

func (m *Setup) title() string {
	if m.data == nil {
		return m.t("title.loading")
	}
	return m.data.os.Title()
}

// bodyWidth and bodyRows are the frame's inside.
func (m *Setup) bodyWidth() int {
	return max(m.width-m.cfg.Theme.Frame.GetHorizontalFrameSize(), 20)
}

func (m *Setup) bodyRows() int {
	return max(m.height-2-m.cfg.Theme.Frame.GetVerticalFrameSize(), 5)
}

// goTo shows p, remembering the current page for Back.
func (m *Setup) goTo(p page) tea.Cmd {
	if t, ok := m.cur.(interface{ transient() bool }); !ok || !t.transient() {
		m.history = append(m.history, m.cur)
	}
	m.cur = p
	return m.enter(p)
}

// replace shows p instead of the current page (progress pages are not
// returned to).
func (m *Setup) replace(p page) tea.Cmd {
	m.cur = p
	return m.enter(p)
}

// back returns to the page before; at the start of a resumed run it builds
// the previous step's first page.
func (m *Setup) back() tea.Cmd {
	m.tag = nextTag() // whatever the page waited for is stale now
	if n := len(m.history); n > 0 {
		m.cur = m.history[n-1]
		m.history = m.history[:n-1]
		return m.enter(m.cur)
	}
	if s := m.cur.step(); s > stepLanguage && s < stepDone {
		prev := s - 1
		if prev == stepNetwork && m.choice.network == "present" {
			prev = stepLicense
		}
		m.cur = m.stepPage(prev)
		return m.enter(m.cur)
	}
	return nil
}

// enter runs what a page needs when it shows (a scan, a detection).
func (m *Setup) enter(p page) tea.Cmd {
	if e, ok := p.(interface{ enter(*Setup) tea.Cmd }); ok {
		return e.enter(m)
	}
	return nil
}

// stepPage is the first page of a step.
func (m *Setup) stepPage(s stepID) page {
	switch s {
	case stepLicense:
		return newEULAPage(m)
	case stepNetwork:
		return &netCheckPage{}
	case stepTimezone:
		return newTZPage(m)
	case stepOnboarding:
		return newEmailPage(m)
	case stepDone:
		return &finishPage{}
	}
	return newLanguagePage(m)
}

// startStep goes to the first page of step s after finishing the one
// before: the state is saved first (in a Cmd), so a restart resumes there.
func (m *Setup) startStep(s stepID) tea.Cmd {
	m.choice.step = s
	save := saveStateCmd(m.cfg, m.choice.state(m.cfg.Now()))
	return tea.Batch(save, m.goTo(m.stepPage(s)))
}

// busy tags a new request and returns its tag.
func (m *Setup) busy() int64 {
	m.tag = nextTag()
	return m.tag
}

// current reports whether an answer with tag is still awaited.
func (m *Setup) current(tag int64) bool { return tag == m.tag }
