package setup

import (
	"context"
	"errors"
	"strconv"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/onramp-os/onramp/firstboot"
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

// newMobilePage connects through the modem: country → provider → APN, and
// the PIN when the SIM is locked.
func newMobilePage(m *Model, modem netcfg.Modem, db netcfg.ProviderDB) *formPage {
	c := &firstboot.MobileChoice{}
	if len(m.choice.Lang.Locale) == 5 {
		c.Country = m.choice.Lang.Locale[3:]
	}
	if len(db.Providers(c.Country)) == 0 {
		c.Country = ""
	}
	fm := &form{} // filled below; the pickers move its focus on
	country := &field{kind: fieldPick, label: "mobile.country"}
	provider := &field{kind: fieldPick, label: "mobile.provider"}
	apn := &field{kind: fieldPick, label: "mobile.apn"}
	pin := secretField("mobile.pin", nil)
	pin.max = 8
	firstboot.AnsweredMobile(m.cfg.Prefill.Network, db, c)
	pin.set(firstboot.AnsweredPIN(m.cfg.Prefill.Network))
	refresh := func() {
		country.display, provider.display, apn.display = "", "", ""
		for _, k := range db.Countries() {
			if k.Code == c.Country {
				country.display = k.Name
			}
		}
		ps := db.Providers(c.Country)
		if c.Provider < len(ps) {
			provider.display = ps[c.Provider].Name
			if as := ps[c.Provider].APNs; c.APN < len(as) {
				apn.display = as[c.APN].Name
			}
		}
	}
	refresh()
	current := func() (netcfg.APN, bool) {
		ps := db.Providers(c.Country)
		if c.Provider >= len(ps) || c.APN >= len(ps[c.Provider].APNs) {
			return netcfg.APN{}, false
		}
		return ps[c.Provider].APNs[c.APN], true
	}
	country.check = func(string) string {
		if c.Country == "" {
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
		return m.goTo(newPicker("mobile.country", firstboot.StepNetwork, items, c.Country, func(m *Model, id string) tea.Cmd {
			if id != c.Country {
				c.Country, c.Provider, c.APN = id, 0, 0
			}
			refresh()
			fm.move(1)
			return nil
		}))
	}
	provider.pick = func() tea.Cmd {
		var items []listItem
		for i, p := range db.Providers(c.Country) {
			items = append(items, listItem{label: p.Name, id: itoa(i)})
		}
		return m.goTo(newPicker("mobile.provider", firstboot.StepNetwork, items, itoa(c.Provider), func(m *Model, id string) tea.Cmd {
			c.Provider, c.APN = atoi(id), 0
			refresh()
			fm.move(1)
			return nil
		}))
	}
	apn.pick = func() tea.Cmd {
		var items []listItem
		if ps := db.Providers(c.Country); c.Provider < len(ps) {
			for i, a := range ps[c.Provider].APNs {
				items = append(items, listItem{label: a.Name, detail: a.Label, id: itoa(i)})
			}
		}
		return m.goTo(newPicker("mobile.apn", firstboot.StepNetwork, items, itoa(c.APN), func(m *Model, id string) tea.Cmd {
			c.APN = atoi(id)
			refresh()
			fm.move(1)
			return nil
		}))
	}
	p := &formPage{id: "mobile", heading: "mobile.heading", args: []any{modem.Model}, stepv: firstboot.StepNetwork}
	p.note = func(m *Model) string {
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
			ps := db.Providers(c.Country)
			mc := netcfg.MobileConfig{Country: c.Country, Provider: ps[c.Provider].Name, APN: a.Name, Username: a.Username, Password: a.Password}
			locked, code, id := modem.Locked, pin.value(), modem.ID
			if locked {
				mc.PIN = code // kept once it unlocked the SIM: later boots need it again
			}
			cp := &connectPage{target: ps[c.Provider].Name, run: func(ctx context.Context, pr netcfg.Progress) (netcfg.Status, error) {
				if locked {
					pr.Report(netcfg.StageAuthenticate)
					md, err := m.cfg.Net.UnlockSIM(ctx, id, code)
					if err != nil {
						return netcfg.Status{}, &simError{modem: md, err: err}
					}
				}
				return m.cfg.Net.ConnectMobile(ctx, id, mc, pr)
			}, ok: func(m *Model, st netcfg.Status) tea.Cmd { return networkDone(m, "mobile", id, nil, nil, &mc) }}
			cp.failed = func(m *Model, err error) {
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
