package plain

import (
	"cmp"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/onramp-os/onramp/firstboot"
	"github.com/onramp-os/onramp/onboard"
	"github.com/onramp-os/onramp/sysconf"
)

// zoneHint is the answered zone, "" for none or auto.
func (a *prompter) zoneHint() string {
	if z := a.cfg.Prefill.Timezone; z != "auto" {
		return z
	}
	return ""
}

func (a *prompter) timezone() error {
	auto, err := a.yes(a.t("tz.auto"), a.cfg.Prefill.Timezone == "auto")
	if err != nil {
		return err
	}
	if auto {
		a.say("%s", a.t("tz.detecting"))
		d, err := a.cfg.Detector.Detect(a.cfg.Context)
		if err == nil {
			a.say("%s", a.t("tz.found", d.Zone, a.t("tz.source."+d.Source)))
			if ok, err := a.yes(a.t("a11y.tz.use", d.Zone), true); err != nil || ok {
				if err == nil {
					a.c.Zone = d.Zone
					err = firstboot.ApplyTimezone(a.cfg, d.Zone, nil)
				}
				return err
			}
		} else {
			a.say("%s", a.t("tz.notfound"))
		}
	}
	a.say("%s", a.t("a11y.tz.help"))
	zone, err := a.askValid(a.t("step.timezone"), cmp.Or(a.c.Zone, a.zoneHint()), func(v string) string {
		if _, ok := sysconf.FindZone(a.zones, v); ok {
			return ""
		}
		q, n := sysconf.Fold(v), 0
		for _, z := range a.zones {
			if q != "" && strings.Contains(sysconf.Fold(z.Name), q) && n < 20 {
				a.say("  %s", z.Name)
				n++
			}
		}
		return "err.required"
	})
	if err != nil {
		return err
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return err
	}
	now := a.cfg.Now().In(loc)
	defDate, defClock := now.Format("2006-01-02"), now.Format("15:04")
	if d, c, ok := firstboot.AnsweredClock(a.cfg.Prefill); ok {
		defDate, defClock = d, c
	}
	date, err := a.askValid(a.t("clock.date"), defDate, func(v string) string {
		if _, err := sysconf.ParseClock(v, "00:00", loc); err != nil {
			return "err.field.date"
		}
		return ""
	})
	if err != nil {
		return err
	}
	clock, err := a.askValid(a.t("clock.time"), defClock, func(v string) string {
		if _, err := sysconf.ParseClock("2026-01-01", v, loc); err != nil {
			return "err.field.time"
		}
		return ""
	})
	if err != nil {
		return err
	}
	var manual *time.Time
	if date != now.Format("2006-01-02") || clock != now.Format("15:04") {
		t, _ := sysconf.ParseClock(date, clock, loc)
		manual = &t
	}
	a.c.Zone = zone
	return firstboot.ApplyTimezone(a.cfg, zone, manual)
}

func (a *prompter) onboarding() error {
	pre := a.cfg.Prefill.Onboarding
	for {
		a.say("%s", a.t("ob.email.note"))
		email, err := a.askValid(a.t("ob.email")+" ("+a.t("a11y.skip")+")", cmp.Or(a.c.Email, pre.Email), func(v string) string {
			if v == "" {
				return ""
			}
			return firstboot.EmailProblem(v)
		})
		if err != nil {
			return err
		}
		req := firstboot.OnboardRequest{Email: email}
		if email == "" {
			a.say("%s", a.t("ob.server.note"))
			server, err := a.askValid(a.t("ob.server")+" ("+a.t("a11y.skip")+")", cmp.Or(a.c.Server, pre.Server), func(v string) string {
				if v == "" {
					return ""
				}
				return firstboot.ServerProblem(v)
			})
			if err != nil {
				return err
			}
			if server == "" {
				if err := firstboot.SkipOnboarding(a.cfg); err != nil {
					return err
				}
				a.say("%s", a.t("starter.note"))
				return nil
			}
			host, port := firstboot.SplitServer(server)
			if port == 0 {
				p, err := a.askValid(a.t("ob.port"), strconv.Itoa(cmp.Or(pre.Port, 8443)), firstboot.PortProblem)
				if err != nil {
					return err
				}
				port, _ = strconv.Atoi(p)
			}
			otp, err := a.askSecret(a.t("ob.otp"), pre.OTP, firstboot.OTPProblem)
			if err != nil {
				return err
			}
			a.say("%s", a.t("ob.token.note"))
			token, err := a.askValid(a.t("ob.token"), pre.Token, firstboot.TokenProblem)
			if err != nil {
				return err
			}
			a.c.Server, a.c.Port = host, port
			req = firstboot.OnboardRequest{Server: &onboard.ServerRequest{Server: host, Port: port, OTP: otp, Token: firstboot.NormalizeToken(token)}}
		} else {
			a.c.Email = email
		}
		if done, err := a.enroll(req); err != nil || done {
			return err
		}
	}
}

// enroll runs one attempt, offering Retry on failure.
func (a *prompter) enroll(req firstboot.OnboardRequest) (bool, error) {
	for {
		a.say("%s", a.t("ob.busy", req.Target()))
		var res onboard.Result
		var err error
		res, err = firstboot.Onboard(a.cfg.Context, a.cfg, req, func(d onboard.DeviceCode) {
			a.say("%s %s %s, %s %s", a.t("ob.signin"), a.t("ob.signin.url"), d.VerificationURI, a.t("ob.signin.code"), d.UserCode)
		})
		if err == nil {
			a.outcome.Onboarded = &res
			a.say("%s", a.t("ob.success"))
			a.say("%s", a.t("ob.success.detail", res.Server, res.Port, res.UnitID))
			return true, nil
		}
		var oe *onboard.Error
		if errors.As(err, &oe) {
			a.say("%s", a.t("ob.failed", int(oe.Code)))
			a.say("%s %s", a.t("ob.meaning"), a.t(fmt.Sprintf("ob.code.%d", int(oe.Code))))
			if oe.Reason != "" {
				a.say("%s %s", a.t("ob.reason"), oe.Reason)
			}
			check := firstboot.CheckText(a.t, oe.Code)
			if d := firstboot.Diagnose(a.cfg.Context, a.cfg, req, err); d != nil {
				check = firstboot.NetErrorText(a.t, d)
			}
			a.say("%s %s", a.t("ob.check"), check)
		} else {
			a.say("%s %v", a.t("ob.failed.other"), err)
		}
		// The proxy as on the error screen: a network online by DHCP
		// skips the network step, and a UMS behind a proxy fails here.
		for {
			i, err := a.choose(a.t("a11y.ob.next"), []string{a.t("btn.retry"), a.t("net.proxy"), a.t("btn.back")}, 0)
			if err != nil || i == 2 {
				return false, err
			}
			if i == 0 {
				break
			}
			if err := a.proxySettings(); err != nil {
				return false, err
			}
		}
	}
}
