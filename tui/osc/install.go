package osc

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/onramp-os/onramp/blockdev"
	"github.com/onramp-os/onramp/i18n"
	"github.com/onramp-os/onramp/images"
	"github.com/onramp-os/onramp/installer"
	"github.com/onramp-os/onramp/internal/exitcode"
	"github.com/onramp-os/onramp/sysconf"
	"github.com/onramp-os/onramp/tui/widget"
)

// InstallConfig is what "Install base system" works on. Functions left nil
// use the real system.
type InstallConfig struct {
	// Source is the installer ISO or payload directory (the root --source
	// flag, or the payload found beside the binary).
	Source string
	// TrustKeys are extra public key files trusted besides the built-in
	// keys (tests sign their payloads with their own key).
	TrustKeys []string
	// Targets are image files offered before the drives.
	Targets []string
	// BackupDir receives the backup of what is found; "" = the default
	// installer.BackupDirFor the source.
	BackupDir string
	// Live is true in the live installer (kernel command line
	// osc.mode=install): only then does Reboot reboot; elsewhere it exits.
	Live bool
	// Reboot reboots the machine; default the reboot syscall.
	Reboot func() error
}

// Install steps, in the order the guide lists them.
type instStep int

const (
	instLanguage instStep = iota
	instMigrate
	instTarget
	instEULA
	instInfo
	instProgress
	instDone
	instFailed
)

// instCandidate is one target the install page offers, with what was found on
// it (nil while unread, or when it could not be read: err says why).
type instCandidate struct {
	path, name string
	size       int64
	existing   *installer.Existing
	err        error
}

// installShared outlives the model copies: the verified payload, open
// until the flow ends.
type installShared struct {
	mu      sync.Mutex
	payload *images.Payload
	closed  bool
}

// keep holds pl for the flow, or closes it when the flow already ended
// (the check finished after the program quit).
func (s *installShared) keep(pl *images.Payload) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		pl.Close()
		return false
	}
	s.payload = pl
	return true
}

// close releases the payload (its ISO) as the flow ends.
func (s *installShared) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	if s.payload == nil {
		return nil
	}
	err := s.payload.Close()
	s.payload = nil
	return err
}

// installPage is the whole "Install base system" flow.
type installPage struct {
	env     env
	cfg     *InstallConfig
	tr      *i18n.Catalog
	shared  *installShared
	step    instStep
	cursor  int // list cursor (language, target) or toggle / button focus
	lang    sysconf.Language
	loading bool // payload check or target scan running
	tag     int64
	entered bool // load was issued (from the home menu)

	payloadErr error
	osName     string
	version    string
	eulaLang   string
	eula       string

	targets        []instCandidate
	target         int
	settings, lics bool
	prog           images.Progress
	job            *installJob
	result         *installer.Result
	err            error
	asking         bool // "Stop the installation?" is open
	askFocus       int  // 0 Keep installing (default), 1 Stop
	stopping       bool // stopped: waiting for the installer's failure path
	support        widget.Support
}

func newInstallPage(e env, cfg *InstallConfig) installPage {
	if cfg.Reboot == nil {
		cfg.Reboot = rebootLive
	}
	p := installPage{env: e, cfg: cfg, tr: i18n.For("en"), shared: &installShared{}, lang: sysconf.Languages[0],
		settings: true, lics: true}
	return p
}

type (
	payloadCheckedMsg struct {
		tag                int64
		os, version        string
		eulaLang, eulaText string
		err                error
	}
	targetsScannedMsg struct {
		tag     int64
		targets []instCandidate
	}
	installProgressMsg struct {
		tag int64
		p   images.Progress
	}
	installDoneMsg struct {
		tag int64
		res *installer.Result
		err error
	}
	rebootFailedMsg struct{ err error }
)

// load checks the payload (signature and every file) and reads the
// targets, both in the background while the language is chosen. New
// sets the tag (the root's Init works on a copy of the model and could not
// keep one it set).
func (p installPage) load() tea.Cmd {
	tag, cfg, shared, ctx, list := p.tag, *p.cfg, p.shared, p.env.cfg.Context, p.env.cfg.ListDrives
	return tea.Batch(func() tea.Msg {
		msg := payloadCheckedMsg{tag: tag}
		keys, err := images.LoadTrustedKeys(cfg.TrustKeys...)
		if err != nil {
			msg.err = err
			return msg
		}
		pl, err := images.OpenPayload(cfg.Source)
		if err != nil {
			msg.err = err
			return msg
		}
		if err := pl.Verify(ctx, images.VerifyOptions{Keys: keys}); err != nil {
			pl.Close()
			msg.err = err
			return msg
		}
		if !shared.keep(pl) {
			return nil
		}
		msg.os, msg.version = pl.Manifest.OSName, pl.Manifest.Version
		return msg
	}, func() tea.Msg {
		msg := targetsScannedMsg{tag: tag}
		var cands []instCandidate
		for _, f := range cfg.Targets {
			cands = append(cands, instCandidate{path: f, name: f})
		}
		if ds, err := list(); err == nil {
			for _, d := range ds {
				s := StickFromDrive(d)
				cands = append(cands, instCandidate{path: d.Path, name: s.Name, size: d.Size})
			}
		}
		for i := range cands {
			c := &cands[i]
			t, err := installer.CheckTarget(c.path, cfg.Source)
			if err != nil {
				c.err = err
				continue
			}
			c.size = t.Size
			if t.Drive != nil {
				c.name = StickFromDrive(*t.Drive).Name
			}
			c.existing, c.err = t.ReadExisting()
			t.Close()
		}
		msg.targets = cands
		return msg
	})
}

// eulaCmd reads the payload's EULA in the chosen language.
func (p installPage) eulaCmd() tea.Cmd {
	tag, shared, code := p.tag, p.shared, p.lang.Code
	return func() tea.Msg {
		shared.mu.Lock()
		pl := shared.payload
		shared.mu.Unlock()
		msg := payloadCheckedMsg{tag: tag, os: pl.Manifest.OSName, version: pl.Manifest.Version}
		msg.eulaLang, msg.eulaText, msg.err = pl.EULAText(code)
		return msg
	}
}

func (p installPage) found() (settings, licenses int) {
	for _, c := range p.targets {
		if c.existing != nil {
			settings += c.existing.Settings.Count()
			licenses += c.existing.Licenses.Count()
		}
	}
	return
}

func (p installPage) update(msg tea.Msg) (installPage, tea.Cmd) {
	switch msg := msg.(type) {
	case payloadCheckedMsg:
		if msg.tag != p.tag {
			return p, nil
		}
		if msg.err != nil {
			p.payloadErr = msg.err
		}
		p.osName, p.version = msg.os, msg.version
		if msg.eulaText != "" {
			p.eulaLang, p.eula = msg.eulaLang, strings.TrimSpace(msg.eulaText)
		}
		return p, nil
	case targetsScannedMsg:
		if msg.tag == p.tag {
			p.loading, p.targets = false, msg.targets
			s, l := p.found()
			p.settings, p.lics = s > 0, l > 0
		}
		return p, nil
	case installProgressMsg:
		if p.job == nil || msg.tag != p.job.tag {
			return p, nil
		}
		p.prog = msg.p
		return p, p.job.next()
	case installDoneMsg:
		if p.job == nil || msg.tag != p.job.tag {
			return p, nil
		}
		p.result, p.err = msg.res, msg.err
		p.asking, p.stopping = false, false
		if msg.err != nil {
			p.step = instFailed
		} else {
			p.step = instDone
		}
		return p, nil
	case rebootFailedMsg:
		p.err, p.step = msg.err, instFailed
		return p, nil
	case widget.SupportSavedMsg:
		p.support.Update(msg)
		return p, nil
	case tea.KeyMsg:
		return p.key(msg.String())
	}
	return p, nil
}

func (p installPage) key(k string) (installPage, tea.Cmd) {
	if k == widget.SupportKey && p.failed() {
		var target []string
		if p.step == instFailed && p.target < len(p.targets) {
			target = append(target, p.targets[p.target].path)
		}
		return p, p.support.Start(p.env.cfg.Context, p.env.cfg.SaveSupport, target...)
	}
	up := k == "up" || k == "k" || k == "left" || k == "shift+tab"
	down := k == "down" || k == "j" || k == "right" || k == "tab"
	enter := k == "enter"
	switch p.step {
	case instLanguage:
		switch {
		case up:
			p.cursor = max(p.cursor-1, 0)
		case down:
			p.cursor = min(p.cursor+1, len(sysconf.Languages)-1)
		case enter:
			p.lang = sysconf.Languages[p.cursor]
			p.tr = i18n.For(p.lang.Code)
			p.step, p.cursor = instMigrate, 0
		}
	case instMigrate:
		switch {
		case up:
			p.cursor = max(p.cursor-1, 0)
		case down:
			p.cursor = min(p.cursor+1, 1)
		case k == " " || k == "x":
			if p.cursor == 0 {
				p.settings = !p.settings
			} else {
				p.lics = !p.lics
			}
		case enter && !p.loading:
			p.step, p.cursor = instTarget, 0
		}
	case instTarget:
		switch {
		case up:
			p.cursor = max(p.cursor-1, 0)
		case down:
			p.cursor = min(p.cursor+1, max(len(p.targets)-1, 0))
		case enter && len(p.targets) > 0 && p.payloadErr == nil && p.osName != "":
			if p.targets[p.cursor].err != nil {
				return p, nil
			}
			p.target, p.step, p.cursor, p.eula = p.cursor, instEULA, 0, ""
			return p, p.eulaCmd()
		}
	case instEULA:
		switch {
		case up || down:
			p.cursor = 1 - p.cursor
		case enter && p.cursor == 1 && p.eula != "":
			p.step, p.cursor = instInfo, 0
		case enter:
			p.step, p.cursor = instTarget, p.target
		}
	case instInfo:
		switch {
		case up || down:
			p.cursor = 1 - p.cursor
		case enter && p.cursor == 1:
			p.step, p.prog = instProgress, images.Progress{}
			p.job = newInstallJob(p.env.cfg.Context)
			return p, p.job.start(p.env.shared, p.shared, p.cfg, p.targets[p.target].path, p.settings, p.lics)
		case enter:
			p.step, p.cursor = instTarget, p.target
		}
	case instDone:
		if enter {
			if !p.cfg.Live {
				return p, send(quitMsg{})
			}
			reboot, shared := p.cfg.Reboot, p.shared
			return p, func() tea.Msg {
				if err := shared.close(); err != nil {
					return rebootFailedMsg{err: err}
				}
				if err := reboot(); err != nil {
					return rebootFailedMsg{err: err}
				}
				return nil
			}
		}
	case instFailed:
		if enter {
			return p, send(quitMsg{})
		}
	}
	return p, nil
}

// back goes one step back; nothing goes back from a running install.
func (p installPage) back() (installPage, bool) {
	switch p.step {
	case instMigrate, instTarget, instEULA, instInfo:
		p.step--
		p.cursor = 0
		if p.step == instEULA {
			p.step = instTarget
		}
		return p, true
	}
	return p, false
}

func (p installPage) busy() bool { return p.step == instProgress }

// failed reports whether the page shows a failure support information can
// be saved for: the install failed, or the payload failed its check.
func (p installPage) failed() bool {
	return p.env.cfg.SaveSupport != nil && (p.step == instFailed || p.step == instTarget && p.payloadErr != nil)
}

// withSupport adds the support line and key to a failure screen.
func (p installPage) withSupport(body string, help []widget.KeyHelp, w int) (string, []widget.KeyHelp) {
	if !p.failed() {
		return body, help
	}
	if v := p.support.View(p.env.cfg.Theme, p.tr.T, w); v != "" {
		body += "\n\n" + v
	}
	return body, append(help, p.support.Help(p.tr.T))
}

// askStop opens "Stop the installation?" (once stopping, there is nothing
// to ask).
func (p installPage) askStop() installPage {
	if !p.stopping {
		p.asking, p.askFocus = true, 0
	}
	return p
}

// updateQuestion answers "Stop the installation?"; a second ctrl+c means
// it. Stopping cancels the install: the installer resets the partition
// table and its error names the backup and the restore command, which the
// failure screen shows.
func (p installPage) updateQuestion(k string) installPage {
	switch k {
	case "left", "right", "tab", "shift+tab", "h", "l":
		p.askFocus = 1 - p.askFocus
	case "esc", "n":
		p.asking = false
	case "ctrl+c":
		return p.stop()
	case "enter", " ":
		if p.askFocus == 1 {
			return p.stop()
		}
		p.asking = false
	}
	return p
}

func (p installPage) stop() installPage {
	p.asking, p.stopping = false, true
	if p.job != nil {
		p.job.cancel()
	}
	return p
}

// steps are the header's step names, in the chosen language.
func (p installPage) steps() ([]string, int) {
	t := p.tr.T
	s := []string{t("install.step.language"), t("install.step.migrate"), t("install.step.target"),
		t("install.step.install"), t("install.step.done")}
	cur := map[instStep]int{instLanguage: 0, instMigrate: 1, instTarget: 2, instEULA: 3, instInfo: 3, instProgress: 3, instDone: 4, instFailed: 4}[p.step]
	return s, cur
}

func (p installPage) title() string { return p.tr.T("install.title") }

func (p installPage) view(w, h int, spin string) (string, []widget.KeyHelp) {
	th := p.env.cfg.Theme
	t := p.tr.T
	var b strings.Builder
	move := widget.KeyHelp{Key: "↑/↓", Does: t("help.move")}
	cont := widget.KeyHelp{Key: "enter", Does: t("help.continue")}
	back := widget.KeyHelp{Key: "esc", Does: t("help.back")}
	switch p.step {
	case instLanguage:
		b.WriteString(th.Heading.Render(t("install.language")) + "\n\n")
		from, to := widget.Window(len(sysconf.Languages), p.cursor, h-8)
		for i := from; i < to; i++ {
			l := sysconf.Languages[i]
			b.WriteString(th.Row(i == p.cursor, false, l.Native) + "\n")
		}
		return b.String(), []widget.KeyHelp{move, cont, {Key: "q", Does: t("install.quit")}}
	case instMigrate:
		b.WriteString(th.Heading.Render(t("install.migrate")) + "\n\n")
		if p.loading {
			b.WriteString(spin + " " + t("install.scanning") + "\n\n")
		}
		s, l := p.found()
		toggle := func(i int, on bool, label string, n int) {
			box := "[ ]"
			if on {
				box = "[x]"
			}
			text := box + " " + label
			if !p.loading {
				text += "  " + th.Muted.Render("("+t("install.found", n)+")")
			}
			b.WriteString(th.Row(p.cursor == i, false, text) + "\n")
		}
		toggle(0, p.settings, t("install.migrate.settings"), s)
		toggle(1, p.lics, t("install.migrate.licenses"), l)
		b.WriteString("\n" + th.Buttons([]string{t("help.continue")}, 0))
		return b.String(), []widget.KeyHelp{move, {Key: "space", Does: t("help.toggle")}, cont, back}
	case instTarget:
		b.WriteString(th.Heading.Render(t("install.target")) + "\n\n")
		if p.payloadErr != nil {
			b.WriteString(th.Error.Render(th.Warn+" "+t("install.badpayload")) + "\n" + p.payloadErr.Error() + "\n")
			return p.withSupport(b.String(), []widget.KeyHelp{back, {Key: "q", Does: t("install.quit")}}, w)
		}
		if p.osName == "" {
			b.WriteString(spin + " " + t("install.checking") + "\n")
		} else {
			b.WriteString(th.Muted.Render(p.osName+" "+p.version) + "\n\n")
		}
		if len(p.targets) == 0 {
			b.WriteString(t("install.notargets") + "\n")
		}
		for i, c := range p.targets {
			line := fmt.Sprintf("%s  %s", c.name, blockdev.HumanSize(c.size))
			switch {
			case c.err != nil:
				line += "  " + c.err.Error()
			case c.existing != nil && c.existing.Layout > 0:
				line += "  " + t("install.has", c.existing.OSName, c.existing.OSVersion)
			}
			b.WriteString(th.Row(i == p.cursor, c.err != nil, line) + "\n")
		}
		b.WriteString("\n" + th.Buttons([]string{t("install.install")}, 0))
		return b.String(), []widget.KeyHelp{move, {Key: "enter", Does: t("install.install")}, back}
	case instEULA:
		b.WriteString(th.Heading.Render(t("install.eula")) + "\n\n")
		if p.eula == "" {
			b.WriteString(spin + " " + t("install.checking") + "\n")
		} else {
			b.WriteString(widget.ClipLines(widget.Wrap(p.eula, w), max(h-10, 1)) + "\n\n")
		}
		b.WriteString(th.Buttons([]string{t("help.back"), t("install.agree")}, p.cursor))
		return b.String(), []widget.KeyHelp{{Key: "←/→", Does: t("help.choose")}, cont, back}
	case instInfo:
		c := p.targets[p.target]
		b.WriteString(th.Heading.Render(t("install.info")) + "\n\n")
		fmt.Fprintf(&b, "  %s %s → %s (%s, %s)\n\n", p.osName, p.version, c.name, blockdev.HumanSize(c.size), c.path)
		b.WriteString(th.Warning.Render(th.Warn+" "+t("install.replace")) + "\n\n")
		if c.existing != nil && c.existing.Layout > 0 {
			b.WriteString("  " + t("install.has", c.existing.OSName, c.existing.OSVersion) + "\n")
		}
		fmt.Fprintf(&b, "  %s: %s\n  %s: %s\n\n", t("install.migrate.settings"), p.yesNo(p.settings),
			t("install.migrate.licenses"), p.yesNo(p.lics))
		b.WriteString(th.Buttons([]string{t("help.back"), t("install.install")}, p.cursor))
		return b.String(), []widget.KeyHelp{{Key: "←/→", Does: t("help.choose")}, cont, back}
	case instProgress:
		b.WriteString(th.Heading.Render(t("install.installing", p.osName, p.version)) + "\n")
		b.WriteString(p.progressView(w) + "\n")
		switch {
		case p.asking:
			b.WriteString(th.Warning.Render(th.Warn+" "+t("install.stop.question")) + "\n" + widget.Wrap(t("install.stop.explain"), w) + "\n\n")
			b.WriteString(th.Buttons([]string{t("install.stop.keep"), t("install.stop.stop")}, p.askFocus))
			return b.String(), []widget.KeyHelp{{Key: "←/→", Does: t("help.choose")}, {Key: "enter", Does: t("help.continue")}, {Key: "esc", Does: t("install.stop.keep")}}
		case p.stopping:
			b.WriteString(th.Warning.Render(t("install.stopping")))
			return b.String(), nil
		}
		b.WriteString(th.Muted.Render(t("install.wait")))
		return b.String(), []widget.KeyHelp{{Key: "ctrl+c", Does: t("install.stop.stop")}}
	case instDone:
		b.WriteString(th.Success.Render(t("install.success", p.osName, p.version)) + "\n\n")
		if r := p.result; r != nil {
			b.WriteString(t("install.migrated", r.MigratedSettings, r.MigratedLicenses) + "\n")
			if r.Backup != "" {
				b.WriteString(t("install.backup", r.Backup) + "\n")
			}
			if r.BackupInMemory {
				b.WriteString(th.Warning.Render(widget.Wrap(t("install.backup.memory"), w)) + "\n")
			}
		}
		label := t("install.exit")
		if p.cfg.Live {
			label = t("install.reboot")
		}
		b.WriteString("\n" + th.Buttons([]string{label}, 0))
		return b.String(), []widget.KeyHelp{{Key: "enter", Does: label}}
	}
	headline := t("install.failed")
	if exitcode.KindOf(p.err) == exitcode.Aborted {
		headline = t("install.stopped")
	}
	b.WriteString(th.Error.Render(th.Warn+" "+headline) + "\n\n")
	if p.err != nil {
		// Broken at spaces only: the restore command it names stays
		// copyable ("--target" is one word).
		b.WriteString(wrapAtSpaces(p.err.Error(), w) + "\n\n")
	}
	b.WriteString(th.Buttons([]string{t("install.exit")}, 0))
	return p.withSupport(b.String(), []widget.KeyHelp{{Key: "enter", Does: t("install.exit")}}, w)
}

// wrapAtSpaces breaks plain text at spaces only (wrap also breaks at
// hyphens, which would split "--target"); a word wider than w is cut.
func wrapAtSpaces(s string, w int) string {
	var b strings.Builder
	col := 0
	for _, word := range strings.Fields(s) {
		n := ansi.StringWidth(word)
		switch {
		case col == 0:
		case col+1+n > w:
			b.WriteString("\n")
			col = 0
		default:
			b.WriteString(" ")
			col++
		}
		if n > w {
			word = ansi.Hardwrap(word, w, false)
			n = ansi.StringWidth(word[strings.LastIndex(word, "\n")+1:])
		}
		b.WriteString(word)
		col += n
	}
	return b.String()
}

func (p installPage) yesNo(b bool) string {
	if b {
		return p.tr.T("install.yes")
	}
	return p.tr.T("install.no")
}

// progressView shows the phase by name on its own line (translated names
// are longer than the bar's label column), then the bar, rate and ETA.
func (p installPage) progressView(w int) string {
	th := p.env.cfg.Theme
	pr := p.prog
	phase := pr.Phase
	if phase == "" {
		phase = installer.PhaseInspect
	}
	bar := widget.ProgressView(th, w, "", pr, " / ", func(eta time.Duration) string { return p.tr.T("install.eta", widget.FormatDuration(eta)) })
	return "\n  " + p.tr.T("install.phase."+string(phase)) + "\n" + strings.TrimPrefix(bar, "\n")
}

// installJob is one install in its own goroutine, reporting like writeJob.
type installJob struct {
	tag      int64
	ctx      context.Context
	cancel   context.CancelFunc
	progress chan images.Progress
	done     chan installDoneMsg
}

func newInstallJob(parent context.Context) *installJob {
	ctx, cancel := context.WithCancel(parent)
	return &installJob{tag: widget.NextTag(), ctx: ctx, cancel: cancel,
		progress: make(chan images.Progress, 1), done: make(chan installDoneMsg, 1)}
}

func (j *installJob) report(p images.Progress) {
	widget.Offer(j.progress, p)
}

func (j *installJob) next() tea.Cmd {
	return func() tea.Msg {
		select {
		case d := <-j.done:
			return d
		case p := <-j.progress:
			return installProgressMsg{tag: j.tag, p: p}
		}
	}
}

// start runs the install the way osc install does: check the target,
// prepare the plan, back up, install.
func (j *installJob) start(shared *oscShared, is *installShared, cfg *InstallConfig, target string, settings, licenses bool) tea.Cmd {
	mode := func(on bool) installer.Mode {
		if on {
			return installer.Auto
		}
		return installer.No
	}
	return func() tea.Msg {
		shared.jobs.Add(1)
		go func() {
			defer shared.jobs.Done()
			defer j.cancel()
			res, err := func() (res *installer.Result, err error) {
				defer func() {
					if r := recover(); r != nil {
						err = internalError(r)
					}
				}()
				is.mu.Lock()
				pl := is.payload
				is.mu.Unlock()
				t, err := installer.CheckTarget(target, cfg.Source)
				if err != nil {
					return nil, err
				}
				defer t.Close()
				opt := installer.Options{Payload: pl, MigrateSettings: mode(settings), MigrateLicenses: mode(licenses),
					BackupDir: cfg.BackupDir, Progress: j.report,
					RestoreCommand: fmt.Sprintf("osc restore --backup %%s --target %s --source %s", target, cfg.Source)}
				plan, err := installer.Prepare(t, opt)
				if err != nil {
					return nil, err
				}
				if ex := plan.Existing; opt.BackupDir == "" && len(ex.Settings)+len(ex.Licenses) > 0 {
					opt.BackupDir = installer.BackupDirFor(cfg.Source)
				}
				return installer.Install(j.ctx, t, plan, opt)
			}()
			if exitcode.KindOf(err) == exitcode.Aborted {
				shared.fail(err)
			}
			j.done <- installDoneMsg{tag: j.tag, res: res, err: err}
		}()
		return j.next()()
	}
}
