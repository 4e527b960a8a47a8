// Package agent is the device's check-in agent (cmd/onramp-agent): once
// the device is onboarded it reports to its UMS over mutual TLS 1.3 with
// the device certificate (Unit ID, OS version, a few facts), stores the
// licenses the UMS assigns (package license) and re-enrolls before the
// certificate expires. It runs one check-in (Once) or keeps checking in
// with backoff and jitter (Run). It does not enroll a device (onboard
// does) and shows nothing but log lines.
package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/onramp-os/onramp/license"
	"github.com/onramp-os/onramp/netcfg/proxy"
	"github.com/onramp-os/onramp/onboard"
)

// ErrNotOnboarded says the root holds no complete enrollment.
var ErrNotOnboarded = errors.New("the device is not onboarded: no " + filepath.Join("/", onboard.UMSDir, onboard.ServerFile))

// Config is what the agent works on.
type Config struct {
	Root    string // "/" on the device, an offline root with --root
	Version string // the agent's version, reported
	// Options configure the onboarding client (tests add a dialer).
	Options []onboard.Option
	Log     *slog.Logger
	Now     func() time.Time
}

func (c *Config) defaults() {
	if c.Root == "" {
		c.Root = "/"
	}
	if c.Log == nil {
		c.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Result is what one check-in did.
type Result struct {
	UnitID     string           `json:"unit_id"`
	Server     string           `json:"server"`
	Reenrolled bool             `json:"reenrolled"`
	CertExpiry time.Time        `json:"certificate_expires"`
	Received   int              `json:"licenses_received"`
	Rejected   []license.Status `json:"licenses_rejected,omitempty"`
	Licenses   []license.Status `json:"licenses"` // everything on DATA now
}

// RenewBefore reports whether a certificate valid from notBefore to
// notAfter is due for re-enrollment at now: when less than a third of its
// validity is left.
func RenewBefore(notBefore, notAfter, now time.Time) bool {
	return notAfter.Sub(now) < notAfter.Sub(notBefore)/3
}

// Once re-enrolls when the certificate is due, checks in and stores the
// licenses received. Errors: ErrNotOnboarded; onboard.ErrRefused (wrapped)
// when the server refuses the certificate; an *onboard.Error when it is
// unreachable.
func Once(ctx context.Context, cfg Config) (Result, error) {
	cfg.defaults()
	var res Result
	if _, err := os.Stat(filepath.Join(cfg.Root, onboard.UMSDir, onboard.ServerFile)); errors.Is(err, os.ErrNotExist) {
		return res, ErrNotOnboarded
	}
	en, err := onboard.LoadEnrollment(cfg.Root)
	if err != nil {
		return res, describe(err)
	}
	res.UnitID, res.Server = en.Info.UnitID, fmt.Sprintf("%s:%d", en.Info.Server, en.Info.Port)
	res.CertExpiry = en.Leaf.NotAfter
	// The proxy the setup assistant kept (/etc/onramp/proxy.env), read
	// at every connection so a changed file counts at the next check-in.
	viaProxy := onboard.WithProxy(func() (proxy.Config, error) { return proxy.Read(cfg.Root) })
	opts := append([]onboard.Option{onboard.WithUnitID(en.Info.UnitID), onboard.WithLogger(cfg.Log), viaProxy}, cfg.Options...)
	client := onboard.NewClient(cfg.Root, opts...)
	now := cfg.Now()
	if RenewBefore(en.Leaf.NotBefore, en.Leaf.NotAfter, now) {
		cfg.Log.Info("certificate due for renewal", "not_after", en.Leaf.NotAfter.UTC().Format(time.RFC3339))
		if _, err := client.Reenroll(ctx); err != nil {
			if !now.Before(en.Leaf.NotAfter) {
				return res, fmt.Errorf("re-enroll the expired certificate: %w", describe(err))
			}
			// The old certificate still works: check in with it and try
			// again next time.
			cfg.Log.Warn("re-enrollment failed", "err", describe(err))
		} else {
			res.Reenrolled = true
			if en, err = onboard.LoadEnrollment(cfg.Root); err != nil {
				return res, describe(err)
			}
			res.CertExpiry = en.Leaf.NotAfter
		}
	}
	resp, err := client.CheckIn(ctx, Report(cfg.Root, en.Info.UnitID, cfg.Version))
	if err != nil {
		return res, describe(err)
	}
	v, err := license.DeviceVerifier(cfg.Root, en.Info.UnitID, now)
	if err != nil {
		return res, err
	}
	var keep [][]byte
	for _, raw := range resp.Licenses {
		st := v.Verify("", raw)
		switch st.State {
		case license.Valid, license.Expired, license.NotYetValid:
			keep = append(keep, raw)
		default:
			res.Rejected = append(res.Rejected, st)
			cfg.Log.Warn("license refused", "product", st.License.Product, "state", st.State.String(), "reason", st.Reason)
		}
	}
	res.Received = len(keep)
	if err := license.Replace(cfg.Root, keep); err != nil {
		return res, err
	}
	if res.Licenses, err = v.ReadRoot(cfg.Root); err != nil {
		return res, err
	}
	return res, nil
}

// describe turns an onboarding error into one line with its reason and
// hint (the *onboard.Error text alone is the screen's generic sentence).
func describe(err error) error {
	var oe *onboard.Error
	if !errors.As(err, &oe) {
		return err
	}
	msg := oe.Reason
	if msg == "" {
		msg = oe.Error()
	}
	if oe.Hint != "" {
		msg += " (" + oe.Hint + ")"
	}
	return &Error{Code: oe.Code, Msg: msg, Err: err}
}

// Error is an onboarding-client failure with its code and reason.
type Error struct {
	Code onboard.Code
	Msg  string
	Err  error
}

func (e *Error) Error() string { return fmt.Sprintf("%s [code %d]", e.Msg, int(e.Code)) }
func (e *Error) Unwrap() error { return e.Err }

// Schedule is how Run spaces check-ins.
type Schedule struct {
	Interval   time.Duration // between successful check-ins (default 1h)
	MinBackoff time.Duration // first wait after a failure (default 30s)
	// Jitter is the fraction every wait varies by, up and down (default
	// 0.2), so a fleet booted together does not check in together.
	Jitter float64
}

func (s *Schedule) defaults() {
	if s.Interval <= 0 {
		s.Interval = time.Hour
	}
	if s.MinBackoff <= 0 {
		s.MinBackoff = 30 * time.Second
	}
	if s.MinBackoff > s.Interval {
		s.MinBackoff = s.Interval
	}
	if s.Jitter <= 0 || s.Jitter >= 1 {
		s.Jitter = 0.2
	}
}

func (s Schedule) jitter(d time.Duration) time.Duration {
	f := 1 + s.Jitter*(2*rand.Float64()-1)
	return time.Duration(float64(d) * f)
}

// Run checks in now and then every Interval until ctx ends. After a
// failure it waits MinBackoff, doubling up to Interval; a device not yet
// onboarded is looked at again every MinBackoff (a file check), so the
// first check-in follows onboarding closely. report, when set, gets the
// outcome of every attempt.
func Run(ctx context.Context, cfg Config, s Schedule, report func(Result, error)) error {
	cfg.defaults()
	s.defaults()
	backoff := s.MinBackoff
	waiting := false // "not onboarded" was logged
	for {
		res, err := Once(ctx, cfg)
		if ctx.Err() != nil {
			return nil
		}
		if report != nil {
			report(res, err)
		}
		wait := s.Interval
		switch {
		case err == nil:
			backoff, waiting = s.MinBackoff, false
			cfg.Log.Info("checked in", "unit_id", res.UnitID, "server", res.Server, "licenses", license.Count(res.Licenses),
				"reenrolled", res.Reenrolled)
		case errors.Is(err, ErrNotOnboarded):
			wait = s.MinBackoff
			if !waiting {
				cfg.Log.Info("not onboarded yet; waiting for an enrollment", "dir", filepath.Join(cfg.Root, onboard.UMSDir))
				waiting = true
			}
		default:
			wait = backoff
			backoff = min(2*backoff, s.Interval)
			cfg.Log.Warn("check-in failed", "err", err.Error(), "retry_in", wait)
		}
		t := time.NewTimer(s.jitter(wait))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}
