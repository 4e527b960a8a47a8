package host

import (
	"bufio"
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/godbus/dbus/v5"

	"github.com/onramp-os/onramp/internal/testutil"
)

// privateBus starts the real dbus-daemon on a socket of its own and
// returns its address.
func privateBus(t *testing.T) string {
	t.Helper()
	testutil.RequireTools(t, "dbus-daemon")
	sock := filepath.Join(t.TempDir(), "bus")
	// Debian's session configuration (everything allowed), on our socket.
	// The address is printed once the daemon listens.
	cmd := exec.Command("dbus-daemon", "--session", "--nofork", "--nopidfile", "--address=unix:path="+sock, "--print-address=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "unix:path="+sock) {
		t.Fatalf("dbus-daemon did not start: %q, %v", line, err)
	}
	return "unix:path=" + sock
}

func busConn(t *testing.T, addr string) *dbus.Conn {
	t.Helper()
	c, err := dbus.Connect(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// fakeMM is a ModemManager with one modem (Modem/0), its SIM and, once
// connected, a bearer: the interfaces and properties the backend uses,
// the errors ModemManager returns, and the signals it sends when they
// change (ObjectManager.InterfacesAdded when the modem appears,
// Properties.PropertiesChanged on the modem and the bearer).
type fakeMM struct {
	mu       sync.Mutex
	pin      string
	locked   bool
	attempts uint32
	signal   uint32
	apns     []string // accepted
	iface    string
	ip4      map[string]dbus.Variant
	// The user name and password the APN wants; "" for none.
	user, password string
	// absent: the modem is not there yet (ModemManager still probing).
	absent bool
	// connected: the bearer is connected.
	connected bool
	// What the fake was asked: SendPin and Simple.Connect calls.
	pinTries, connects int
	// lostAnswer: SendPin's answer is lost (the client gets NoReply) and
	// so is the answer to the next listing of the modems.
	lostAnswer bool
	listLost   bool
	conn       *dbus.Conn // set by serve; signals go out on it
}

// MMModemState values.
const (
	stateLocked     = int32(2)
	stateRegistered = int32(8)
	stateConnected  = int32(11)
)

func (f *fakeMM) state() int32 {
	switch {
	case f.locked:
		return stateLocked
	case f.connected:
		return stateConnected
	}
	return stateRegistered
}

// changed sends PropertiesChanged for path's interface iface.
func (f *fakeMM) changed(path dbus.ObjectPath, iface string, p map[string]dbus.Variant) {
	_ = f.conn.Emit(path, "org.freedesktop.DBus.Properties.PropertiesChanged", iface, p, []string{})
}

// appear presents the modem, as ModemManager does once it has probed it.
func (f *fakeMM) appear() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.absent = false
	_ = f.conn.Emit(mmPath, "org.freedesktop.DBus.ObjectManager.InterfacesAdded", fakeModem,
		map[string]map[string]dbus.Variant{mmModem: f.modemProps(), mm3gpp: f.gppProps()})
}

// drop disconnects the bearer, as the network or the modem does.
func (f *fakeMM) drop() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.connected = false
	f.changed(fakeBearer, mmBearer, map[string]dbus.Variant{"Connected": dbus.MakeVariant(false)})
	f.changed(fakeModem, mmModem, map[string]dbus.Variant{"State": dbus.MakeVariant(f.state())})
}

// reset takes the modem away (its objects go, the bearer with them) until
// appear: it comes back with the SIM locked again.
func (f *fakeMM) reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.absent, f.locked, f.connected = true, true, false
}

// reboot is the modem after a power cycle: the SIM asks for its PIN
// again, nothing is connected, the counts start again.
func (f *fakeMM) reboot() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.locked, f.connected, f.pinTries, f.connects = true, false, 0, 0
}

// set changes the fake while it serves.
func (f *fakeMM) set(change func(*fakeMM)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	change(f)
}

// counts returns how often SendPin and Simple.Connect were called, and
// whether the bearer is connected.
func (f *fakeMM) counts() (pinTries, connects int, connected bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.pinTries, f.connects, f.connected
}

func (f *fakeMM) gppProps() map[string]dbus.Variant {
	return map[string]dbus.Variant{"OperatorName": dbus.MakeVariant("Telekom.de")}
}

const (
	fakeModem  = dbus.ObjectPath(modemPrefix + "0")
	fakeSIM    = dbus.ObjectPath(mmPath + "/SIM/0")
	fakeBearer = dbus.ObjectPath(mmPath + "/Bearer/0")
)

func (f *fakeMM) modemProps() map[string]dbus.Variant {
	lock := uint32(lockNone)
	switch {
	case f.locked && f.attempts == 0:
		lock = lockSIMPUK
	case f.locked:
		lock = lockSIMPIN
	}
	type port struct {
		Name string
		Type uint32
	}
	type quality struct {
		Q      uint32
		Recent bool
	}
	return map[string]dbus.Variant{
		"Manufacturer":   dbus.MakeVariant("Quectel"),
		"Model":          dbus.MakeVariant("EM12-G"),
		"Sim":            dbus.MakeVariant(fakeSIM),
		"UnlockRequired": dbus.MakeVariant(lock),
		"UnlockRetries":  dbus.MakeVariant(map[uint32]uint32{lockSIMPIN: f.attempts, lockSIMPUK: 10}),
		"SignalQuality":  dbus.MakeVariant(quality{f.signal, true}),
		"Ports":          dbus.MakeVariant([]port{{"cdc-wdm0", 6}, {f.iface, 2}}),
		"State":          dbus.MakeVariant(f.state()),
		"Bearers":        dbus.MakeVariant(f.bearers()),
	}
}

func (f *fakeMM) bearers() []dbus.ObjectPath {
	if f.connects == 0 {
		return []dbus.ObjectPath{}
	}
	return []dbus.ObjectPath{fakeBearer}
}

// props serves org.freedesktop.DBus.Properties of one object.
type props struct {
	f    *fakeMM
	path dbus.ObjectPath
}

func (p props) GetAll(iface string) (map[string]dbus.Variant, *dbus.Error) {
	p.f.mu.Lock()
	defer p.f.mu.Unlock()
	switch {
	case p.f.absent || p.path == fakeBearer && p.f.connects == 0:
		return nil, dbus.NewError("org.freedesktop.DBus.Error.UnknownObject", []any{p.path})
	case p.path == fakeModem && iface == mmModem:
		return p.f.modemProps(), nil
	case p.path == fakeModem && iface == mm3gpp:
		return p.f.gppProps(), nil
	case p.path == fakeBearer && iface == mmBearer:
		return map[string]dbus.Variant{"Interface": dbus.MakeVariant(p.f.iface), "Ip4Config": dbus.MakeVariant(p.f.ip4),
			"Connected": dbus.MakeVariant(p.f.connected)}, nil
	}
	return nil, dbus.NewError("org.freedesktop.DBus.Error.UnknownInterface", []any{iface})
}

func (p props) Get(iface, name string) (dbus.Variant, *dbus.Error) {
	all, err := p.GetAll(iface)
	if err != nil {
		return dbus.Variant{}, err
	}
	v, ok := all[name]
	if !ok {
		return dbus.Variant{}, dbus.NewError("org.freedesktop.DBus.Error.UnknownProperty", []any{name})
	}
	return v, nil
}

type objectManager struct{ f *fakeMM }

func (o objectManager) GetManagedObjects() (map[dbus.ObjectPath]map[string]map[string]dbus.Variant, *dbus.Error) {
	o.f.mu.Lock()
	defer o.f.mu.Unlock()
	if o.f.listLost {
		o.f.listLost = false
		return nil, dbus.NewError("org.freedesktop.DBus.Error.NoReply", []any{"Did not receive a reply"})
	}
	if o.f.absent {
		return map[dbus.ObjectPath]map[string]map[string]dbus.Variant{}, nil
	}
	return map[dbus.ObjectPath]map[string]map[string]dbus.Variant{fakeModem: {mmModem: o.f.modemProps(), mm3gpp: o.f.gppProps()}}, nil
}

type sim struct{ f *fakeMM }

func (s sim) SendPin(pin string) *dbus.Error {
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	s.f.pinTries++
	err := s.f.sendPin(pin)
	if s.f.lostAnswer {
		s.f.lostAnswer, s.f.listLost = false, true
		return dbus.NewError("org.freedesktop.DBus.Error.NoReply", []any{"Did not receive a reply"})
	}
	return err
}

// sendPin is SendPin's effect on the SIM.
func (f *fakeMM) sendPin(pin string) *dbus.Error {
	switch {
	case f.locked && f.attempts == 0:
		return dbus.NewError(mmErrPrefix+"MobileEquipment.SimPuk", []any{"SIM PUK required"})
	case pin != f.pin:
		f.attempts--
		if f.attempts == 0 {
			return dbus.NewError(mmErrPrefix+"MobileEquipment.SimPuk", []any{"SIM PUK required"})
		}
		return dbus.NewError(mmErrPrefix+"MobileEquipment.IncorrectPassword", []any{"Incorrect password"})
	}
	f.locked, f.attempts = false, 3
	f.changed(fakeModem, mmModem, map[string]dbus.Variant{"UnlockRequired": dbus.MakeVariant(uint32(lockNone)), "State": dbus.MakeVariant(f.state())})
	return nil
}

type simple struct{ f *fakeMM }

func (s simple) Connect(p map[string]dbus.Variant) (dbus.ObjectPath, *dbus.Error) {
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	var apn, user, password string
	store(p, "apn", &apn)
	store(p, "user", &user)
	store(p, "password", &password)
	switch {
	case s.f.locked:
		return "", dbus.NewError(mmErrPrefix+"MobileEquipment.SimPin", []any{"SIM PIN required"})
	case s.f.signal == 0:
		return "", dbus.NewError(mmErrPrefix+"MobileEquipment.NoNetwork", []any{"No network service"})
	}
	for _, a := range s.f.apns {
		switch {
		case a != apn:
		case user != s.f.user || password != s.f.password:
			return "", dbus.NewError(mmErrPrefix+"MobileEquipment.GprsUserAuthenticationFailed", []any{"User authentication failed"})
		default:
			s.f.connected = true
			s.f.connects++
			s.f.changed(fakeBearer, mmBearer, map[string]dbus.Variant{"Connected": dbus.MakeVariant(true)})
			s.f.changed(fakeModem, mmModem, map[string]dbus.Variant{"State": dbus.MakeVariant(s.f.state()), "Bearers": dbus.MakeVariant(s.f.bearers())})
			return fakeBearer, nil
		}
	}
	return "", dbus.NewError(mmErrPrefix+"MobileEquipment.MissingOrUnknownApn", []any{"Missing or unknown APN"})
}

// serve exports the fake on the bus under ModemManager's name.
func (f *fakeMM) serve(t *testing.T, addr string) {
	t.Helper()
	c := busConn(t, addr)
	f.conn = c
	for path, objs := range map[dbus.ObjectPath]map[string]any{
		mmPath:     {"org.freedesktop.DBus.ObjectManager": objectManager{f}},
		fakeModem:  {"org.freedesktop.DBus.Properties": props{f, fakeModem}, mmSimple: simple{f}},
		fakeSIM:    {mmSim: sim{f}},
		fakeBearer: {"org.freedesktop.DBus.Properties": props{f, fakeBearer}},
	} {
		for iface, v := range objs {
			if err := c.Export(v, path, iface); err != nil {
				t.Fatal(err)
			}
		}
	}
	if r, err := c.RequestName(mmService, dbus.NameFlagDoNotQueue); err != nil || r != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("own %s: %v %v", mmService, r, err)
	}
}

// TestModemsWithoutSystemBus: a system without D-Bus (the installer medium,
// the sample system) has no ModemManager, so no modems - not an error that
// would make an online device look offline.
func TestModemsWithoutSystemBus(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path="+dir+"/no-such-socket")
	b := New(dir, Options{})
	defer b.Close()
	ms, err := b.Modems(context.Background())
	if err != nil || len(ms) != 0 {
		t.Fatalf("Modems without a bus = %v, %v; want none and no error", ms, err)
	}
}
