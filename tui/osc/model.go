package osc

import (
	"context"
	"fmt"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/onramp-os/onramp/blockdev"
	"github.com/onramp-os/onramp/images"
	"github.com/onramp-os/onramp/installer"
	"github.com/onramp-os/onramp/internal/exitcode"
	"github.com/onramp-os/onramp/tui/widget"
)

// Stick is one target the stick screen offers: a drive, or a file standing
// in for one (the demo's sticks).
type Stick struct {
	Path  string
	Name  string // "SanDisk Cruzer Blade", "Demo stick 1"
	Size  int64  // bytes
	Drive *blockdev.Drive
}

// Label is how the stick list names it: a file says that it is one.
func (s Stick) Label() string {
	if s.Drive == nil {
		return s.Name + " (file)"
	}
	return s.Name
}

// StickFromDrive is the Stick for a drive blockdev found, named as
// Describe names it, without the size and path the list shows apart.
func StickFromDrive(d blockdev.Drive) Stick {
	name := strings.TrimSuffix(d.Describe(), fmt.Sprintf(" (%s, %s)", blockdev.HumanSize(d.Size), d.Path))
	return Stick{Path: d.Path, Name: name, Size: d.Size, Drive: &d}
}

// Config is what the osc screens work on. Functions left nil use the real
// system (blockdev and images); tests and the demo replace them.
type Config struct {
	// Context is the parent of the writes: cancelling it stops a write.
	Context context.Context
	Dir     string   // folder whose *.iso files are offered
	Images  []string // image files offered before Dir's (the demo image)
	Sticks  []Stick  // targets offered before the drives (the demo sticks)
	Theme   widget.Theme

	// ListDrives lists the candidate drives; default blockdev.List filtered
	// by blockdev.Candidates.
	ListDrives func() ([]blockdev.Drive, error)
	// CheckTarget runs the safety checks on a target before the question;
	// default images.CheckTarget without force.
	CheckTarget func(src images.Source, path string) (images.TargetCheck, error)
	// Write writes and verifies one target; default images.Write.
	Write func(ctx context.Context, src images.Source, target string, opt images.Options) images.Result
	// Refresh is how often the stick list is refreshed; default 1s.
	Refresh time.Duration
	// Install, when set, adds "Install base system": the tool opens at a
	// home menu offering both; with InstallOnly (osc.mode=install) it opens
	// the installer directly.
	Install     *InstallConfig
	InstallOnly bool
	// SaveSupport saves support information (F9 on the failure screens);
	// nil offers no key.
	SaveSupport widget.SaveSupportFunc
}

func (c *Config) defaults() {
	if c.Context == nil {
		c.Context = context.Background()
	}
	if c.Dir == "" {
		c.Dir = "."
	}
	if c.Theme.IsZero() {
		c.Theme = widget.PlainTheme()
	}
	if c.ListDrives == nil {
		c.ListDrives = func() ([]blockdev.Drive, error) {
			ds, err := blockdev.List()
			return blockdev.Candidates(ds), err
		}
	}
	if c.CheckTarget == nil {
		c.CheckTarget = func(src images.Source, path string) (images.TargetCheck, error) {
			return installer.CheckWriteTarget(src, path, false)
		}
	}
	if c.Write == nil {
		c.Write = func(ctx context.Context, src images.Source, target string, opt images.Options) images.Result {
			return images.Write(ctx, src, []string{target}, opt)[0]
		}
	}
	if c.Refresh <= 0 {
		c.Refresh = time.Second
	}
}

type pageID int

const (
	pageImages pageID = iota
	pageSticks
	pageConfirm
	pageWrite
)

var oscSteps = []string{"Image", "Stick", "Confirm", "Write"}

const oscTitle = "Create USB installation medium"

// oscShared is what outlives the model copies Bubble Tea passes around:
// the writes running in the background and why the program ended early.
type oscShared struct {
	jobs sync.WaitGroup
	mu   sync.Mutex
	err  error
}

func (s *oscShared) fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err = err
	}
}

// env is what every page needs to draw and to act.
type env struct {
	cfg    *Config
	shared *oscShared
}

// Model is the root model of "Create USB installation medium": it handles the
// global keys and the window size, then hands messages to the active page.
// Pages move on by returning messages (chosen, back, done), never by
// reaching into each other.
type Model struct {
	env     env
	width   int
	height  int
	active  pageID
	images  imagePage
	sticks  stickPage
	confirm confirmPage
	write   writePage
	spin    spinner.Model
	// home is the menu of the two tools (only with Config.Install);
	// installing hands everything to the install flow.
	home       bool
	homeFocus  int
	installing bool
	install    installPage
}

// New returns the model, starting at the image list.
func New(cfg Config) Model {
	cfg.defaults()
	m := Model{width: widget.DefaultWidth, height: widget.DefaultHeight}
	m.spin = spinner.New(spinner.WithSpinner(cfg.Theme.Spinner))
	m.env = env{cfg: &cfg, shared: &oscShared{}}
	m.images = newImagePage(m.env)
	if cfg.Install != nil {
		m.install = newInstallPage(m.env, cfg.Install)
		m.home, m.installing = !cfg.InstallOnly, cfg.InstallOnly
		m.install.tag, m.install.loading = widget.NextTag(), true
	}
	return m
}

// Wait blocks until every write or install started by the model has
// returned (after a quit or a cancelled context, writes stop and clear the
// stick's start), closes the installer payload, and returns why the
// program ended early: a write or install the user stopped, or an internal
// error. Call it after the program ended.
func (m Model) Wait() error {
	m.env.shared.jobs.Wait()
	if m.env.cfg.Install != nil {
		if err := m.install.shared.close(); err != nil {
			m.env.shared.fail(err)
		}
	}
	m.env.shared.mu.Lock()
	defer m.env.shared.mu.Unlock()
	return m.env.shared.err
}

// Init starts the image scan and the spinner.
func (m Model) Init() tea.Cmd {
	switch {
	case m.installing:
		return tea.Batch(m.install.load(), m.spin.Tick)
	case m.home:
		return m.spin.Tick
	}
	return tea.Batch(m.images.scan(), m.spin.Tick)
}

// Update handles global messages, then the active page's.
func (m Model) Update(msg tea.Msg) (model tea.Model, cmd tea.Cmd) {
	defer func() {
		if r := recover(); r != nil {
			m.env.shared.fail(internalError(r))
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
	}
	if m.home || m.installing {
		return m.updateHome(msg)
	}
	switch msg := msg.(type) {
	case tea.KeyMsg:
		if m.active == pageWrite && m.write.asking {
			return m.updateActive(msg) // the page's own question takes every key
		}
		switch msg.String() {
		case "ctrl+c", "q":
			if m.active == pageWrite && m.write.busy() {
				m.write, cmd = m.write.askStop()
				return m, cmd
			}
			return m, tea.Quit
		case "esc":
			return m.back()
		}
	case imageChosenMsg:
		m.sticks = newStickPage(m.env, msg.image)
		m.active = pageSticks
		return m, m.sticks.enter()
	case stickChosenMsg:
		m.sticks.leave()
		m.confirm = newConfirmPage(m.env, msg.image, msg.stick)
		m.active = pageConfirm
		return m, m.confirm.enter()
	case confirmedMsg:
		m.write = newWritePage(m.env, msg.image, msg.stick, msg.check)
		m.active = pageWrite
		return m, m.write.enter()
	case backMsg:
		return m.back()
	case writeAnotherMsg:
		m.sticks = newStickPage(m.env, msg.image)
		m.active = pageSticks
		return m, m.sticks.enter()
	case retryMsg:
		m.confirm = newConfirmPage(m.env, msg.image, msg.stick)
		m.active = pageConfirm
		return m, m.confirm.enter()
	case quitMsg:
		return m, tea.Quit
	}
	return m.updateActive(msg)
}

func (m Model) updateActive(msg tea.Msg) (tea.Model, tea.Cmd) {
	var cmd tea.Cmd
	switch m.active {
	case pageImages:
		m.images, cmd = m.images.update(msg)
	case pageSticks:
		m.sticks, cmd = m.sticks.update(msg)
	case pageConfirm:
		m.confirm, cmd = m.confirm.update(msg)
	case pageWrite:
		m.write, cmd = m.write.update(msg)
	}
	return m, cmd
}

// back goes to the previous step; nothing goes back from a running write.
func (m Model) back() (tea.Model, tea.Cmd) {
	switch m.active {
	case pageSticks:
		m.sticks.leave()
		m.active = pageImages
		return m, m.images.enter()
	case pageConfirm:
		m.confirm.leave()
		m.sticks = newStickPage(m.env, m.confirm.image)
		m.sticks.cursorPath = m.confirm.stick.Path
		m.active = pageSticks
		return m, m.sticks.enter()
	case pageWrite:
		if m.write.busy() {
			return m, nil
		}
		m.sticks = newStickPage(m.env, m.write.image)
		m.sticks.cursorPath = m.write.stick.Path
		m.active = pageSticks
		return m, m.sticks.enter()
	}
	return m, nil
}

// View draws the active page in the frame.
func (m Model) View() (view string) {
	defer func() {
		if r := recover(); r != nil {
			m.env.shared.fail(internalError(r))
			view = fmt.Sprintf("internal error: %v", r)
		}
	}()
	th := m.env.cfg.Theme
	spin := m.spin.View()
	w, h := m.width, m.height
	inner := max(w-th.Frame.GetHorizontalFrameSize(), 20)
	if m.home || m.installing {
		return m.viewHome(inner)
	}
	var body string
	var help []widget.KeyHelp
	switch m.active {
	case pageImages:
		body, help = m.images.view(inner, h, spin)
	case pageSticks:
		body, help = m.sticks.view(inner, h, spin)
	case pageConfirm:
		body, help = m.confirm.view(inner, spin)
	case pageWrite:
		body, help = m.write.view(inner, spin)
	}
	return th.Screen(w, h, oscTitle, oscSteps, int(m.active), body, help)
}

// Messages pages send to move the flow on.
type (
	imageChosenMsg struct{ image images.Source }
	stickChosenMsg struct {
		image images.Source
		stick Stick
	}
	confirmedMsg struct {
		image images.Source
		stick Stick
		check images.TargetCheck
	}
	writeAnotherMsg struct{ image images.Source }
	retryMsg        struct {
		image images.Source
		stick Stick
	}
	backMsg struct{}
	quitMsg struct{}
)

func send(msg tea.Msg) tea.Cmd { return func() tea.Msg { return msg } }

func internalError(r any) error {
	return exitcode.New(exitcode.Failure, "internal error: %v\n%s", r, debug.Stack())
}
