package setup

import (
	"github.com/onramp-os/onramp/firstboot"
	"github.com/onramp-os/onramp/netcfg"
)

// What an answers file given without --non-interactive puts into the
// screens and the plain prompts: the network page's row, the values of the
// network forms, the time zone and the clock. The user still sees and
// confirms every screen.

// prefillWLANFields fills a listed network's user name and key.
func (m *Model) prefillWLANFields(ssid string, auth netcfg.Auth, user, key *field) {
	if c, ok := firstboot.AnsweredWLAN(m.cfg.Prefill.Network, ssid); ok && c.Auth == auth {
		user.set(c.Username)
		key.set(c.Key)
	}
}

// prefillHidden fills the hidden network form.
func (m *Model) prefillHidden(auth, ssid, user, key *field) {
	c, ok := firstboot.AnsweredWLAN(m.cfg.Prefill.Network, "")
	if !ok {
		return
	}
	auth.choice = firstboot.AnsweredAuth(m.cfg.Prefill.Network, auth.choice)
	ssid.set(c.SSID)
	user.set(c.Username)
	key.set(c.Key)
}

// prefillWired fills the static wired form; it reports whether the
// answers ask for DHCP instead.
func (m *Model) prefillWired(fields ...*field) (dhcp bool) {
	vals, dhcp := firstboot.AnsweredWired(m.cfg.Prefill.Network)
	for i, f := range fields {
		f.set(vals[i])
	}
	return dhcp
}

// zoneHint is the zone the time zone lists start on: the one chosen
// before, else the answered one.
func (m *Model) zoneHint() string {
	if z := m.cfg.Prefill.Timezone; m.choice.Zone == "" && z != "auto" {
		return z
	}
	return m.choice.Zone
}
