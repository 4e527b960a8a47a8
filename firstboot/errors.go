package firstboot

import (
	"errors"
	"time"

	"github.com/onramp-os/onramp/i18n"
	"github.com/onramp-os/onramp/netcfg"

	"github.com/onramp-os/onramp/onboard"
)

// ConnectTimeout bounds one connection attempt as a whole.
const ConnectTimeout = 90 * time.Second

// NetErrorText says in the user's language what failed on the way: the
// link, the address, the gateway, the name servers, the server's name,
// the server (named), or the wireless or mobile network.
func NetErrorText(t i18n.Func, err error) string {
	var te *netcfg.TargetError
	if errors.As(err, &te) {
		switch {
		case errors.Is(err, netcfg.ErrServerName):
			return t("net.err.servername", te.Target.Host)
		case errors.Is(err, netcfg.ErrServer):
			return t("net.err.server", te.Target.String())
		}
	}
	keys := []struct {
		err error
		key string
	}{
		{netcfg.ErrNoCarrier, "net.err.nocarrier"}, {netcfg.ErrNoDHCP, "net.err.nodhcp"},
		{netcfg.ErrTimeout, "net.err.timeout"}, {netcfg.ErrGateway, "net.err.gateway"},
		{netcfg.ErrDNS, "net.err.dns"}, {netcfg.ErrNoInternet, "net.err.nointernet"},
		{netcfg.ErrWrongKey, "net.err.wrongkey"}, {netcfg.ErrAuthFailed, "net.err.auth"},
		{netcfg.ErrCertificates, "net.nocerts"}, {netcfg.ErrNotFound, "net.err.notfound"},
		{netcfg.ErrSIMBlocked, "net.err.blocked"}, {netcfg.ErrNoSignal, "net.err.nosignal"},
		{netcfg.ErrAPNRefused, "net.err.apn"}, {netcfg.ErrWrongPIN, "net.err.pin"},
		{netcfg.ErrDot1XAuth, "net.err.dot1x"}, {netcfg.ErrDot1XSilent, "net.err.dot1x.silent"},
		{netcfg.ErrDot1XServerCert, "net.err.dot1x.cert"}, {netcfg.ErrDot1XKeyPassword, "net.err.dot1x.keypass"},
	}
	for _, k := range keys {
		if errors.Is(err, k.err) {
			return t(k.key)
		}
	}
	var fe *netcfg.FieldError
	if errors.As(err, &fe) {
		return t("err.field."+fe.Field) + " (" + fe.Msg + ")"
	}
	return t("net.err.other", err)
}

func CheckText(t i18n.Func, c onboard.Code) string {
	switch c {
	case onboard.CodeCACerts:
		return t("ob.check.37")
	case onboard.CodeEnroll:
		return t("ob.check.38")
	case onboard.CodeTCPConnect, onboard.CodeTLSConnect, onboard.CodeServiceUnreachable:
		return t("ob.check.network")
	case onboard.CodeVerifyChain:
		return t("ob.check.token")
	}
	return t("ob.check.default")
}
