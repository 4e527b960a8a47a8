package firstboot

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/onramp-os/onramp/i18n"
	"github.com/onramp-os/onramp/netcfg"
	"github.com/onramp-os/onramp/netcfg/proxy"
	"github.com/onramp-os/onramp/onboard"
	"github.com/onramp-os/onramp/sysconf"
)

// CheckAnswers validates every value with the rules the screens use,
// against the device's keyboard layouts, time zones and provider database.
// The first problem is returned, naming its field and, for answers read by
// ParseAnswers, its line.
func CheckAnswers(a Answers, layouts []sysconf.Layout, zones []sysconf.Zone, providers netcfg.ProviderDB) error {
	err := checkAnswers(a, layouts, zones, providers)
	var ae *AnswerError
	if errors.As(err, &ae) && ae.Line == 0 {
		ae.Line = a.lineOf(ae.Field)
	}
	return err
}

func checkAnswers(a Answers, layouts []sysconf.Layout, zones []sysconf.Zone, providers netcfg.ProviderDB) error {
	en := i18n.For("en")
	if a.Language == "" {
		return &AnswerError{Field: "language", Msg: "required"}
	}
	lang, ok := sysconf.LanguageFor(a.Language)
	if !ok {
		return &AnswerError{Field: "language", Msg: fmt.Sprintf("%s is not one of the display languages", shown(a.Language))}
	}
	layout, variant := a.Keyboard.Layout, a.Keyboard.Variant
	if layout == "" {
		layout, variant = lang.Layout, lang.Variant
	}
	l, ok := sysconf.FindLayout(layouts, layout)
	if !ok {
		return &AnswerError{Field: "keyboard.layout", Msg: fmt.Sprintf("%s is not a keyboard layout", shown(layout))}
	}
	if _, ok := l.Variant(variant); !ok {
		return &AnswerError{Field: "keyboard.variant", Msg: fmt.Sprintf("%s is not a variant of layout %s", shown(variant), shown(layout))}
	}
	if a.EULA != "accept" {
		return &AnswerError{Field: "eula", Msg: "the license terms must be accepted: eula: accept"}
	}
	if err := checkNetwork(a.Network, providers); err != nil {
		return err
	}
	switch a.Timezone {
	case "":
		return &AnswerError{Field: "timezone", Msg: "required: a time zone like Europe/Berlin, or auto"}
	case "auto":
	default:
		if _, ok := sysconf.FindZone(zones, a.Timezone); !ok {
			return &AnswerError{Field: "timezone", Msg: fmt.Sprintf("%s is not a time zone", shown(a.Timezone))}
		}
	}
	if a.Time != "" {
		if _, err := ParseAnswerTime(a.Time); err != nil {
			return &AnswerError{Field: "time", Msg: err.Error()}
		}
	}
	if a.RootPasswordHash != "" {
		if err := sysconf.CheckCryptHash(a.RootPasswordHash); err != nil {
			return &AnswerError{Field: "root_password_hash", Msg: err.Error()}
		}
	}
	o := a.Onboarding
	problem := func(field, key string) error { return &AnswerError{Field: "onboarding." + field, Msg: en.T(key)} }
	switch {
	case o.Skip:
	case o.Email != "":
		if k := EmailProblem(o.Email); k != "" {
			return problem("email", k)
		}
	case o.Server != "" || o.OTP != "" || o.Token != "" || o.Port != 0:
		if k := ServerProblem(o.Server); k != "" {
			return problem("server", k)
		}
		if _, given := a.lines["onboarding.port"]; (given || o.Port != 0) && (o.Port < 1 || o.Port > 65535) {
			return problem("port", "err.field.port")
		}
		if k := OTPProblem(o.OTP); k != "" {
			return problem("otp", k)
		}
		if k := TokenProblem(o.Token); k != "" {
			return problem("token", k)
		}
	default:
		return &AnswerError{Field: "onboarding", Msg: "required: email, server with otp and token, or skip"}
	}
	return nil
}

func checkNetwork(n NetworkAnswer, providers netcfg.ProviderDB) error {
	wrap := func(prefix string, err error) error {
		var fe *netcfg.FieldError
		if errors.As(err, &fe) {
			f := fe.Field
			if f == "netmask" {
				f = "address"
			}
			return &AnswerError{Field: prefix + "." + f, Msg: fe.Msg}
		}
		return &AnswerError{Field: prefix, Msg: err.Error()}
	}
	if n.Proxy != nil {
		if err := proxy.Validate(n.Proxy.Config()); err != nil {
			return wrap("network", err)
		}
	}
	if n.Wired != nil && n.Wired.Dot1X != nil {
		if err := netcfg.ValidateDot1X(n.Wired.Dot1X.Config()); err != nil {
			return wrap("network.wired", err)
		}
	}
	switch {
	case n.Skip:
	case n.Wired != nil:
		if _, err := WiredConfigFor(*n.Wired); err != nil {
			return wrap("network.wired", err)
		}
	case n.WLAN != nil:
		if err := netcfg.ValidateWLAN(WLANConfigFor(*n.WLAN)); err != nil {
			return wrap("network.wlan", err)
		}
	case n.Mobile != nil:
		mo := n.Mobile
		if _, ok := FindProvider(providers, mo.Country, mo.Provider); !ok {
			if len(providers.Providers(mo.Country)) == 0 {
				return &AnswerError{Field: "network.mobile.country", Msg: fmt.Sprintf("no providers known for %s", shown(mo.Country))}
			}
			return &AnswerError{Field: "network.mobile.provider", Msg: fmt.Sprintf("%s is not a provider in %s", shown(mo.Provider), shown(mo.Country))}
		}
		if err := netcfg.ValidateAPN(mo.APN); err != nil {
			return wrap("network.mobile", err)
		}
		if mo.PIN != "" {
			if err := netcfg.ValidatePIN(mo.PIN); err != nil {
				return wrap("network.mobile", err)
			}
		}
	}
	return nil
}

func WLANConfigFor(w WLANAnswer) netcfg.WLANConfig {
	auth := netcfg.Auth(w.Auth)
	if w.Auth == "" {
		auth = netcfg.AuthPSK
		if w.Key == "" {
			auth = netcfg.AuthOpen
		}
	}
	return netcfg.WLANConfig{SSID: w.SSID, Hidden: w.Hidden, Auth: auth, Username: w.Username, Key: w.Key}
}

func FindProvider(db netcfg.ProviderDB, country, name string) (netcfg.Provider, bool) {
	for _, p := range db.Providers(country) {
		if strings.EqualFold(p.Name, name) {
			return p, true
		}
	}
	return netcfg.Provider{}, false
}

// ParseAnswerTime reads "2026-11-27T10:00:00" (seconds optional).
func ParseAnswerTime(s string) (time.Time, error) {
	d, c, ok := strings.Cut(s, "T")
	if !ok {
		return time.Time{}, errors.New("use 2026-11-27T10:00:00")
	}
	return sysconf.ParseClock(d, c, time.UTC)
}

// RunUnattended runs every step from the answers, without a screen: the
// same checks and effects as the screens, a line on log per step. An error
// names the field (an *AnswerError) or the step that failed.
func RunUnattended(cfg Config, a Answers, log io.Writer) (Outcome, error) {
	cfg.Prefill = a
	cfg.Defaults()
	ctx := cfg.Context
	var out Outcome
	layouts, err := cfg.Sys.Layouts()
	if err != nil {
		return out, fmt.Errorf("keyboard layouts: %w", err)
	}
	zones, err := cfg.Sys.Zones()
	if err != nil {
		return out, fmt.Errorf("time zones: %w", err)
	}
	var providers netcfg.ProviderDB = netcfg.StaticProviders{}
	if cfg.Net != nil {
		providers = cfg.Net.Providers()
	}
	if err := CheckAnswers(a, layouts, zones, providers); err != nil {
		return out, err
	}
	var c Choice
	c.Lang, _ = sysconf.LanguageFor(a.Language)
	c.Layout, c.Variant = a.Keyboard.Layout, a.Keyboard.Variant
	if c.Layout == "" {
		c.Layout, c.Variant = c.Lang.Layout, c.Lang.Variant
	}
	save := func(s Step) error {
		c.Step = s
		return cfg.Sys.SaveState(c.State(cfg.Now()))
	}
	kerr, err := ApplyLanguage(ctx, &cfg, c.Lang, c.Layout, c.Variant)
	if err != nil {
		return out, fmt.Errorf("language: %w", err)
	}
	if kerr != nil {
		fmt.Fprintf(log, "warning: console keymap: %v\n", kerr)
	}
	fmt.Fprintf(log, "language %s, keyboard %s\n", c.Lang.Locale, sysconf.ConsoleKeymap(c.Layout, c.Variant))
	if err := save(StepLicense); err != nil {
		return out, err
	}
	e, err := cfg.Sys.EULA(c.Lang.Code)
	if err != nil {
		return out, fmt.Errorf("eula: %w", err)
	}
	if err := ApplyEULA(&cfg, e); err != nil {
		return out, fmt.Errorf("eula: %w", err)
	}
	c.EULA = e.SHA256()
	fmt.Fprintf(log, "license accepted (%s, sha256 %s)\n", e.Language, c.EULA[:16])
	if err := save(StepNetwork); err != nil {
		return out, err
	}
	if c.Network, err = unattendedNetwork(ctx, &cfg, a.Network, log); err != nil {
		return out, err
	}
	if !a.Network.Skip {
		warnPortal(ctx, &cfg, log)
	}
	if err := save(StepTimezone); err != nil {
		return out, err
	}
	if c.Zone, err = unattendedTimezone(ctx, &cfg, a, log); err != nil {
		return out, err
	}
	if err := save(StepOnboarding); err != nil {
		return out, err
	}
	if out.Onboarded, err = unattendedOnboarding(ctx, &cfg, a.Onboarding, &c, log); err != nil {
		return out, err
	}
	if a.RootPasswordHash != "" {
		if err := cfg.Sys.WriteRootPassword(a.RootPasswordHash); err != nil {
			return out, err
		}
		fmt.Fprintln(log, "root password set: it opens the rescue consoles (tty11, tty12)")
	}
	if err := Finish(&cfg, c); err != nil {
		return out, err
	}
	out.Finished = true
	return out, nil
}

func unattendedTimezone(ctx context.Context, cfg *Config, a Answers, log io.Writer) (string, error) {
	zone := a.Timezone
	if zone == "auto" {
		d, err := cfg.Detector.Detect(ctx)
		if err != nil {
			return "", &AnswerError{Field: "timezone", Msg: err.Error(), Device: true}
		}
		zone = d.Zone
		fmt.Fprintf(log, "time zone %s (detected by %s)\n", zone, d.Source)
	} else {
		fmt.Fprintf(log, "time zone %s\n", zone)
	}
	var manual *time.Time
	if a.Time != "" {
		loc, err := time.LoadLocation(zone)
		if err != nil {
			return "", &AnswerError{Field: "timezone", Msg: err.Error()}
		}
		t, _ := ParseAnswerTime(a.Time)
		t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), 0, loc)
		manual = &t
		fmt.Fprintf(log, "clock set to %s\n", t.Format(time.RFC3339))
	}
	if err := ApplyTimezone(cfg, zone, manual); err != nil {
		return "", fmt.Errorf("timezone: %w", err)
	}
	return zone, nil
}

func unattendedOnboarding(ctx context.Context, cfg *Config, o OnboardingAnswer, c *Choice, log io.Writer) (*onboard.Result, error) {
	if o.Skip {
		if err := SkipOnboarding(cfg); err != nil {
			return nil, err
		}
		fmt.Fprintln(log, "onboarding skipped: the device starts with a Starter license, valid for 30 days")
		return nil, nil
	}
	var res onboard.Result
	var err error
	var req OnboardRequest
	if o.Email != "" {
		req.Email = o.Email
		c.Email = o.Email
		res, err = cfg.Onboarder.ByEmail(ctx, o.Email, func(d onboard.DeviceCode) {
			fmt.Fprintf(log, "sign in at %s with the code %s\n", d.VerificationURI, d.UserCode)
		})
	} else {
		host, port := SplitServer(o.Server)
		if port == 0 {
			port = cmp.Or(o.Port, 8443)
		}
		c.Server, c.Port = host, port
		req.Server = &onboard.ServerRequest{Server: host, Port: port, OTP: o.OTP, Token: NormalizeToken(o.Token)}
		res, err = cfg.Onboarder.ByServer(ctx, *req.Server)
	}
	if err != nil {
		var oe *onboard.Error
		if errors.As(err, &oe) {
			msg := fmt.Sprintf("%s: %s", oe.Error(), i18n.For("en").T(fmt.Sprintf("ob.code.%d", int(oe.Code))))
			if oe.Reason != "" {
				msg += ": " + oe.Reason
			}
			if d := Diagnose(ctx, cfg, req, err); d != nil {
				msg += "; network: " + NetErrorText(i18n.For("en").T, d)
			}
			return nil, errors.New(msg)
		}
		return nil, fmt.Errorf("onboarding: %w", err)
	}
	fmt.Fprintf(log, "onboarded to %s:%d as %s\n", res.Server, res.Port, res.UnitID)
	return &res, nil
}
