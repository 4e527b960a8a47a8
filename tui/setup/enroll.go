package setup

import (
	"context"
	"errors"
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/onramp-os/onramp/firstboot"
	"github.com/onramp-os/onramp/onboard"
	"github.com/onramp-os/onramp/tui/widget"
)

type onboardMsg struct {
	tag    int64
	code   *onboard.DeviceCode
	done   bool
	result onboard.Result
	err    error
	diag   error // firstboot.Diagnose of err
}

// onboardingPage runs an attempt, showing the sign-in code when the
// Onboarding Service asks for one.
type onboardingPage struct {
	req    firstboot.OnboardRequest
	code   *onboard.DeviceCode
	ch     chan onboardMsg
	cancel context.CancelFunc // stops the attempt when the user leaves
}

func newOnboardingPage(m *Model, req firstboot.OnboardRequest) *onboardingPage {
	return &onboardingPage{req: req}
}

func (*onboardingPage) name() string         { return "onboarding" }
func (*onboardingPage) step() firstboot.Step { return firstboot.StepOnboarding }
func (*onboardingPage) transient() bool      { return true }

func (p *onboardingPage) enter(m *Model) tea.Cmd {
	tag := m.busy()
	p.ch = make(chan onboardMsg, 4)
	ctx, cancel := context.WithCancel(m.cfg.Context)
	p.cancel = cancel
	ch, req, cfg := p.ch, p.req, &m.cfg.Config
	return func() tea.Msg {
		go func() {
			defer cancel()
			res, err := guarded(func() (onboard.Result, error) {
				return firstboot.Onboard(ctx, cfg, req, func(c onboard.DeviceCode) {
					select {
					case ch <- onboardMsg{tag: tag, code: &c}:
					default:
					}
				})
			})
			var diag error
			if err != nil {
				diag = firstboot.Diagnose(ctx, cfg, req, err)
			}
			ch <- onboardMsg{tag: tag, done: true, result: res, err: err, diag: diag}
		}()
		return <-ch
	}
}

func waitOnboard(ch <-chan onboardMsg) tea.Cmd { return func() tea.Msg { return <-ch } }

func (p *onboardingPage) update(m *Model, msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case onboardMsg:
		if !m.current(msg.tag) {
			return nil
		}
		if !msg.done {
			p.code = msg.code
			return waitOnboard(p.ch)
		}
		if msg.err != nil {
			return m.replace(&onboardErrorPage{req: p.req, err: msg.err, diag: msg.diag})
		}
		res := msg.result
		m.outcome.Onboarded = &res
		return m.replace(&successPage{res: res})
	case tea.KeyMsg:
		if msg.String() == "esc" {
			p.cancel()
			return m.back()
		}
	}
	return nil
}

func (p *onboardingPage) view(m *Model, w, h int) (string, []widget.KeyHelp) {
	t := m.cfg.Theme
	var b strings.Builder
	b.WriteString(t.Heading.Render(m.t("ob.busy.heading")) + "\n\n")
	b.WriteString(m.spin.View() + " " + m.t("ob.busy", p.req.Target()) + "\n")
	if p.code != nil {
		b.WriteString("\n" + m.t("ob.signin") + "\n\n")
		b.WriteString("  " + m.t("ob.signin.url") + "  " + t.Selected.Render(p.code.VerificationURI) + "\n")
		b.WriteString("  " + m.t("ob.signin.code") + "  " + t.Selected.Render(p.code.UserCode) + "\n")
		if q := qrText(p.code.VerificationURIComplete, h-10); q != "" {
			b.WriteString("\n" + q)
		}
	}
	return b.String(), []widget.KeyHelp{{Key: "Esc", Does: m.t("help.cancel")}}
}

// onboardErrorPage shows the guide's error text with the code, what it
// means and what to check, with Back, the proxy settings and Retry. The
// proxy is reached from here because a network that is online by DHCP
// skips the network step, and a UMS behind a proxy then fails here.
type onboardErrorPage struct {
	req  firstboot.OnboardRequest
	err  error
	diag error // what on the way to the server fails (firstboot.Diagnose); nil: the network reaches it
	btn  int   // onboardBack, onboardProxy, onboardRetry
}

// The error page's buttons in order.
const (
	onboardBack = iota
	onboardProxy
	onboardRetry
)

func (*onboardErrorPage) name() string         { return "onboard-error" }
func (*onboardErrorPage) step() firstboot.Step { return firstboot.StepOnboarding }

// failed: onboarding failed (the user cancelling it is no failure).
func (p *onboardErrorPage) failed() bool { return !errors.Is(p.err, context.Canceled) }

func (p *onboardErrorPage) update(m *Model, msg tea.Msg) tea.Cmd {
	k, ok := msg.(tea.KeyMsg)
	if !ok {
		return nil
	}
	switch k.String() {
	case "esc":
		return m.back()
	case "left", "shift+tab":
		p.btn = max(p.btn-1, onboardBack)
	case "right", "tab":
		p.btn = min(p.btn+1, onboardRetry)
	case "enter":
		switch p.btn {
		case onboardBack:
			return m.back()
		case onboardProxy:
			return m.goTo(newProxyPage(m))
		}
		return m.replace(newOnboardingPage(m, p.req))
	}
	return nil
}

func (p *onboardErrorPage) view(m *Model, w, h int) (string, []widget.KeyHelp) {
	t := m.cfg.Theme
	var b strings.Builder
	var oe *onboard.Error
	if errors.As(p.err, &oe) {
		b.WriteString(t.Error.Render(m.t("ob.failed", int(oe.Code))) + "\n\n")
		b.WriteString(m.t("ob.meaning") + " " + codeMeaning(m, oe.Code) + "\n")
		if oe.Reason != "" {
			b.WriteString(t.Muted.Render(m.t("ob.reason")+" "+oe.Reason) + "\n")
		}
		// The guide's troubleshooting for 37 and 38 always; otherwise the
		// client's own hint, which knows more than the code.
		check := checkText(m, oe.Code)
		if oe.Hint != "" && oe.Code != onboard.CodeCACerts && oe.Code != onboard.CodeEnroll {
			check = oe.Hint
		}
		if p.diag != nil { // the network names what fails, in the user's language
			check = netErrorText(m, p.diag)
		}
		b.WriteString("\n" + m.t("ob.check") + "\n" + check + "\n")
		if oe.Hint != "" && check != oe.Hint {
			b.WriteString(t.Muted.Render(oe.Hint) + "\n")
		}
	} else if errors.Is(p.err, context.Canceled) {
		b.WriteString(t.Warning.Render(m.t("ob.cancelled")) + "\n")
	} else {
		b.WriteString(t.Error.Render(m.t("ob.failed.other")) + "\n" + p.err.Error() + "\n")
	}
	b.WriteString("\n" + t.Buttons([]string{m.t("btn.back"), m.t("net.proxy"), m.t("btn.retry")}, p.btn))
	return b.String(), []widget.KeyHelp{{Key: "Enter", Does: m.t("help.choose")}, {Key: "←→", Does: m.t("help.move")}, {Key: "Esc", Does: m.t("help.back")}}
}

// checkText is what to check for a code: the guide's troubleshooting for
// 37 and 38, the network and the server's details otherwise.
func checkText(m *Model, c onboard.Code) string { return firstboot.CheckText(m.t, c) }

// successPage says the device is onboarded; Reboot finishes the setup.
type successPage struct {
	res onboard.Result
	err error
}

func (*successPage) name() string         { return "success" }
func (*successPage) step() firstboot.Step { return firstboot.StepOnboarding }

func (p *successPage) update(m *Model, msg tea.Msg) tea.Cmd {
	return finishing(m, msg, &p.err, true)
}

func (p *successPage) view(m *Model, w, h int) (string, []widget.KeyHelp) {
	t := m.cfg.Theme
	body := t.Success.Render(t.Done+" "+m.t("ob.success")) + "\n\n" + m.t("ob.success.detail", p.res.Server, p.res.Port, p.res.UnitID)
	if p.err != nil {
		body += "\n\n" + t.Error.Render(m.t("finish.err", p.err))
	}
	return body + "\n\n" + t.Buttons([]string{m.t("btn.reboot")}, 0), []widget.KeyHelp{{Key: "Enter", Does: m.t("btn.reboot")}}
}

// finishing handles Enter on a last page: write setup.done, then quit.
func finishing(m *Model, msg tea.Msg, errp *error, reboot bool) tea.Cmd {
	switch msg := msg.(type) {
	case finishedMsg:
		if msg.err != nil {
			*errp = msg.err
			return nil
		}
		m.outcome.Finished, m.outcome.Reboot = true, reboot
		return tea.Quit
	case tea.KeyMsg:
		switch msg.String() {
		case "enter":
			return finishCmd(m)
		case "esc":
			if !reboot {
				return m.back()
			}
		}
	}
	return nil
}

// starterPage ends a setup without onboarding: the Starter license note.
type starterPage struct{ err error }

func (*starterPage) name() string         { return "starter" }
func (*starterPage) step() firstboot.Step { return firstboot.StepOnboarding }

func (p *starterPage) update(m *Model, msg tea.Msg) tea.Cmd {
	if k, ok := msg.(tea.KeyMsg); ok && k.String() == "enter" {
		return skipCmd(m)
	}
	return finishing(m, msg, &p.err, false)
}

func (p *starterPage) view(m *Model, w, h int) (string, []widget.KeyHelp) {
	t := m.cfg.Theme
	body := t.Heading.Render(m.t("starter.heading")) + "\n\n" + m.t("starter.note")
	if p.err != nil {
		body += "\n\n" + t.Error.Render(m.t("finish.err", p.err))
	}
	return body + "\n\n" + t.Buttons([]string{m.t("btn.finish")}, 0), []widget.KeyHelp{{Key: "Enter", Does: m.t("btn.finish")}, {Key: "Esc", Does: m.t("help.back")}}
}

// finishPage is where a run resumes whose steps were all done.
type finishPage struct{ err error }

func (*finishPage) name() string         { return "finish" }
func (*finishPage) step() firstboot.Step { return firstboot.StepOnboarding }

func (p *finishPage) update(m *Model, msg tea.Msg) tea.Cmd {
	return finishing(m, msg, &p.err, false)
}

func (p *finishPage) view(m *Model, w, h int) (string, []widget.KeyHelp) {
	t := m.cfg.Theme
	body := t.Heading.Render(m.t("finish.heading")) + "\n\n" + m.t("finish.note")
	if p.err != nil {
		body += "\n\n" + t.Error.Render(m.t("finish.err", p.err))
	}
	return body + "\n\n" + t.Buttons([]string{m.t("btn.finish")}, 0), []widget.KeyHelp{{Key: "Enter", Does: m.t("btn.finish")}}
}
