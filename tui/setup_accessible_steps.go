package tui

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

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
					a.c.zone = d.Zone
					err = applyTimezone(a.cfg, d.Zone, nil)
				}
				return err
			}
		} else {
			a.say("%s", a.t("tz.notfound"))
		}
	}
	a.say("%s", a.t("a11y.tz.help"))
	zone, err := a.askValid(a.t("step.timezone"), firstNonEmpty(a.c.zone, a.zoneHint()), func(v string) string {
		if _, ok := sysconf.FindZone(a.zones, v); ok {
			return ""
		}
		q, n := fold(v), 0
		for _, z := range a.zones {
			if q != "" && strings.Contains(fold(z.Name), q) && n < 20 {
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
	if d, c, ok := answeredClock(a.cfg.Prefill); ok {
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
	a.c.zone = zone
	return applyTimezone(a.cfg, zone, manual)
}

func (a *prompter) onboarding() error {
	pre := a.cfg.Prefill.Onboarding
	for {
		a.say("%s", a.t("ob.email.note"))
		email, err := a.askValid(a.t("ob.email")+" ("+a.t("a11y.skip")+")", firstNonEmpty(a.c.email, pre.Email), func(v string) string {
			if v == "" {
				return ""
			}
			return emailProblem(v)
		})
		if err != nil {
			return err
		}
		req := onboardRequest{email: email}
		if email == "" {
			a.say("%s", a.t("ob.server.note"))
			server, err := a.askValid(a.t("ob.server")+" ("+a.t("a11y.skip")+")", firstNonEmpty(a.c.server, pre.Server), func(v string) string {
				if v == "" {
					return ""
				}
				return serverProblem(v)
			})
			if err != nil {
				return err
			}
			if server == "" {
				a.say("%s", a.t("starter.note"))
				return nil
			}
			host, port := splitServer(server)
			if port == 0 {
				p, err := a.askValid(a.t("ob.port"), strconv.Itoa(firstNonZero(pre.Port, 8443)), portProblem)
				if err != nil {
					return err
				}
				port, _ = strconv.Atoi(p)
			}
			otp, err := a.askSecret(a.t("ob.otp"), pre.OTP, nonEmpty)
			if err != nil {
				return err
			}
			a.say("%s", a.t("ob.token.note"))
			token, err := a.askValid(a.t("ob.token"), pre.Token, tokenProblem)
			if err != nil {
				return err
			}
			a.c.server, a.c.port = host, port
			req = onboardRequest{server: &onboard.ServerRequest{Server: host, Port: port, OTP: otp, Token: normalizeToken(token)}}
		} else {
			a.c.email = email
		}
		if done, err := a.enroll(req); err != nil || done {
			return err
		}
	}
}

// enroll runs one attempt, offering Retry on failure.
func (a *prompter) enroll(req onboardRequest) (bool, error) {
	for {
		a.say("%s", a.t("ob.busy", firstNonEmpty(req.email, serverName(req))))
		var res onboard.Result
		var err error
		if req.server != nil {
			res, err = a.cfg.Onboarder.ByServer(a.cfg.Context, *req.server)
		} else {
			res, err = a.cfg.Onboarder.ByEmail(a.cfg.Context, req.email, func(d onboard.DeviceCode) {
				a.say("%s %s %s, %s %s", a.t("ob.signin"), a.t("ob.signin.url"), d.VerificationURI, a.t("ob.signin.code"), d.UserCode)
			})
		}
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
			a.say("%s %s", a.t("ob.check"), checkTextT(a.t, oe.Code))
		} else {
			a.say("%s %v", a.t("ob.failed.other"), err)
		}
		retry, err := a.yes(a.t("btn.retry"), true)
		if err != nil || !retry {
			return false, err
		}
	}
}

func serverName(r onboardRequest) string {
	if r.server != nil {
		return r.server.Server
	}
	return ""
}
