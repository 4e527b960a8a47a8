package plain

import (
	"errors"
	"strconv"
	"strings"

	"github.com/onramp-os/onramp/firstboot"
	"github.com/onramp-os/onramp/netcfg"
	"github.com/onramp-os/onramp/netcfg/proxy"
)

// dot1xLabels are the wired form's labels of netcfg's 802.1X field names.
var dot1xLabels = map[string]string{
	"dot1x.eap": "wired.dot1x", "dot1x.identity": "wired.dot1x.identity", "dot1x.password": "wired.dot1x.password",
	"dot1x.ca_cert": "wired.dot1x.ca", "dot1x.client_cert": "wired.dot1x.cert", "dot1x.private_key": "wired.dot1x.key",
	"dot1x.key_password": "wired.dot1x.keypass",
}

// dot1x asks for the wired port's 802.1X, as the wired form's 802.1X
// fields do: off, PEAP (identity and password) or EAP-TLS (certificate
// files); nil when off. It asks again until netcfg accepts the values.
func (a *prompter) dot1x() (*netcfg.Dot1XConfig, error) {
	methods := []netcfg.EAP{"", netcfg.EAPPEAP, netcfg.EAPTLS}
	var pre netcfg.Dot1XConfig
	def := 0
	if w := a.cfg.Prefill.Network.Wired; w != nil && w.Dot1X != nil {
		pre = w.Dot1X.Config()
		for i, e := range methods {
			if e != "" && e == pre.EAP {
				def = i
			}
		}
	}
	for {
		i, err := a.choose(a.t("wired.dot1x"), []string{a.t("wired.dot1x.off"), a.t("wired.dot1x.peap"), a.t("wired.dot1x.tls")}, def)
		if err != nil || i == 0 {
			return nil, err
		}
		c := netcfg.Dot1XConfig{EAP: methods[i]}
		if c.EAP != pre.EAP {
			pre = netcfg.Dot1XConfig{}
		}
		if c.Identity, err = a.askValid(a.t("wired.dot1x.identity"), pre.Identity, nonEmpty); err != nil {
			return nil, err
		}
		if c.EAP == netcfg.EAPPEAP {
			if c.Password, err = a.askSecret(a.t("wired.dot1x.password"), pre.Password, nonEmpty); err != nil {
				return nil, err
			}
		}
		if c.CACert, err = a.ask(a.t("wired.dot1x.ca")+" ("+a.t("a11y.skip")+")", pre.CACert); err != nil {
			return nil, err
		}
		if c.EAP == netcfg.EAPTLS {
			if c.ClientCert, err = a.askValid(a.t("wired.dot1x.cert"), pre.ClientCert, nonEmpty); err != nil {
				return nil, err
			}
			if c.PrivateKey, err = a.ask(a.t("wired.dot1x.key")+" ("+a.t("a11y.skip")+")", pre.PrivateKey); err != nil {
				return nil, err
			}
			if c.KeyPassword, err = a.askSecret(a.t("wired.dot1x.keypass")+" ("+a.t("a11y.skip")+")", pre.KeyPassword, nil); err != nil {
				return nil, err
			}
		}
		err = netcfg.ValidateDot1X(c)
		if err == nil {
			return &c, nil
		}
		var fe *netcfg.FieldError
		if !errors.As(err, &fe) {
			return nil, err
		}
		a.say("%s", a.t("a11y.invalid", a.t(dot1xLabels[fe.Field])+": "+a.t("err.field."+fe.Field)))
		def, pre = i, c
	}
}

// proxyLabels are the proxy page's labels of package proxy's field names.
var proxyLabels = map[string]string{
	"proxy.host": "proxy.host", "proxy.port": "proxy.port", "proxy.username": "proxy.username",
	"proxy.password": "proxy.password", "proxy.no_proxy": "proxy.noproxy", "proxy.pac": "proxy.pac",
}

// proxySettings asks for the HTTP(S) proxy as the proxy page does (none,
// by hand, or a PAC file's URL) until package proxy accepts it, and keeps
// it for onboarding and the installed system. It offers what was saved in
// this run, else the answers' proxy.
func (a *prompter) proxySettings() error {
	var pre proxy.Config
	if a.proxy != nil {
		pre = *a.proxy
	} else if p := a.cfg.Prefill.Network.Proxy; p != nil {
		pre = p.Config()
	}
	def := 0
	switch {
	case pre.PAC != "":
		def = 2
	case !pre.IsZero():
		def = 1
	}
	a.say("%s", a.t("proxy.note"))
	for {
		i, err := a.choose(a.t("proxy.mode"), []string{a.t("proxy.mode.none"), a.t("proxy.mode.manual"), a.t("proxy.mode.pac")}, def)
		if err != nil {
			return err
		}
		var c proxy.Config
		switch i {
		case 1:
			if c.Host, err = a.askValid(a.t("proxy.host"), pre.Host, nonEmpty); err != nil {
				return err
			}
			port := ""
			if pre.Port != 0 {
				port = strconv.Itoa(pre.Port)
			}
			if port, err = a.askValid(a.t("proxy.port"), port, func(v string) string {
				if n, err := strconv.Atoi(v); err != nil || n < 1 || n > 65535 {
					return "err.field.proxy.port"
				}
				return ""
			}); err != nil {
				return err
			}
			c.Port, _ = strconv.Atoi(port)
		case 2:
			if c.PAC, err = a.askValid(a.t("proxy.pac"), pre.PAC, nonEmpty); err != nil {
				return err
			}
		}
		if i != 0 {
			if c.Username, err = a.ask(a.t("proxy.username"), pre.Username); err != nil {
				return err
			}
			if c.Username != "" {
				if c.Password, err = a.askSecret(a.t("proxy.password"), pre.Password, nil); err != nil {
					return err
				}
			}
		}
		if i == 1 {
			noProxy, err := a.ask(a.t("proxy.noproxy")+" ("+a.t("a11y.skip")+")", strings.Join(pre.NoProxy, ", "))
			if err != nil {
				return err
			}
			c.NoProxy = proxy.ParseNoProxy(noProxy)
		}
		err = firstboot.PersistProxy(a.cfg, c)
		if err == nil {
			a.proxy = &c
			a.say("%s", a.t("a11y.proxy.saved"))
			return nil
		}
		var fe *netcfg.FieldError
		if !errors.As(err, &fe) {
			return err
		}
		a.say("%s", a.t("a11y.invalid", a.t(proxyLabels[fe.Field])+": "+a.t("err.field."+fe.Field)))
		def, pre = i, c
	}
}
