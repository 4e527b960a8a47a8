package firstboot

import (
	"strings"

	"github.com/onramp-os/onramp/netcfg"
)

// AnsweredWLAN is the answered wireless network when it is the one named
// ssid ("" for any: the hidden network form).
func AnsweredWLAN(n NetworkAnswer, ssid string) (netcfg.WLANConfig, bool) {
	if n.WLAN == nil || (ssid != "" && n.WLAN.SSID != ssid) {
		return netcfg.WLANConfig{}, false
	}
	return WLANConfigFor(*n.WLAN), true
}

// AnsweredAuth is the index in authOptions of the answered network's
// authentication, def when there is none.
func AnsweredAuth(n NetworkAnswer, def int) int {
	if c, ok := AnsweredWLAN(n, ""); ok {
		for i, a := range AuthOptions {
			if a == c.Auth {
				return i
			}
		}
	}
	return def
}

// WiredFields are the wired form's fields: IPv4 address, /prefix or mask,
// gateway, domain, two name servers; IPv6 address/prefix, gateway, name
// server.
type WiredFields [9]string

// AnsweredWired is the static configuration as the wired form's fields;
// dhcp is set for `wired: dhcp`.
func AnsweredWired(n NetworkAnswer) (vals WiredFields, dhcp bool) {
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
	vals[6], vals[7] = w.Address6, w.Gateway6
	if len(w.DNS6) > 0 {
		vals[8] = w.DNS6[0]
	}
	return vals, false
}

// Config is what the wired form asks for: each family static where its
// fields are filled in, else from the network (DHCP; router
// advertisements), so the empty form is dual stack.
func (v WiredFields) Config() (netcfg.WiredConfig, error) {
	var c netcfg.WiredConfig
	if strings.TrimSpace(strings.Join(v[:6], "")) != "" {
		s, err := netcfg.ParseStatic(v[0], v[1], v[2], v[3], []string{v[4], v[5]})
		if err != nil {
			return c, err
		}
		c.Static = &s
	}
	if strings.TrimSpace(strings.Join(v[6:], "")) != "" {
		s, err := netcfg.ParseStatic6(v[6], v[7], []string{v[8]})
		if err != nil {
			return c, err
		}
		c.IPv6, c.Static6 = netcfg.IPv6Static, &s
	}
	return c, netcfg.ValidateWired(c)
}

// AnsweredMobile chooses the answered country, provider and APN where the
// database has them.
func AnsweredMobile(n NetworkAnswer, db netcfg.ProviderDB, c *MobileChoice) {
	mo := n.Mobile
	if mo == nil {
		return
	}
	for _, k := range db.Countries() {
		if !strings.EqualFold(k.Code, mo.Country) {
			continue
		}
		c.Country, c.Provider, c.APN = k.Code, 0, 0
		for i, p := range db.Providers(k.Code) {
			if !strings.EqualFold(p.Name, mo.Provider) {
				continue
			}
			c.Provider = i
			for j, a := range p.APNs {
				if a.Name == mo.APN {
					c.APN = j
				}
			}
		}
	}
}

// AnsweredPIN is the SIM PIN of the answers, "" for none.
func AnsweredPIN(n NetworkAnswer) string {
	if n.Mobile == nil {
		return ""
	}
	return n.Mobile.PIN
}

// AnsweredLink is the link the answers name when it is of kind, else def.
func AnsweredLink(n NetworkAnswer, links []netcfg.Link, kind netcfg.Kind, def string) string {
	for _, l := range links {
		if l.Name == n.Interface && l.Kind == kind {
			return l.Name
		}
	}
	return def
}

// AnsweredClock is the answered manual clock as the date and time
// fields.
func AnsweredClock(a Answers) (date, clock string, ok bool) {
	t, err := ParseAnswerTime(a.Time)
	if a.Time == "" || err != nil {
		return "", "", false
	}
	clock = t.Format("15:04")
	if t.Second() != 0 {
		clock = t.Format("15:04:05")
	}
	return t.Format("2006-01-02"), clock, true
}

// AuthOptions are the hidden network's authentication types, as the guide
// names them.
var AuthOptions = []netcfg.Auth{netcfg.AuthOpen, netcfg.AuthPSK, netcfg.AuthPEAP}

// MobileChoice is the country, provider and APN chosen on the mobile page.
type MobileChoice struct {
	Country  string
	Provider int
	APN      int
}

// The ways online the network step offers besides the listed wireless
// networks ("wlan:SSID").
const (
	ChoiceHidden = "\x00hidden"
	ChoiceWired  = "\x00wired"
	ChoiceMobile = "\x00mobile"
)

// AnsweredChoice is the way online the answers choose: a Choice constant,
// "wlan:SSID", or "" for none.
func AnsweredChoice(n NetworkAnswer) string {
	switch {
	case n.WLAN != nil && n.WLAN.Hidden:
		return ChoiceHidden
	case n.WLAN != nil:
		return "wlan:" + n.WLAN.SSID
	case n.Wired != nil:
		return ChoiceWired
	case n.Mobile != nil:
		return ChoiceMobile
	}
	return ""
}
