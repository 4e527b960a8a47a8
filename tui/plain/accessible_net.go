package plain

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/onramp-os/onramp/firstboot"
	"github.com/onramp-os/onramp/netcfg"
)

func (a *prompter) progress(s netcfg.Stage) { a.say("  %s...", a.t("conn.stage."+string(s))) }

// network offers the same ways online as the network screen, until one
// works.
func (a *prompter) network() error {
	ctx := a.cfg.Context
	a.say("%s", a.t("net.checking"))
	if st, err := a.cfg.Net.Status(ctx); err == nil && st.Online {
		a.c.Network = "present"
		a.say("%s", a.t("a11y.online", st.Link))
		return a.portal()
	}
	links, err := a.cfg.Net.Links(ctx)
	if err != nil {
		return err
	}
	modems, _ := a.cfg.Net.Modems(ctx)
	pre := a.cfg.Prefill.Network
	for {
		var wired, wireless string
		for _, l := range links {
			if l.Kind == netcfg.Wired && wired == "" {
				wired = l.Name
			}
			if l.Kind == netcfg.Wireless && wireless == "" {
				wireless = l.Name
			}
		}
		wired = firstboot.AnsweredLink(pre, links, netcfg.Wired, wired)
		wireless = firstboot.AnsweredLink(pre, links, netcfg.Wireless, wireless)
		var nets []netcfg.Network
		if wireless != "" {
			a.say("%s", a.t("net.scanning"))
			nets, _ = a.cfg.Net.Scan(ctx, wireless)
			a.say("%s", a.t("net.nocerts"))
		} else {
			a.say("%s %s", a.t("net.nowifi"), a.t("net.nowifi.check"))
		}
		var opts []string
		for _, n := range nets {
			opts = append(opts, fmt.Sprintf("%s (%s, %d/4)", n.SSID, n.Security, n.Bars()))
		}
		actions := []string{}
		if wireless != "" {
			actions = append(actions, "hidden", "rescan")
			opts = append(opts, a.t("net.hidden"), a.t("net.rescan"))
		}
		if wired != "" {
			actions = append(actions, "wired")
			opts = append(opts, a.t("net.wired"))
		}
		if len(modems) > 0 {
			actions = append(actions, "mobile")
			opts = append(opts, a.t("net.mobile"))
		}
		actions = append(actions, "proxy")
		opts = append(opts, a.t("net.proxy"))
		def := 0
		for j, id := range actions { // the way the answers chose
			if "\x00"+id == firstboot.AnsweredChoice(pre) {
				def = len(nets) + j
			}
		}
		for j, n := range nets {
			if "wlan:"+n.SSID == firstboot.AnsweredChoice(pre) {
				def = j
			}
		}
		i, err := a.choose(a.t("net.offline"), opts, def)
		if err != nil {
			return err
		}
		var done bool
		if i < len(nets) {
			done, err = a.joinWLAN(wireless, nets[i].SSID, netcfg.AuthFor(nets[i].Security), false)
		} else {
			switch actions[i-len(nets)] {
			case "hidden":
				done, err = a.joinHidden(wireless)
			case "wired":
				done, err = a.wired(wired)
			case "mobile":
				done, err = a.mobile(modems[0])
			case "proxy":
				err = a.proxySettings()
			}
		}
		if err != nil {
			return err
		}
		if done {
			return a.portal()
		}
	}
}

// portal checks for a captive portal once online and, while one holds the
// connection, says where to sign in (the URL as text: a screen reader
// reads it out) and offers to check again.
func (a *prompter) portal() error {
	for {
		a.say("%s", a.t("portal.checking"))
		ctx, cancel := context.WithTimeout(a.cfg.Context, 15*time.Second)
		url, err := a.cfg.Net.CaptivePortal(ctx)
		cancel()
		if err != nil || url == "" {
			return nil
		}
		a.say("%s", a.t("portal.text"))
		a.say("%s %s", a.t("portal.open"), url)
		i, err := a.choose(a.t("portal.heading"), []string{a.t("portal.again"), a.t("portal.skip")}, 0)
		if err != nil || i == 1 {
			return err
		}
	}
}

// connected reports an attempt's end: true when online.
func (a *prompter) connected(err error) bool {
	if err == nil {
		a.say("%s", a.t("a11y.connected"))
		return true
	}
	a.say("%s", a.t("a11y.failed", firstboot.NetErrorText(a.t, err)))
	return false
}

func (a *prompter) joinWLAN(iface, ssid string, auth netcfg.Auth, hidden bool) (bool, error) {
	c := netcfg.WLANConfig{SSID: ssid, Auth: auth, Hidden: hidden}
	pre, ok := firstboot.AnsweredWLAN(a.cfg.Prefill.Network, ssid)
	if !ok || pre.Auth != auth {
		pre = netcfg.WLANConfig{}
	}
	var err error
	if auth == netcfg.AuthPEAP {
		if c.Username, err = a.askValid(a.t("wlan.username"), pre.Username, nonEmpty); err != nil {
			return false, err
		}
	}
	if auth != netcfg.AuthOpen {
		label := a.t("wlan.key")
		if auth == netcfg.AuthPEAP {
			label = a.t("wlan.password")
		}
		if c.Key, err = a.askSecret(label, pre.Key, func(v string) string {
			c2 := c
			c2.Key = v
			if e := netcfg.ValidateWLAN(c2); e != nil {
				return "err.field.key"
			}
			return ""
		}); err != nil {
			return false, err
		}
	}
	a.say("%s", a.t("conn.heading", ssid))
	ctx, cancel := context.WithTimeout(a.cfg.Context, firstboot.ConnectTimeout)
	defer cancel()
	_, err = a.cfg.Net.JoinWLAN(ctx, iface, c, a.progress)
	if !a.connected(err) {
		return false, nil
	}
	a.c.Network = "wlan:" + ssid
	return true, firstboot.PersistNetwork(a.cfg, iface, nil, &c, nil)
}

func nonEmpty(v string) string {
	if strings.TrimSpace(v) == "" {
		return "err.required"
	}
	return ""
}

func (a *prompter) joinHidden(iface string) (bool, error) {
	pre := a.cfg.Prefill.Network
	i, err := a.choose(a.t("hidden.auth"), []string{a.t("hidden.auth.open"), a.t("hidden.auth.key"), a.t("hidden.auth.user")}, firstboot.AnsweredAuth(pre, 1))
	if err != nil {
		return false, err
	}
	c, _ := firstboot.AnsweredWLAN(pre, "")
	ssid, err := a.askValid(a.t("hidden.ssid"), c.SSID, func(v string) string {
		if v == "" || len(v) > 32 {
			return "err.field.ssid"
		}
		return ""
	})
	if err != nil {
		return false, err
	}
	return a.joinWLAN(iface, ssid, firstboot.AuthOptions[i], true)
}

func (a *prompter) wired(iface string) (bool, error) {
	vals, _ := firstboot.AnsweredWired(a.cfg.Prefill.Network) // the first round's defaults
	var err error
	keys := []string{"wired.address", "wired.netmask", "wired.gateway", "wired.domain", "wired.dns", "wired.dns",
		"wired.address6", "wired.gateway6", "wired.dns6"}
	a.say("%s", a.t("wired.auto"))
	for {
		for i, k := range keys {
			if vals[i], err = a.ask(a.t(k), vals[i]); err != nil {
				return false, err
			}
		}
		wc, perr := vals.Config()
		if perr == nil {
			if wc.Dot1X, err = a.dot1x(); err != nil {
				return false, err
			}
			ctx, cancel := context.WithTimeout(a.cfg.Context, firstboot.ConnectTimeout)
			_, cerr := a.cfg.Net.ConfigureWired(ctx, iface, wc, a.progress)
			cancel()
			if !a.connected(cerr) {
				return false, nil
			}
			a.c.Network = "wired"
			return true, firstboot.PersistNetwork(a.cfg, iface, &wc, nil, nil)
		}
		vals = firstboot.WiredFields{}
		var fe *netcfg.FieldError
		if errors.As(perr, &fe) {
			label := "wired." + fe.Field
			if fe.Field == "ipv6" || fe.Field == "ipv4" {
				label = "wired.address6"
			}
			a.say("%s", a.t("a11y.invalid", a.t(label)+": "+a.t("err.field."+fe.Field)))
		}
	}
}

func (a *prompter) mobile(md netcfg.Modem) (bool, error) {
	db := a.cfg.Net.Providers()
	var names []string
	cs := db.Countries()
	pre := firstboot.MobileChoice{}
	if len(a.c.Lang.Locale) == 5 {
		pre.Country = a.c.Lang.Locale[3:]
	}
	firstboot.AnsweredMobile(a.cfg.Prefill.Network, db, &pre)
	def := 0
	for i, c := range cs {
		names = append(names, c.Name)
		if c.Code == pre.Country {
			def = i
		}
	}
	ci, err := a.choose(a.t("mobile.country"), names, def)
	if err != nil {
		return false, err
	}
	ps := db.Providers(cs[ci].Code)
	names = nil
	for _, p := range ps {
		names = append(names, p.Name)
	}
	if cs[ci].Code != pre.Country {
		pre.Provider, pre.APN = 0, 0
	}
	pi, err := a.choose(a.t("mobile.provider"), names, min(pre.Provider, max(len(names)-1, 0)))
	if err != nil {
		return false, err
	}
	names = nil
	for _, ap := range ps[pi].APNs {
		names = append(names, ap.Name)
	}
	if pi != pre.Provider {
		pre.APN = 0
	}
	ai, err := a.choose(a.t("mobile.apn"), names, min(pre.APN, max(len(names)-1, 0)))
	if err != nil {
		return false, err
	}
	ctx, cancel := context.WithTimeout(a.cfg.Context, firstboot.ConnectTimeout)
	defer cancel()
	pinDef := firstboot.AnsweredPIN(a.cfg.Prefill.Network) // offered once: a wrong one costs an attempt
	unlockedWith := ""                                     // kept for later boots, which need it again
	for md.Locked {
		a.say("%s", a.t("mobile.locked", md.Attempts))
		pin, err := a.askSecret(a.t("mobile.pin"), pinDef, func(v string) string {
			if netcfg.ValidatePIN(v) != nil {
				return "err.field.pin"
			}
			return ""
		})
		if err != nil {
			return false, err
		}
		pinDef = ""
		if md, err = a.cfg.Net.UnlockSIM(ctx, md.ID, pin); err != nil && !a.connected(err) && md.Blocked {
			return false, nil
		}
		if err == nil {
			unlockedWith = pin
		}
	}
	apn := ps[pi].APNs[ai]
	mc := netcfg.MobileConfig{Country: cs[ci].Code, Provider: ps[pi].Name, APN: apn.Name, Username: apn.Username, Password: apn.Password, PIN: unlockedWith}
	_, err = a.cfg.Net.ConnectMobile(ctx, md.ID, mc, a.progress)
	if !a.connected(err) {
		return false, nil
	}
	a.c.Network = "mobile"
	return true, firstboot.PersistNetwork(a.cfg, md.ID, nil, nil, &mc)
}
