package tui

import (
	"context"
	"errors"
	"strconv"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/onramp-os/onramp/netcfg"
)

// simError carries the SIM's state after a refused PIN to the page, which
// shows the attempts left.
type simError struct {
	modem netcfg.Modem
	err   error
}

func (e *simError) Error() string { return e.err.Error() }
func (e *simError) Unwrap() error { return e.err }

// mobileChoice is the country, provider and APN chosen on the mobile page.
type mobileChoice struct {
	country  string
	provider int
	apn      int
}

// newMobilePage connects through the modem: country → provider → APN, and
// the PIN when the SIM is locked.
func newMobilePage(m *Setup, modem netcfg.Modem, db netcfg.ProviderDB) *formPage {
	c := &mobileChoice{}
	if len(m.choice.lang.Locale) == 5 {
		c.country = m.choice.lang.Locale[3:]
	}
	if len(db.Providers(c.country)) == 0 {
		c.country = ""
	}
	fm := &form{} // filled below; the pickers move its focus on
	country := &field{kind: fieldPick, label: "mobile.country"}
	provider := &field{kind: fieldPick, label: "mobile.provider"}
	apn := &field{kind: fieldPick, label: "mobile.apn"}
	pin := secretField("mobile.pin", nil)
	pin.max = 8
	answeredMobile(m.cfg.Prefill.Network, db, c)
	pin.set(answeredPIN(m.cfg.Prefill.Network))
	refresh := func() {
		country.display, provider.display, apn.display = "", "", ""
		for _, k := range db.Countries() {
			if k.Code == c.country {
				country.display = k.Name
			}
		}
		ps := db.Providers(c.country)
		if c.provider < len(ps) {
			provider.display = ps[c.provider].Name
			if as := ps[c.provider].APNs; c.apn < len(as) {
				apn.display = as[c.apn].Name
			}
		}
	}
	refresh()
	current := func() (netcfg.APN, bool) {
		ps := db.Providers(c.country)
		if c.provider >= len(ps) || c.apn >= len(ps[c.provider].APNs) {
			return netcfg.APN{}, false
		}
		return ps[c.provider].APNs[c.apn], true
	}
	country.check = func(string) string {
		if c.country == "" {
			return m.t("err.required")
		}
		return ""
	}
	apn.check = func(string) string {
		if _, ok := current(); !ok {
			return m.t("err.required")
		}
		return ""
	}
	pin.hidden = func() bool { return !modem.Locked }
	pin.check = func(v string) string {
		if netcfg.ValidatePIN(v) != nil {
			return m.t("err.field.pin")
		}
		return ""
	}
	country.pick = func() tea.Cmd {
		var items []listItem
		for _, k := range db.Countries() {
			items = append(items, listItem{label: k.Name, detail: k.Code, id: k.Code})
		}
		return m.goTo(newPicker("mobile.country", stepNetwork, items, c.country, func(m *Setup, id string) tea.Cmd {
			if id != c.country {
				c.country, c.provider, c.apn = id, 0, 0
			}
			refresh()
			fm.move(1)
			return nil
		}))
	}
	provider.pick = func() tea.Cmd {
		var items []listItem
		for i, p := range db.Providers(c.country) {
			items = append(items, listItem{label: p.Name, id: itoa(i)})
		}
		return m.goTo(newPicker("mobile.provider", stepNetwork, items, itoa(c.provider), func(m *Setup, id string) tea.Cmd {
			c.provider, c.apn = atoi(id), 0
			refresh()
			fm.move(1)
			return nil
		}))
	}
	apn.pick = func() tea.Cmd {
		var items []listItem
		if ps := db.Providers(c.country); c.provider < len(ps) {
			for i, a := range ps[c.provider].APNs {
				items = append(items, listItem{label: a.Name, detail: a.Label, id: itoa(i)})
			}
		}
		return m.goTo(newPicker("mobile.apn", stepNetwork, items, itoa(c.apn), func(m *Setup, id string) tea.Cmd {
			c.apn = atoi(id)
			refresh()
			fm.move(1)
			return nil
		}))
	}
	p := &formPage{id: "mobile", heading: "mobile.heading", args: []any{modem.Model}, stepv: stepNetwork}
	p.note = func(m *Setup) string {
		switch {
		case modem.Blocked:
			return m.t("net.err.blocked")
		case modem.Locked:
			return m.t("mobile.locked", modem.Attempts)
		}
		return ""
	}
	*fm = form{fields: []*field{country, provider, apn, pin}, buttons: []button{
		{label: "btn.back", press: m.back},
		{label: "btn.connect", primary: true, press: func() tea.Cmd {
			a, ok := current()
			if !ok || modem.Blocked {
				return nil
			}
			ps := db.Providers(c.country)
			mc := netcfg.MobileConfig{Country: c.country, Provider: ps[c.provider].Name, APN: a.Name, Username: a.Username, Password: a.Password}
			locked, code, id := modem.Locked, pin.value(), modem.ID
			cp := &connectPage{target: ps[c.provider].Name, run: func(ctx context.Context, pr netcfg.Progress) (netcfg.Status, error) {
				if locked {
					pr.Report(netcfg.StageAuthenticate)
					md, err := m.cfg.Net.UnlockSIM(ctx, id, code)
					if err != nil {
						return netcfg.Status{}, &simError{modem: md, err: err}
					}
				}
				return m.cfg.Net.ConnectMobile(ctx, id, mc, pr)
			}, ok: func(m *Setup, st netcfg.Status) tea.Cmd { return networkDone(m, "mobile", id, nil, nil, &mc) }}
			cp.failed = func(m *Setup, err error) {
				var se *simError
				if errors.As(err, &se) {
					if se.modem.ID != "" {
						modem = se.modem
					}
					pin.set("")
					if errors.Is(err, netcfg.ErrWrongPIN) {
						p.err = m.t("mobile.wrongpin", modem.Attempts)
						return
					}
				} else if locked {
					modem.Locked = false // the PIN was accepted; only the connection failed
				}
				p.err = netErrorText(m, err)
			}
			p.err = ""
			return m.goTo(cp)
		}},
	}}
	p.form = fm
	return p
}

func itoa(i int) string { return strconv.Itoa(i) }

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
