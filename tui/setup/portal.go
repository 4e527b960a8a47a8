package setup

import (
	"context"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/onramp-os/onramp/firstboot"
	"github.com/onramp-os/onramp/tui/widget"
)

// portalMsg is the answer of a captive-portal check: the sign-in page's
// URL, "" when the way out is open.
type portalMsg struct {
	tag int64
	url string
}

// portalCheckCmd asks the backend whether a captive portal holds the
// connection. The check is informational: an error counts as open.
func portalCheckCmd(cfg *Config, tag int64) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(cfg.Context, 15*time.Second)
		defer cancel()
		url, err := guarded(func() (string, error) { return cfg.Net.CaptivePortal(ctx) })
		if err != nil {
			url = ""
		}
		return portalMsg{tag: tag, url: url}
	}
}

// portalCheckPage checks, once the device is online, whether a captive
// portal holds it; it shows only while it looks, and the time zone
// follows when the way out is open.
type portalCheckPage struct{ tag int64 }

func (*portalCheckPage) name() string         { return "portalcheck" }
func (*portalCheckPage) step() firstboot.Step { return firstboot.StepNetwork }
func (*portalCheckPage) transient() bool      { return true }

func (p *portalCheckPage) enter(m *Model) tea.Cmd {
	p.tag = m.busy()
	return portalCheckCmd(m.cfg, p.tag)
}

func (p *portalCheckPage) update(m *Model, msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case portalMsg:
		if !m.current(msg.tag) {
			return nil
		}
		if msg.url == "" {
			return m.startStep(firstboot.StepTimezone)
		}
		return m.replace(&portalPage{url: msg.url})
	case tea.KeyMsg:
		if msg.String() == "esc" {
			return m.back()
		}
	}
	return nil
}

func (p *portalCheckPage) view(m *Model, w, h int) (string, []widget.KeyHelp) {
	return m.cfg.Theme.Heading.Render(m.t("net.heading")) + "\n\n" + m.spin.View() + " " + m.t("portal.checking"),
		[]widget.KeyHelp{{Key: "Esc", Does: m.t("help.back")}}
}

// portalPage tells the user that a captive portal holds the connection
// and shows its URL as text and as a QR code, so they can sign in on a
// phone; Check again looks once more and goes on when the way is open.
type portalPage struct {
	url      string
	checking bool
	still    bool // a check after signing in found the portal still there
	tag      int64
	btn      int // 0 Check again, 1 Continue anyway
}

func (*portalPage) name() string         { return "portal" }
func (*portalPage) step() firstboot.Step { return firstboot.StepNetwork }

func (p *portalPage) update(m *Model, msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case portalMsg:
		if !m.current(msg.tag) {
			return nil
		}
		p.checking = false
		if msg.url == "" {
			return m.startStep(firstboot.StepTimezone)
		}
		p.url, p.still = msg.url, true
	case tea.KeyMsg:
		switch msg.String() {
		case "esc":
			return m.back()
		case "tab", "shift+tab", "up", "down", "left", "right":
			p.btn = 1 - p.btn
		case "enter", "f5", "ctrl+r":
			if msg.String() == "enter" && p.btn == 1 {
				// A network that answers the probe with a page of its own
				// (a filtering proxy) is no portal to wait for forever.
				return m.startStep(firstboot.StepTimezone)
			}
			if p.checking {
				return nil
			}
			p.checking, p.still = true, false
			p.tag = m.busy()
			return portalCheckCmd(m.cfg, p.tag)
		}
	}
	return nil
}

func (p *portalPage) view(m *Model, w, h int) (string, []widget.KeyHelp) {
	t := m.cfg.Theme
	q := qrText(p.url, h-1)
	qw := 0
	if q != "" {
		qw = ansi.StringWidth(strings.SplitN(q, "\n", 2)[0])
		if qw > w/2 { // the text needs the room more than the code
			q, qw = "", 0
		}
	}
	tw := w
	if qw > 0 {
		tw = w - qw - 2
	}
	var b strings.Builder
	b.WriteString(t.Heading.Render(m.t("portal.heading")) + "\n\n")
	b.WriteString(widget.Wrap(m.t("portal.text"), tw) + "\n\n")
	b.WriteString(m.t("portal.open") + "\n")
	b.WriteString(t.Selected.Render(breakURL(p.url, tw)) + "\n\n")
	switch {
	case p.checking:
		b.WriteString(m.spin.View() + " " + m.t("portal.checking") + "\n\n")
	case p.still:
		b.WriteString(widget.Wrap(t.Warning.Render(t.Warn+" "+m.t("portal.still")), tw) + "\n\n")
	}
	labels := []string{m.t("portal.again"), m.t("portal.skip")}
	for i, l := range labels {
		focus := -1
		if i == p.btn {
			focus = 0
		}
		b.WriteString(t.Buttons([]string{l}, focus) + "\n")
	}
	body := b.String()
	if q != "" {
		body = lipgloss.JoinHorizontal(lipgloss.Top, lipgloss.NewStyle().Width(tw+2).Render(body), q)
	}
	return body, []widget.KeyHelp{{Key: "Enter", Does: m.t("help.choose")}, {Key: "F5", Does: m.t("portal.again")}, {Key: "Esc", Does: m.t("help.back")}}
}

// breakURL cuts a URL into lines of width cells: it has no spaces to
// wrap at, and every character of it matters.
func breakURL(u string, width int) string {
	if width < 10 {
		return u
	}
	r := []rune(u)
	var lines []string
	for len(r) > width {
		lines = append(lines, string(r[:width]))
		r = r[width:]
	}
	return strings.Join(append(lines, string(r)), "\n")
}
