package setup

import (
	"strconv"
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/onramp-os/onramp/firstboot"
	"github.com/onramp-os/onramp/netcfg"
	"github.com/onramp-os/onramp/netcfg/proxy"
)

// dot1xFields are the wired form's 802.1X fields: the method (off, PEAP,
// EAP-TLS) and what it needs; the method's choice hides the rest.
type dot1xFields struct {
	method, identity, password, ca, cert, key, keyPass *field
}

// dot1xMethods are the choice's options in order.
var dot1xMethods = []netcfg.EAP{"", netcfg.EAPPEAP, netcfg.EAPTLS}

func newDot1XFields(m *Model) *dot1xFields {
	d := &dot1xFields{
		method:   &field{kind: fieldChoice, label: "wired.dot1x", options: []string{"wired.dot1x.off", "wired.dot1x.peap", "wired.dot1x.tls"}},
		identity: textField("wired.dot1x.identity", nil),
		password: secretField("wired.dot1x.password", nil),
		ca:       textField("wired.dot1x.ca", nil),
		cert:     textField("wired.dot1x.cert", nil),
		key:      textField("wired.dot1x.key", nil),
		keyPass:  secretField("wired.dot1x.keypass", nil),
	}
	validate := func() error {
		if c := d.config(); c != nil {
			return netcfg.ValidateDot1X(*c)
		}
		return nil
	}
	for f, name := range map[*field]string{d.identity: "dot1x.identity", d.password: "dot1x.password", d.ca: "dot1x.ca_cert",
		d.cert: "dot1x.client_cert", d.key: "dot1x.private_key", d.keyPass: "dot1x.key_password"} {
		f.check = netCheck(m, name, validate)
	}
	off := func() bool { return d.method.choice == 0 }
	d.identity.hidden, d.ca.hidden = off, off
	d.password.hidden = func() bool { return dot1xMethods[d.method.choice] != netcfg.EAPPEAP }
	tls := func() bool { return dot1xMethods[d.method.choice] != netcfg.EAPTLS }
	d.cert.hidden, d.key.hidden, d.keyPass.hidden = tls, tls, tls
	if w := m.cfg.Prefill.Network.Wired; w != nil && w.Dot1X != nil {
		for i, e := range dot1xMethods {
			if e != "" && string(e) == w.Dot1X.EAP {
				d.method.choice = i
			}
		}
		a := w.Dot1X
		for f, v := range map[*field]string{d.identity: a.Identity, d.password: a.Password, d.ca: a.CACert, d.cert: a.ClientCert,
			d.key: a.PrivateKey, d.keyPass: a.KeyPassword} {
			f.set(v)
		}
	}
	return d
}

func (d *dot1xFields) fields() []*field {
	return []*field{d.method, d.identity, d.password, d.ca, d.cert, d.key, d.keyPass}
}

// problem is the first 802.1X field's problem, labelled, "" when none.
func (d *dot1xFields) problem(m *Model) string {
	for _, f := range d.fields() {
		if pr := f.problem(); pr != "" {
			return m.t(f.label) + ": " + pr
		}
	}
	return ""
}

// config is the 802.1X configuration the fields give, nil when off.
func (d *dot1xFields) config() *netcfg.Dot1XConfig {
	e := dot1xMethods[d.method.choice]
	if e == "" {
		return nil
	}
	c := netcfg.Dot1XConfig{EAP: e, Identity: strings.TrimSpace(d.identity.value()), CACert: strings.TrimSpace(d.ca.value())}
	switch e {
	case netcfg.EAPPEAP:
		c.Password = d.password.value()
	case netcfg.EAPTLS:
		c.ClientCert, c.PrivateKey, c.KeyPassword = strings.TrimSpace(d.cert.value()), strings.TrimSpace(d.key.value()), d.keyPass.value()
	}
	return &c
}

// newProxyPage sets the HTTP(S) proxy onboarding and the installed
// system go through: by hand or a PAC file's URL, or none. Saving keeps
// it and returns to the page before (the network list, or the onboarding
// error). It shows what was saved in this run, else the answers' proxy.
func newProxyPage(m *Model) *formPage {
	mode := &field{kind: fieldChoice, label: "proxy.mode", options: []string{"proxy.mode.none", "proxy.mode.manual", "proxy.mode.pac"}}
	host := textField("proxy.host", nil)
	port := textField("proxy.port", nil)
	user := textField("proxy.username", nil)
	pass := secretField("proxy.password", nil)
	noProxy := textField("proxy.noproxy", nil)
	pac := textField("proxy.pac", nil)
	port.max = 5
	a := m.savedProxy
	if a == nil && m.cfg.Prefill.Network.Proxy != nil {
		c := m.cfg.Prefill.Network.Proxy.Config()
		a = &c
	}
	if a != nil && !a.IsZero() {
		mode.choice = 1
		if a.PAC != "" {
			mode.choice = 2
		}
		host.set(a.Host)
		if a.Port != 0 {
			port.set(strconv.Itoa(a.Port))
		}
		user.set(a.Username)
		pass.set(a.Password)
		noProxy.set(strings.Join(a.NoProxy, ", "))
		pac.set(a.PAC)
	}
	cfg := func() proxy.Config {
		switch mode.choice {
		case 1:
			n, _ := strconv.Atoi(strings.TrimSpace(port.value()))
			return proxy.Config{Host: strings.TrimSpace(host.value()), Port: n, Username: user.value(), Password: pass.value(),
				NoProxy: proxy.ParseNoProxy(noProxy.value())}
		case 2:
			return proxy.Config{PAC: strings.TrimSpace(pac.value()), Username: user.value(), Password: pass.value()}
		}
		return proxy.Config{}
	}
	validate := func() error { return proxy.Validate(cfg()) }
	for f, name := range map[*field]string{host: "proxy.host", port: "proxy.port", user: "proxy.username", pass: "proxy.password",
		noProxy: "proxy.no_proxy", pac: "proxy.pac"} {
		f.check = netCheck(m, name, validate)
	}
	manual := func() bool { return mode.choice != 1 }
	host.hidden, port.hidden, noProxy.hidden = manual, manual, manual
	pac.hidden = func() bool { return mode.choice != 2 }
	user.hidden = func() bool { return mode.choice == 0 }
	pass.hidden = user.hidden
	p := &formPage{id: "proxy", heading: "proxy.heading", stepv: firstboot.StepNetwork}
	p.note = func(m *Model) string { return m.t("proxy.note") }
	p.form = &form{fields: []*field{mode, host, port, user, pass, noProxy, pac}, buttons: []button{
		{label: "btn.back", press: m.back},
		{label: "proxy.save", primary: true, press: func() tea.Cmd {
			c := cfg()
			if err := firstboot.PersistProxy(&m.cfg.Config, c); err != nil {
				p.err = netErrorText(m, err)
				return nil
			}
			m.savedProxy = &c
			return m.back()
		}},
	}}
	return p
}
