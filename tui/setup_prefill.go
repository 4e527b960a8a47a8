package tui

import (
	"strings"

	"github.com/onramp-os/onramp/netcfg"
)

// What an answers file given without --non-interactive puts into the
// screens and the plain prompts: the network page's row, the values of the
// network forms, the time zone and the clock. The user still sees and
// confirms every screen.

// prefillRow is the network page's row the answers choose.
func prefillRow(n NetworkAnswer) string {
	switch {
	case n.WLAN != nil && n.WLAN.Hidden:
		return rowHidden
	case n.WLAN != nil:
		return "wlan:" + n.WLAN.SSID
	case n.Wired != nil:
		return rowWired
	case n.Mobile != nil:
		return rowMobile
	}
	return ""
}

// answeredWLAN is the answered wireless network when it is the one named
// ssid ("" for any: the hidden network form).
func answeredWLAN(n NetworkAnswer, ssid string) (netcfg.WLANConfig, bool) {
	if n.WLAN == nil || (ssid != "" && n.WLAN.SSID != ssid) {
		return netcfg.WLANConfig{}, false
	}
	return wlanConfig(*n.WLAN), true
}

// answeredAuth is the index in authOptions of the answered network's
// authentication, def when there is none.
func answeredAuth(n NetworkAnswer, def int) int {
	if c, ok := answeredWLAN(n, ""); ok {
		for i, a := range authOptions {
			if a == c.Auth {
				return i
			}
		}
	}
	return def
}

// answeredWired is the static configuration as the wired form's fields
// (address, /prefix, gateway, domain, two name servers); dhcp is set for
// `wired: dhcp`.
func answeredWired(n NetworkAnswer) (vals [6]string, dhcp bool) {
	w := n.Wired
	if w == nil {
		return vals, false
	}
	if w.DHCP {
		return vals, true
	}
	a, prefix, ok := strings.Cut(w.Address, "/")
	vals[0] = a
	if ok {
		vals[1] = "/" + prefix
	}
	vals[2], vals[3] = w.Gateway, w.Domain
	for i := 0; i < 2 && i < len(w.DNS); i++ {
		vals[4+i] = w.DNS[i]
	}
	return vals, false
}

// answeredMobile chooses the answered country, provider and APN where the
// database has them.
func answeredMobile(n NetworkAnswer, db netcfg.ProviderDB, c *mobileChoice) {
	mo := n.Mobile
	if mo == nil {
		return
	}
	for _, k := range db.Countries() {
		if !strings.EqualFold(k.Code, mo.Country) {
			continue
		}
		c.country, c.provider, c.apn = k.Code, 0, 0
		for i, p := range db.Providers(k.Code) {
			if !strings.EqualFold(p.Name, mo.Provider) {
				continue
			}
			c.provider = i
			for j, a := range p.APNs {
				if a.Name == mo.APN {
					c.apn = j
				}
			}
		}
	}
}

// answeredPIN is the SIM PIN of the answers, "" for none.
func answeredPIN(n NetworkAnswer) string {
	if n.Mobile == nil {
		return ""
	}
	return n.Mobile.PIN
}

// answeredLink is the link the answers name when it is of kind, else def.
func answeredLink(n NetworkAnswer, links []netcfg.Link, kind netcfg.Kind, def string) string {
	for _, l := range links {
		if l.Name == n.Interface && l.Kind == kind {
			return l.Name
		}
	}
	return def
}

// prefillWLANFields fills a listed network's user name and key.
func (m *Setup) prefillWLANFields(ssid string, auth netcfg.Auth, user, key *field) {
	if c, ok := answeredWLAN(m.cfg.Prefill.Network, ssid); ok && c.Auth == auth {
		user.set(c.Username)
		key.set(c.Key)
	}
}

// prefillHidden fills the hidden network form.
func (m *Setup) prefillHidden(auth, ssid, user, key *field) {
	c, ok := answeredWLAN(m.cfg.Prefill.Network, "")
	if !ok {
		return
	}
	auth.choice = answeredAuth(m.cfg.Prefill.Network, auth.choice)
	ssid.set(c.SSID)
	user.set(c.Username)
	key.set(c.Key)
}

// prefillWired fills the static wired form; it reports whether the
// answers ask for DHCP instead.
func (m *Setup) prefillWired(fields ...*field) (dhcp bool) {
	vals, dhcp := answeredWired(m.cfg.Prefill.Network)
	for i, f := range fields {
		f.set(vals[i])
	}
	return dhcp
}

// zoneHint is the zone the time zone lists start on: the one chosen
// before, else the answered one.
func (m *Setup) zoneHint() string {
	if z := m.cfg.Prefill.Timezone; m.choice.zone == "" && z != "auto" {
		return z
	}
	return m.choice.zone
}

// answeredClock is the answered manual clock as the date and time
// fields.
func answeredClock(a Answers) (date, clock string, ok bool) {
	t, err := parseAnswerTime(a.Time)
	if a.Time == "" || err != nil {
		return "", "", false
	}
	clock = t.Format("15:04")
	if t.Second() != 0 {
		clock = t.Format("15:04:05")
	}
	return t.Format("2006-01-02"), clock, true
}
