package host

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/onramp-os/onramp/internal/exitcode"
	"github.com/onramp-os/onramp/netcfg"
)

// ModemManager keeps no connections of its own: on later boots the mobile
// broadband connection the assistant saved (netcfg.WriteModem) is brought
// up by KeepSavedModem, with the same UnlockSIM and ConnectMobile the
// assistant used.

// maxModemRetry caps the wait between connection attempts.
const maxModemRetry = 5 * time.Minute

// modemPoll is how often ModemManager is asked for a modem while none is
// there yet.
const modemPoll = time.Second

// errNoModem is returned when ModemManager runs but has no modem.
var errNoModem = errors.New("ModemManager has no modem (is it plugged in, with its driver and firmware?)")

// KeepSavedModem connects the mobile broadband connection saved under root
// and keeps it connected until ctx ends (then it returns nil). It waits up
// to ModemWait for ModemManager to present a modem (modems appear some
// seconds after boot), unlocks the SIM with the saved PIN when it is
// locked, connects with the saved APN and credentials, and applies the
// bearer's IPv4 configuration. When the bearer disconnects later, it
// connects again, waiting ModemRetry and then twice as long after each
// failure, up to 5 minutes.
//
// It returns an error without retrying when retrying cannot help or would
// do harm: nothing (usable) saved (exitcode.Usage); the SIM locked with no
// PIN saved, blocked, or refusing the saved PIN (exitcode.Refused). A
// refused PIN is sent once only and then removed from the saved
// connection, so no later start sends it again: three wrong ones would
// block the SIM. No ModemManager or no modem within ModemWait is an error
// too, for the service manager to start it again later. log gets a line
// per event; the PIN and the password never reach it.
func (b *Backend) KeepSavedModem(ctx context.Context, root string, log io.Writer) error {
	mc, err := netcfg.ReadModem(root)
	if err != nil {
		return exitcode.Wrap(exitcode.Usage, fmt.Errorf("saved mobile connection: %w", err))
	}
	k := &savedModem{b: b, root: root, mc: mc, log: log}
	wait := b.o.ModemRetry
	for {
		st, bearer, err := k.connect(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			var final *exitcode.Error
			if errors.As(err, &final) || errors.Is(err, errNoModem) || errors.Is(err, errNoModemManager) {
				return err
			}
			fmt.Fprintf(log, "mobile: %v; trying again in %s\n", err, wait)
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(wait):
			}
			wait = min(2*wait, maxModemRetry)
			continue
		}
		wait = b.o.ModemRetry
		fmt.Fprintf(log, "mobile: connected on %s with %s through %s (APN %s)\n", st.Link, st.Address, orUnknown(mc.Provider), mc.APN)
		err = b.watchBearer(ctx, bearer)
		if ctx.Err() != nil {
			return nil
		}
		fmt.Fprintf(log, "mobile: %v; connecting again\n", err)
	}
}

func orUnknown(s string) string {
	if s == "" {
		return "an unnamed provider"
	}
	return s
}

// savedModem is the saved connection while KeepSavedModem keeps it.
type savedModem struct {
	b    *Backend
	root string
	mc   netcfg.MobileConfig
	log  io.Writer
	// lost is set when the saved PIN was last sent without an answer
	// seen, lostAt to the attempts the SIM had left then: a SIM locked with
	// fewer left afterwards (or not telling) counted it as wrong.
	lost   bool
	lostAt int
}

// connect waits for a modem, unlocks its SIM when needed and connects.
func (k *savedModem) connect(ctx context.Context) (netcfg.Status, dbus.ObjectPath, error) {
	m, err := k.b.waitModem(ctx)
	if err != nil {
		return netcfg.Status{}, "", err
	}
	if err := k.unlock(ctx, m); err != nil {
		return netcfg.Status{}, "", err
	}
	return k.b.connectMobile(ctx, m.ID, k.mc, nil)
}

// unlock sends the saved PIN to a locked SIM, once: a PIN the SIM refuses
// is removed from the saved connection.
func (k *savedModem) unlock(ctx context.Context, m netcfg.Modem) error {
	switch {
	case m.Blocked:
		return exitcode.Wrap(exitcode.Refused, fmt.Errorf("modem %s (%s): %w", m.ID, m.Model, netcfg.ErrSIMBlocked))
	case !m.Locked:
		k.lost = false
		return nil
	case k.mc.PIN == "":
		return exitcode.New(exitcode.Refused, "modem %s (%s): the SIM is locked (%d attempts left) and %s holds no PIN; "+
			"enter it in the setup assistant (setup-assistant --force)", m.ID, m.Model, m.Attempts, netcfg.ModemFile(k.root))
	case k.lost && (m.Attempts == 0 || m.Attempts < k.lostAt):
		return k.refused(m, fmt.Errorf("the SIM counted the saved PIN as wrong: %w", netcfg.ErrWrongPIN))
	}
	k.lost = false
	after, err := k.b.UnlockSIM(ctx, m.ID, k.mc.PIN)
	switch {
	case err == nil && !after.Locked:
		fmt.Fprintf(k.log, "mobile: the SIM of %s is unlocked with the saved PIN\n", m.Model)
		return nil
	case errors.Is(err, netcfg.ErrWrongPIN), errors.Is(err, netcfg.ErrSIMBlocked), after.Blocked,
		after.Locked && after.Attempts < m.Attempts:
		if err == nil {
			err = netcfg.ErrWrongPIN
		}
		return k.refused(after, err)
	case err == nil:
		err = fmt.Errorf("modem %s: the SIM is still locked after the saved PIN was sent", m.ID)
	}
	// No answer seen: the attempts left tell the next round whether the
	// SIM took the PIN as wrong.
	k.lost, k.lostAt = true, m.Attempts
	return err
}

// refused removes the PIN the SIM refused from the saved connection, so
// that no later start sends it again, and says so.
func (k *savedModem) refused(m netcfg.Modem, err error) error {
	k.mc.PIN = ""
	state := fmt.Sprintf("%d attempts left", m.Attempts)
	if m.Blocked {
		state = "blocked: it needs its PUK"
	}
	err = fmt.Errorf("modem %s (%s): the SIM refused the saved PIN (%s); it is removed from %s so that no later start sends it again, "+
		"enter the right one in the setup assistant (setup-assistant --force): %w", m.ID, m.Model, state, netcfg.ModemFile(k.root), err)
	if werr := netcfg.WriteModem(k.root, k.mc); werr != nil {
		err = errors.Join(err, fmt.Errorf("remove the refused PIN: %w", werr))
	}
	return exitcode.Wrap(exitcode.Refused, err)
}

// waitModem polls ModemManager for up to ModemWait until it presents a
// modem, and returns the first one (as the assistant's unattended run
// takes). The error names what is missing: ModemManager, or a modem.
func (b *Backend) waitModem(ctx context.Context) (netcfg.Modem, error) {
	deadline := time.Now().Add(b.o.ModemWait)
	for {
		ms, err := b.listModems(ctx)
		if err == nil && len(ms) > 0 {
			return ms[0], nil
		}
		if err == nil {
			err = errNoModem
		}
		if ctx.Err() != nil {
			return netcfg.Modem{}, ctx.Err()
		}
		if !time.Now().Before(deadline) {
			return netcfg.Modem{}, fmt.Errorf("no modem within %s: %w", b.o.ModemWait, err)
		}
		select {
		case <-ctx.Done():
			return netcfg.Modem{}, ctx.Err()
		case <-time.After(min(modemPoll, time.Until(deadline))):
		}
	}
}

// watchBearer returns when the bearer is no longer connected (its
// Connected property turned false, or it is gone with its modem), or when
// ctx ends. ModemManager announces the change with PropertiesChanged;
// the property is also read every ModemCheck in case a signal was lost.
func (b *Backend) watchBearer(ctx context.Context, bearer dbus.ObjectPath) error {
	c, err := b.conn()
	if err != nil {
		return err
	}
	sigs := make(chan *dbus.Signal, 16)
	c.Signal(sigs)
	defer c.RemoveSignal(sigs)
	match := []dbus.MatchOption{dbus.WithMatchObjectPath(bearer),
		dbus.WithMatchInterface("org.freedesktop.DBus.Properties"), dbus.WithMatchMember("PropertiesChanged")}
	if err := c.AddMatchSignalContext(ctx, match...); err != nil {
		return fmt.Errorf("bearer %s: watch: %w", bearer, err)
	}
	defer func() { _ = c.RemoveMatchSignal(match...) }()
	tick := time.NewTicker(b.o.ModemCheck)
	defer tick.Stop()
	obj := c.Object(mmService, bearer)
	for {
		var up bool
		if err := obj.CallWithContext(ctx, "org.freedesktop.DBus.Properties.Get", 0, mmBearer, "Connected").Store(&up); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("bearer %s is gone: %w", bearer, err)
		}
		if !up {
			return fmt.Errorf("bearer %s disconnected", bearer)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		case _, ok := <-sigs:
			if !ok {
				return errors.New("the D-Bus connection closed")
			}
		}
	}
}
