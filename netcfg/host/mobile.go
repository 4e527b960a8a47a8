package host

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"syscall"

	"github.com/godbus/dbus/v5"

	"github.com/onramp-os/onramp/netcfg"
)

// ModemManager's D-Bus names (ModemManager1 API).
const (
	mmService   = "org.freedesktop.ModemManager1"
	mmPath      = "/org/freedesktop/ModemManager1"
	mmModem     = mmService + ".Modem"
	mmSimple    = mmModem + ".Simple"
	mm3gpp      = mmModem + ".Modem3gpp"
	mmSim       = mmService + ".Sim"
	mmBearer    = mmService + ".Bearer"
	mmErrPrefix = mmService + ".Error."
	modemPrefix = mmPath + "/Modem/"
)

// MMModemLock values (UnlockRequired, UnlockRetries keys).
const (
	lockNone   = 1
	lockSIMPIN = 2
	lockSIMPUK = 4
)

// conn returns the D-Bus connection, connecting to the system bus first.
func (b *Backend) conn() (*dbus.Conn, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.bus == nil {
		c, err := dbus.ConnectSystemBus()
		if errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ECONNREFUSED) {
			return nil, fmt.Errorf("%w: %w", errNoBus, err)
		}
		if err != nil {
			return nil, fmt.Errorf("system D-Bus: %w", err)
		}
		b.bus = c
	}
	return b.bus, nil
}

// errNoBus is returned by conn when no system bus runs (no socket, or
// nobody listening on it): then no ModemManager runs either.
var errNoBus = errors.New("no system D-Bus")

// errNoModemManager is returned by listModems when ModemManager does not
// run (nobody owns its name, or there is no system bus at all).
var errNoModemManager = errors.New("ModemManager is not running (nobody owns " + mmService + " on the system bus)")

// Modems lists ModemManager's modems with their SIM state. No
// ModemManager running (or no system bus at all) means no modems.
func (b *Backend) Modems(ctx context.Context) ([]netcfg.Modem, error) {
	ms, err := b.listModems(ctx)
	if errors.Is(err, errNoModemManager) {
		return nil, nil
	}
	return ms, err
}

// listModems lists ModemManager's modems; errNoModemManager when it does
// not run.
func (b *Backend) listModems(ctx context.Context) ([]netcfg.Modem, error) {
	c, err := b.conn()
	if errors.Is(err, errNoBus) {
		return nil, fmt.Errorf("%w: %w", errNoModemManager, err)
	}
	if err != nil {
		return nil, err
	}
	var objs map[dbus.ObjectPath]map[string]map[string]dbus.Variant
	err = c.Object(mmService, mmPath).CallWithContext(ctx, "org.freedesktop.DBus.ObjectManager.GetManagedObjects", 0).Store(&objs)
	if err != nil {
		var de dbus.Error
		if errors.As(err, &de) && de.Name == "org.freedesktop.DBus.Error.ServiceUnknown" {
			return nil, errNoModemManager
		}
		return nil, fmt.Errorf("ModemManager: list modems: %w", err)
	}
	var out []netcfg.Modem
	for path, ifaces := range objs {
		if props, ok := ifaces[mmModem]; ok && strings.HasPrefix(string(path), modemPrefix) {
			out = append(out, modemFrom(path, props, ifaces[mm3gpp]))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// modemFrom reads a modem's properties.
func modemFrom(path dbus.ObjectPath, p, gpp map[string]dbus.Variant) netcfg.Modem {
	m := netcfg.Modem{ID: strings.TrimPrefix(string(path), modemPrefix)}
	var manufacturer string
	store(p, "Manufacturer", &manufacturer)
	store(p, "Model", &m.Model)
	if manufacturer != "" && !strings.HasPrefix(m.Model, manufacturer) {
		m.Model = strings.TrimSpace(manufacturer + " " + m.Model)
	}
	var lock uint32
	store(p, "UnlockRequired", &lock)
	var retries map[uint32]uint32
	store(p, "UnlockRetries", &retries)
	switch lock {
	case lockSIMPIN:
		m.Locked, m.Attempts = true, int(retries[lockSIMPIN])
	case lockSIMPUK:
		m.Blocked = true
	}
	if q, ok := p["SignalQuality"].Value().([]any); ok && len(q) == 2 {
		if v, ok := q[0].(uint32); ok {
			m.Signal = int(v)
		}
	}
	var ports [][]any
	store(p, "Ports", &ports)
	for _, port := range ports {
		// MMModemPortType 2 is a network interface.
		if len(port) == 2 && port[1] == uint32(2) {
			m.Interface, _ = port[0].(string)
		}
	}
	store(gpp, "OperatorName", &m.Operator)
	return m
}

// modem reads one modem by its ID.
func (b *Backend) modem(ctx context.Context, id string) (netcfg.Modem, dbus.BusObject, error) {
	ms, err := b.Modems(ctx)
	if err != nil {
		return netcfg.Modem{}, nil, err
	}
	for _, m := range ms {
		if m.ID == id {
			c, _ := b.conn()
			return m, c.Object(mmService, dbus.ObjectPath(modemPrefix+id)), nil
		}
	}
	return netcfg.Modem{}, nil, fmt.Errorf("modem %s: %w", id, netcfg.ErrNoSuchLink)
}

// UnlockSIM sends the PIN to the modem's SIM; after a wrong one the modem
// comes back with the attempts left.
func (b *Backend) UnlockSIM(ctx context.Context, id, pin string) (netcfg.Modem, error) {
	if err := netcfg.ValidatePIN(pin); err != nil {
		return netcfg.Modem{}, err
	}
	m, obj, err := b.modem(ctx, id)
	if err != nil {
		return netcfg.Modem{}, err
	}
	if m.Blocked {
		return m, fmt.Errorf("modem %s: %w", id, netcfg.ErrSIMBlocked)
	}
	if !m.Locked {
		return m, nil
	}
	v, err := obj.GetProperty(mmModem + ".Sim")
	if err != nil {
		return m, fmt.Errorf("modem %s: SIM: %w", id, err)
	}
	simPath, _ := v.Value().(dbus.ObjectPath)
	c, _ := b.conn()
	// The PIN goes in the call only, never into an error or a log.
	callErr := c.Object(mmService, simPath).CallWithContext(ctx, mmSim+".SendPin", 0, pin).Err
	after, _, err := b.modem(ctx, id)
	if err != nil {
		return m, err
	}
	if callErr != nil {
		return after, fmt.Errorf("modem %s: %w", id, mmError(callErr))
	}
	return after, nil
}

// ConnectMobile connects the modem with Simple.Connect and the APN (with
// user name and password when given), then applies the bearer's IPv4
// configuration to its network interface.
func (b *Backend) ConnectMobile(ctx context.Context, id string, mc netcfg.MobileConfig, p netcfg.Progress) (netcfg.Status, error) {
	st, _, err := b.connectMobile(ctx, id, mc, p)
	return st, err
}

// connectMobile is ConnectMobile, also returning the bearer it connected.
func (b *Backend) connectMobile(ctx context.Context, id string, mc netcfg.MobileConfig, p netcfg.Progress) (netcfg.Status, dbus.ObjectPath, error) {
	if err := netcfg.ValidateAPN(mc.APN); err != nil {
		return netcfg.Status{}, "", err
	}
	m, obj, err := b.modem(ctx, id)
	if err != nil {
		return netcfg.Status{}, "", err
	}
	p.Report(netcfg.StageAuthenticate)
	switch {
	case m.Blocked:
		return netcfg.Status{}, "", fmt.Errorf("modem %s: %w", id, netcfg.ErrSIMBlocked)
	case m.Locked:
		return netcfg.Status{}, "", fmt.Errorf("modem %s: the SIM waits for its PIN: %w", id, netcfg.ErrWrongPIN)
	}
	p.Report(netcfg.StageRegistering)
	props := map[string]dbus.Variant{"apn": dbus.MakeVariant(mc.APN), "ip-type": dbus.MakeVariant(uint32(1))} // IPv4
	if mc.Username != "" {
		props["user"] = dbus.MakeVariant(mc.Username)
	}
	if mc.Password != "" {
		props["password"] = dbus.MakeVariant(mc.Password)
	}
	var bearer dbus.ObjectPath
	if err := obj.CallWithContext(ctx, mmSimple+".Connect", 0, props).Store(&bearer); err != nil {
		return netcfg.Status{}, "", fmt.Errorf("modem %s: connect with APN %s: %w", id, mc.APN, mmError(err))
	}
	c, _ := b.conn()
	bo := c.Object(mmService, bearer)
	iv, err := bo.GetProperty(mmBearer + ".Interface")
	if err != nil {
		return netcfg.Status{}, "", fmt.Errorf("modem %s: bearer interface: %w", id, err)
	}
	iface, _ := iv.Value().(string)
	cv, err := bo.GetProperty(mmBearer + ".Ip4Config")
	if err != nil {
		return netcfg.Status{}, "", fmt.Errorf("modem %s: bearer IPv4 configuration: %w", id, err)
	}
	ipc, _ := cv.Value().(map[string]dbus.Variant)
	p.Report(netcfg.StageAddress)
	l, err := b.linkUp(ctx, iface)
	if err != nil {
		return netcfg.Status{}, "", err
	}
	cfg, err := bearerConfig(ipc)
	if err != nil {
		return netcfg.Status{}, "", fmt.Errorf("modem %s: %w", id, err)
	}
	if cfg == nil {
		dc, err := b.dhcp(ctx, iface)
		if err != nil {
			return netcfg.Status{}, "", err
		}
		cfg = &dc
	}
	st, err := b.applyChecked(ctx, l, *cfg, p)
	if err != nil {
		return netcfg.Status{}, "", err
	}
	st.Via = "mobile"
	b.remember(st)
	return st, bearer, nil
}

// bearerConfig reads a bearer's Ip4Config: nil for the DHCP method
// (MMBearerIpMethod 3), the address for the static one (2).
func bearerConfig(p map[string]dbus.Variant) (*ipConfig, error) {
	var method uint32
	store(p, "method", &method)
	switch method {
	case 3:
		return nil, nil
	case 2:
	default:
		return nil, fmt.Errorf("bearer IP method %d is not supported", method)
	}
	var addr, gw, dns1, dns2 string
	var prefix uint32
	store(p, "address", &addr)
	store(p, "prefix", &prefix)
	store(p, "gateway", &gw)
	store(p, "dns1", &dns1)
	store(p, "dns2", &dns2)
	a, err := netip.ParseAddr(addr)
	if err != nil || !a.Is4() || prefix == 0 || prefix > 32 {
		return nil, fmt.Errorf("bearer address %q/%d is not usable", addr, prefix)
	}
	c := &ipConfig{Address: netip.PrefixFrom(a, int(prefix))}
	if g, err := netip.ParseAddr(gw); err == nil {
		c.Gateway = g
	}
	for _, d := range []string{dns1, dns2} {
		if a, err := netip.ParseAddr(d); err == nil {
			c.DNS = append(c.DNS, a)
		}
	}
	return c, nil
}

// store copies property key of m into dst when it is there with a
// matching type (a zero Variant must not reach Variant.Store).
func store(m map[string]dbus.Variant, key string, dst any) {
	if v, ok := m[key]; ok && v.Signature().String() != "" {
		_ = v.Store(dst)
	}
}

// mmError maps ModemManager's error names to netcfg's reasons.
func mmError(err error) error {
	var de dbus.Error
	if !errors.As(err, &de) || !strings.HasPrefix(de.Name, mmErrPrefix) {
		return err
	}
	name := strings.TrimPrefix(de.Name, mmErrPrefix)
	switch name {
	case "MobileEquipment.IncorrectPassword", "MobileEquipment.SimPin":
		return fmt.Errorf("%s: %w", name, netcfg.ErrWrongPIN)
	case "MobileEquipment.SimPuk", "MobileEquipment.SimFailure":
		return fmt.Errorf("%s: %w", name, netcfg.ErrSIMBlocked)
	case "MobileEquipment.NoNetwork", "MobileEquipment.NetworkTimeout", "MobileEquipment.NetworkNotAllowed",
		"Core.Retry", "MobileEquipment.NotAllowed":
		return fmt.Errorf("%s: %w", name, netcfg.ErrNoSignal)
	case "MobileEquipment.MissingOrUnknownApn", "MobileEquipment.GprsMissingOrUnknownApn",
		"MobileEquipment.ServiceOptionNotSubscribed", "MobileEquipment.GprsServiceOptionNotSubscribed",
		"MobileEquipment.UserAuthenticationFailed", "MobileEquipment.GprsUserAuthenticationFailed":
		return fmt.Errorf("%s: %w", name, netcfg.ErrAPNRefused)
	}
	return fmt.Errorf("ModemManager: %s", name)
}
