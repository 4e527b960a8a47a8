package setup

import (
	"context"
	"errors"
	"strings"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/onramp-os/onramp/firstboot"
	"github.com/onramp-os/onramp/netcfg"
	"github.com/onramp-os/onramp/tui/widget"
)

// formPage is a page that is one form with a heading, a note above the
// fields and the error of the last attempt below them.
type formPage struct {
	id      string
	heading string // catalog key
	args    []any
	note    func(m *Model) string
	stepv   firstboot.Step
	form    *form
	err     string
}

func (p *formPage) name() string         { return p.id }
func (p *formPage) step() firstboot.Step { return p.stepv }

// failed: the form shows why its connection failed.
func (p *formPage) failed() bool { return p.err != "" }

func (p *formPage) update(m *Model, msg tea.Msg) tea.Cmd {
	if k, ok := msg.(tea.KeyMsg); ok {
		if k.String() == "esc" {
			return m.back()
		}
		cmd, _ := p.form.key(k, m.t)
		return cmd
	}
	if c, ok := msg.(clickMsg); ok {
		return p.form.click(c.line-linesOf(m, p.top(m)), c.col, m.cfg.Theme, m.t, m.bodyWidth())
	}
	return nil
}

// top is what the page shows above the form.
func (p *formPage) top(m *Model) string {
	t := m.cfg.Theme
	body := t.Heading.Render(m.t(p.heading, p.args...)) + "\n"
	if p.note != nil {
		if n := p.note(m); n != "" {
			body += t.Muted.Render(n) + "\n"
		}
	}
	return body + "\n"
}

func (p *formPage) view(m *Model, w, h int) (string, []widget.KeyHelp) {
	t := m.cfg.Theme
	top := p.top(m)
	// The fields get what the heading, the note, the problem line, the
	// buttons and the error leave of the height.
	lines := func(s string) int { return strings.Count(ansi.Wordwrap(s, w, ""), "\n") + 1 }
	p.form.rows = h - lines(top) + 1 - 2
	if msg := p.form.message(m.t); msg != "" {
		p.form.rows -= 1 + lines(msg)
	}
	if p.err != "" {
		p.form.rows -= 1 + lines(t.Failed+" "+p.err)
	}
	body := top + p.form.view(t, m.t, w)
	if p.err != "" {
		body += "\n\n" + t.Error.Render(t.Failed+" "+p.err)
	}
	return body, formHelp(m)
}

func required(m *Model) func(string) string {
	return func(v string) string {
		if strings.TrimSpace(v) == "" {
			return m.t("err.required")
		}
		return ""
	}
}

// netCheck turns a netcfg validation into a field's check: the field
// shows the problem only when netcfg names it.
func netCheck(m *Model, name string, validate func() error) func(string) string {
	return func(string) string {
		var fe *netcfg.FieldError
		if err := validate(); errors.As(err, &fe) && fe.Field == name {
			return m.t("err.field." + name)
		}
		return ""
	}
}

// connectTo starts a connectPage from the form page p.
func connectTo(m *Model, p *formPage, target string, run func(context.Context, netcfg.Progress) (netcfg.Status, error),
	ok func(*Model, netcfg.Status) tea.Cmd) tea.Cmd {
	p.err = ""
	return m.goTo(&connectPage{target: target, run: run, ok: ok, failed: func(m *Model, err error) { p.err = netErrorText(m, err) }})
}

// newWLANPage asks for what a listed network needs: nothing, a network key,
// or user name and password.
func newWLANPage(m *Model, iface string, n netcfg.Network) *formPage {
	auth := netcfg.AuthFor(n.Security)
	user := textField("wlan.username", nil)
	key := secretField("wlan.key", nil)
	if auth == netcfg.AuthPEAP {
		key.label = "wlan.password"
	}
	cfg := func() netcfg.WLANConfig {
		return netcfg.WLANConfig{SSID: n.SSID, Auth: auth, Username: user.value(), Key: key.value()}
	}
	m.prefillWLANFields(n.SSID, auth, user, key)
	user.check = netCheck(m, "username", func() error { return netcfg.ValidateWLAN(cfg()) })
	key.check = netCheck(m, "key", func() error { return netcfg.ValidateWLAN(cfg()) })
	var fields []*field
	switch auth {
	case netcfg.AuthPSK, netcfg.AuthWEP:
		fields = []*field{key}
	case netcfg.AuthPEAP:
		fields = []*field{user, key}
	}
	p := &formPage{id: "wlan", heading: "wlan.heading", args: []any{n.SSID}, stepv: firstboot.StepNetwork}
	p.note = func(m *Model) string {
		if auth == netcfg.AuthPEAP {
			return m.t("wlan.security", n.Security.String()) + " " + m.t("net.nocerts")
		}
		return m.t("wlan.security", n.Security.String())
	}
	p.form = &form{fields: fields, buttons: []button{
		{label: "btn.back", press: m.back},
		{label: "btn.connect", primary: true, press: func() tea.Cmd {
			c := cfg()
			return connectTo(m, p, c.SSID, func(ctx context.Context, pr netcfg.Progress) (netcfg.Status, error) {
				return m.cfg.Net.JoinWLAN(ctx, iface, c, pr)
			}, func(m *Model, st netcfg.Status) tea.Cmd { return networkDone(m, "wlan:"+c.SSID, iface, nil, &c, nil) })
		}},
	}}
	p.form.focusFirst()
	return p
}

// newHiddenPage joins a network that does not announce its name.
func newHiddenPage(m *Model, iface string) *formPage {
	auth := &field{kind: fieldChoice, label: "hidden.auth", options: []string{"hidden.auth.open", "hidden.auth.key", "hidden.auth.user"}, choice: 1}
	ssid := textField("hidden.ssid", nil)
	user := textField("wlan.username", nil)
	key := secretField("hidden.key", nil)
	cfg := func() netcfg.WLANConfig {
		return netcfg.WLANConfig{SSID: ssid.value(), Hidden: true, Auth: firstboot.AuthOptions[auth.choice], Username: user.value(), Key: key.value()}
	}
	m.prefillHidden(auth, ssid, user, key)
	validate := func() error { return netcfg.ValidateWLAN(cfg()) }
	ssid.check = netCheck(m, "ssid", validate)
	user.check = netCheck(m, "username", validate)
	key.check = netCheck(m, "key", validate)
	user.hidden = func() bool { return firstboot.AuthOptions[auth.choice] != netcfg.AuthPEAP }
	key.hidden = func() bool { return firstboot.AuthOptions[auth.choice] == netcfg.AuthOpen }
	p := &formPage{id: "hidden", heading: "hidden.heading", stepv: firstboot.StepNetwork}
	p.note = func(m *Model) string { return m.t("net.nocerts") }
	p.form = &form{fields: []*field{auth, ssid, user, key}, buttons: []button{
		{label: "btn.back", press: m.back},
		{label: "btn.connect", primary: true, press: func() tea.Cmd {
			c := cfg()
			return connectTo(m, p, c.SSID, func(ctx context.Context, pr netcfg.Progress) (netcfg.Status, error) {
				return m.cfg.Net.JoinWLAN(ctx, iface, c, pr)
			}, func(m *Model, st netcfg.Status) tea.Cmd { return networkDone(m, "wlan:"+c.SSID, iface, nil, &c, nil) })
		}},
	}}
	return p
}

// newWiredPage configures the wired link: static IPv4 and/or IPv6 where
// their fields are filled in, each family from the network otherwise (or
// DHCP and router advertisements at once with the DHCP button).
func newWiredPage(m *Model, iface string) *formPage {
	fields := []*field{textField("wired.address", nil), textField("wired.netmask", nil), textField("wired.gateway", nil),
		textField("wired.domain", nil), textField("wired.dns", nil), textField("wired.dns", nil),
		textField("wired.address6", nil), textField("wired.gateway6", nil), textField("wired.dns6", nil)}
	dhcp := m.prefillWired(fields...)
	parse := func() (netcfg.WiredConfig, error) {
		var v firstboot.WiredFields
		for i, f := range fields {
			v[i] = f.value()
		}
		return v.Config()
	}
	validate := func() error { _, err := parse(); return err }
	for i, name := range []string{"address", "netmask", "gateway", "domain", "", "", "address6", "gateway6", ""} {
		if name != "" {
			fields[i].check = netCheck(m, name, validate)
		}
	}
	dnsCheck := func(f *field) func(string) string {
		return func(v string) string {
			if _, err := netcfg.ParseStatic("192.0.2.2", "24", "", "", []string{v}); v != "" && err != nil {
				return m.t("err.field.dns")
			}
			return ""
		}
	}
	for _, i := range []int{4, 5, 8} {
		fields[i].check = dnsCheck(fields[i])
	}
	dot1x := newDot1XFields(m)
	p := &formPage{id: "wired", heading: "wired.heading", args: []any{iface}, stepv: firstboot.StepNetwork}
	p.note = func(m *Model) string { return m.t("wired.note") + " " + m.t("wired.auto") }
	connect := func(c netcfg.WiredConfig, how string) tea.Cmd {
		c.Dot1X = dot1x.config()
		return connectTo(m, p, iface, func(ctx context.Context, pr netcfg.Progress) (netcfg.Status, error) {
			return m.cfg.Net.ConfigureWired(ctx, iface, c, pr)
		}, func(m *Model, st netcfg.Status) tea.Cmd { return networkDone(m, how, iface, &c, nil, nil) })
	}
	p.form = &form{fields: append(fields, dot1x.fields()...), buttons: []button{
		{label: "btn.back", press: m.back},
		{label: "wired.dhcp", press: func() tea.Cmd {
			if msg := dot1x.problem(m); msg != "" {
				p.err = msg
				return nil
			}
			return connect(netcfg.WiredConfig{}, "wired")
		}},
		{label: "btn.continue", primary: true, press: func() tea.Cmd {
			c, err := parse()
			if err != nil {
				return nil
			}
			if msg := dot1x.problem(m); msg != "" {
				p.err = msg
				return nil
			}
			return connect(c, "wired")
		}},
	}}
	if dhcp { // the answers ask for DHCP: its button is ready
		p.form.focus = len(p.form.fields) + 1
	}
	return p
}
