package setup

import (
	"context"
	"errors"
	"fmt"
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/onramp-os/onramp/firstboot"
	"github.com/onramp-os/onramp/netcfg"
	"github.com/onramp-os/onramp/tui/widget"
)

// connectMsg is a stage reached, or (done) the end of an attempt.
type connectMsg struct {
	tag    int64
	stage  netcfg.Stage
	done   bool
	status netcfg.Status
	err    error
}

// connectPage shows a connection being made, stage by stage. It goes on
// with ok on success; on failure it returns to the form it came from,
// which keeps the values and shows why.
type connectPage struct {
	target string // what is being connected to, for the heading
	run    func(ctx context.Context, p netcfg.Progress) (netcfg.Status, error)
	ok     func(m *Model, st netcfg.Status) tea.Cmd
	failed func(m *Model, err error)
	stages []netcfg.Stage
	ch     chan connectMsg
	tag    int64
	cancel context.CancelFunc // stops the attempt when the user leaves
}

func (*connectPage) name() string         { return "connecting" }
func (*connectPage) step() firstboot.Step { return firstboot.StepNetwork }
func (*connectPage) transient() bool      { return true }

func (p *connectPage) enter(m *Model) tea.Cmd {
	p.tag = m.busy()
	p.ch = make(chan connectMsg, 16)
	ctx, cancel := context.WithTimeout(m.cfg.Context, firstboot.ConnectTimeout)
	p.cancel = cancel
	tag, ch, run := p.tag, p.ch, p.run
	start := func() tea.Msg {
		go func() {
			defer cancel()
			st, err := guarded(func() (netcfg.Status, error) {
				return run(ctx, func(s netcfg.Stage) {
					select {
					case ch <- connectMsg{tag: tag, stage: s}:
					default: // the screen is behind; the final message still comes
					}
				})
			})
			if errors.Is(err, context.DeadlineExceeded) {
				err = netcfg.ErrTimeout
			}
			ch <- connectMsg{tag: tag, done: true, status: st, err: err}
		}()
		return <-ch
	}
	return start
}

// guarded runs f, turning a panic in a backend into an error, so a bug
// there shows on the screen instead of killing the assistant.
func guarded[T any](f func() (T, error)) (v T, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("internal error: %v", r)
		}
	}()
	return f()
}

// waitConnect delivers the next message of an attempt; the page asks
// again after each stage.
func waitConnect(ch <-chan connectMsg) tea.Cmd {
	return func() tea.Msg { return <-ch }
}

func (p *connectPage) update(m *Model, msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case connectMsg:
		if !m.current(msg.tag) {
			return nil
		}
		if !msg.done {
			p.stages = append(p.stages, msg.stage)
			return waitConnect(p.ch)
		}
		if msg.err != nil {
			cmd := m.back()
			p.failed(m, msg.err)
			return cmd
		}
		return p.ok(m, msg.status)
	case tea.KeyMsg:
		if msg.String() == "esc" {
			p.cancel()
			return m.back() // the attempt's answer is stale from now on
		}
	}
	return nil
}

func (p *connectPage) view(m *Model, w, h int) (string, []widget.KeyHelp) {
	t := m.cfg.Theme
	var b strings.Builder
	b.WriteString(t.Heading.Render(m.t("conn.heading", p.target)) + "\n\n")
	for i, s := range p.stages {
		mark := t.Success.Render(t.Done)
		if i == len(p.stages)-1 {
			mark = m.spin.View()
		}
		b.WriteString(mark + " " + m.t("conn.stage."+string(s)) + "\n")
	}
	if len(p.stages) == 0 {
		b.WriteString(m.spin.View() + " " + m.t("conn.start") + "\n")
	}
	return b.String(), []widget.KeyHelp{{Key: "Esc", Does: m.t("help.cancel")}}
}

// netErrorText explains why a connection failed, in the user's language.
func netErrorText(m *Model, err error) string { return firstboot.NetErrorText(m.t, err) }

// networkDone records how the device got online and, once no captive
// portal holds the connection, moves to the time zone, keeping the
// configuration for the installed OS.
func networkDone(m *Model, how, iface string, wired *netcfg.WiredConfig, wlan *netcfg.WLANConfig, mobile *netcfg.MobileConfig) tea.Cmd {
	m.choice.Network = how
	cfg := m.cfg
	persist := func() tea.Msg {
		return persistedMsg{err: firstboot.PersistNetwork(&cfg.Config, iface, wired, wlan, mobile)}
	}
	return tea.Batch(persist, m.replace(&portalCheckPage{}))
}

type persistedMsg struct{ err error }
