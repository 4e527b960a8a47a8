package setup

import (
	"context"
	"fmt"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/onramp-os/onramp/firstboot"
	"github.com/onramp-os/onramp/netcfg"
	"github.com/onramp-os/onramp/tui/widget"
)

// netCheckPage finds out whether the device is online; it shows only
// while it looks, and the network step is skipped when it is.
type netCheckPage struct{ tag int64 }

type netCheckMsg struct {
	tag    int64
	status netcfg.Status
	links  []netcfg.Link
	modems []netcfg.Modem
	db     netcfg.ProviderDB
	err    error
}

func (*netCheckPage) name() string         { return "netcheck" }
func (*netCheckPage) step() firstboot.Step { return firstboot.StepNetwork }
func (*netCheckPage) transient() bool      { return true }

func (p *netCheckPage) enter(m *Model) tea.Cmd {
	p.tag = m.busy()
	return netCheckCmd(m.cfg, p.tag)
}

func netCheckCmd(cfg *Config, tag int64) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(cfg.Context, 20*time.Second)
		defer cancel()
		msg := netCheckMsg{tag: tag}
		if msg.status, msg.err = cfg.Net.Status(ctx); msg.err != nil {
			return msg
		}
		if msg.links, msg.err = cfg.Net.Links(ctx); msg.err != nil {
			return msg
		}
		if msg.modems, msg.err = cfg.Net.Modems(ctx); len(msg.modems) > 0 {
			msg.db = cfg.Net.Providers() // a real database is a file to read: here, not in Update
		}
		return msg
	}
}

func (p *netCheckPage) update(m *Model, msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case netCheckMsg:
		if !m.current(msg.tag) {
			return nil
		}
		if msg.err == nil && msg.status.Online {
			m.choice.Network = "present"
			return m.replace(&portalCheckPage{})
		}
		return m.replace(newNetworkPage(m, msg))
	case tea.KeyMsg:
		if msg.String() == "esc" {
			return m.back()
		}
	}
	return nil
}

func (p *netCheckPage) view(m *Model, w, h int) (string, []widget.KeyHelp) {
	return m.cfg.Theme.Heading.Render(m.t("net.heading")) + "\n\n" + m.spin.View() + " " + m.t("net.checking"),
		[]widget.KeyHelp{{Key: "Esc", Does: m.t("help.back")}}
}

// networkPage offers every way online the device has: the wireless
// networks in range, a hidden one by name, advanced wired settings and
// mobile broadband.
type networkPage struct {
	wired    string // wired interface, "" when none
	wireless string
	modem    *netcfg.Modem
	db       netcfg.ProviderDB
	nets     []netcfg.Network
	scanning bool
	scanErr  error
	list     *filterList
	moved    bool // the user moved in the list: a rescan keeps the row
	tag      int64
}

// Row ids of the actions below the networks.
const (
	rowHidden = firstboot.ChoiceHidden
	rowWired  = firstboot.ChoiceWired
	rowMobile = firstboot.ChoiceMobile
	rowRescan = "\x00rescan"
	rowProxy  = "\x00proxy"
)

type scanMsg struct {
	tag  int64
	nets []netcfg.Network
	err  error
}

func newNetworkPage(m *Model, c netCheckMsg) *networkPage {
	p := &networkPage{}
	for _, l := range c.links {
		switch {
		case l.Kind == netcfg.Wired && p.wired == "":
			p.wired = l.Name
		case l.Kind == netcfg.Wireless && p.wireless == "":
			p.wireless = l.Name
		}
	}
	p.wired = firstboot.AnsweredLink(m.cfg.Prefill.Network, c.links, netcfg.Wired, p.wired)
	p.wireless = firstboot.AnsweredLink(m.cfg.Prefill.Network, c.links, netcfg.Wireless, p.wireless)
	if len(c.modems) > 0 {
		p.modem, p.db = &c.modems[0], c.db
	}
	p.rebuild(m)
	return p
}

func (*networkPage) name() string         { return "network" }
func (*networkPage) step() firstboot.Step { return firstboot.StepNetwork }

func (p *networkPage) enter(m *Model) tea.Cmd {
	if p.wireless == "" || p.nets != nil {
		return nil
	}
	return p.scan(m)
}

func (p *networkPage) scan(m *Model) tea.Cmd {
	p.scanning, p.scanErr = true, nil
	p.tag = m.busy()
	tag, cfg, iface := p.tag, m.cfg, p.wireless
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(cfg.Context, 30*time.Second)
		defer cancel()
		nets, err := cfg.Net.Scan(ctx, iface)
		return scanMsg{tag: tag, nets: nets, err: err}
	}
}

// signalBars draws 0–4 bars in ASCII, which every console font has.
func signalBars(n int) string {
	return strings.Repeat("|", n) + strings.Repeat(".", 4-n)
}

func (p *networkPage) rebuild(m *Model) {
	var items []listItem
	for _, n := range p.nets {
		if n.SSID == "" {
			continue
		}
		items = append(items, listItem{label: n.SSID, id: "wlan:" + n.SSID,
			detail: fmt.Sprintf("%-15s %s", n.Security, signalBars(n.Bars()))})
	}
	if p.wireless != "" {
		items = append(items, listItem{label: m.t("net.hidden"), id: rowHidden, search: "\x00"},
			listItem{label: m.t("net.rescan"), id: rowRescan, search: "\x00"})
	}
	if p.wired != "" {
		items = append(items, listItem{label: m.t("net.wired"), id: rowWired, detail: p.wired, search: "\x00"})
	}
	if p.modem != nil {
		items = append(items, listItem{label: m.t("net.mobile"), id: rowMobile, detail: p.modem.Model, search: "\x00"})
	}
	items = append(items, listItem{label: m.t("net.proxy"), id: rowProxy, search: "\x00"})
	keep := firstboot.AnsweredChoice(m.cfg.Prefill.Network)
	if p.moved {
		keep = p.list.selectedID() // the user moved: stay there
	}
	p.list = newFilterList(items)
	p.list.selectID(keep)
}

func (p *networkPage) network(ssid string) (netcfg.Network, bool) {
	for _, n := range p.nets {
		if n.SSID == ssid {
			return n, true
		}
	}
	return netcfg.Network{}, false
}

func (p *networkPage) update(m *Model, msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case scanMsg:
		if msg.tag != p.tag {
			return nil
		}
		p.scanning, p.nets, p.scanErr = false, msg.nets, msg.err
		if p.nets == nil {
			p.nets = []netcfg.Network{}
		}
		p.rebuild(m)
	case tea.MouseMsg:
		p.moved = p.list.wheel(msg) || p.moved
	case tea.KeyMsg:
		switch msg.String() {
		case "esc":
			return m.back()
		case "f5", "ctrl+r":
			if p.wireless != "" && !p.scanning {
				return p.scan(m)
			}
			return nil
		case "enter":
			return p.choose(m)
		}
		p.moved = p.list.key(msg, m.bodyRows()-6) || p.moved
	case clickMsg:
		moved, again := listClick(m, p.list, msg, p.top(m), m.bodyRows()-4)
		p.moved = moved || p.moved
		if again {
			return p.choose(m)
		}
	}
	return nil
}

func (p *networkPage) choose(m *Model) tea.Cmd {
	it, ok := p.list.selected()
	if !ok {
		return nil
	}
	switch it.id {
	case rowRescan:
		if p.scanning {
			return nil
		}
		return p.scan(m)
	case rowHidden:
		return m.goTo(newHiddenPage(m, p.wireless))
	case rowWired:
		return m.goTo(newWiredPage(m, p.wired))
	case rowMobile:
		return m.goTo(newMobilePage(m, *p.modem, p.db))
	case rowProxy:
		return m.goTo(newProxyPage(m))
	}
	n, ok := p.network(strings.TrimPrefix(it.id, "wlan:"))
	if !ok {
		return nil
	}
	return m.goTo(newWLANPage(m, p.wireless, n))
}

// top is what the page shows above the list.
func (p *networkPage) top(m *Model) string {
	t := m.cfg.Theme
	var b strings.Builder
	b.WriteString(t.Heading.Render(m.t("net.heading")) + "\n")
	b.WriteString(m.t("net.offline") + "\n")
	switch {
	case p.wireless == "":
		b.WriteString(t.Warning.Render(m.t("net.nowifi")) + " " + t.Muted.Render(m.t("net.nowifi.check")) + "\n")
	case p.scanning:
		b.WriteString(m.spin.View() + " " + m.t("net.scanning") + "\n")
	case p.scanErr != nil:
		b.WriteString(t.Error.Render(m.t("net.scanfailed", p.scanErr)) + "\n")
	default:
		b.WriteString(t.Muted.Render(m.t("net.nocerts")) + "\n")
	}
	b.WriteString("\n")
	return b.String()
}

func (p *networkPage) view(m *Model, w, h int) (string, []widget.KeyHelp) {
	return p.top(m) + p.list.view(m.cfg.Theme, m.t, w, h-4), []widget.KeyHelp{{Key: "Enter", Does: m.t("help.choose")}, {Key: "F5", Does: m.t("help.rescan")}, {Key: "Esc", Does: m.t("help.back")}}
}
