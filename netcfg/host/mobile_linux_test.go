package host

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/onramp-os/onramp/internal/testutil"
	"github.com/onramp-os/onramp/netcfg"
)

// privateBus starts the real dbus-daemon on a socket of its own and
// returns its address.
func privateBus(t *testing.T) string {
	t.Helper()
	testutil.RequireTools(t, "dbus-daemon")
	dir := t.TempDir()
	sock := filepath.Join(dir, "bus")
	// Debian's session configuration (everything allowed), on our socket.
	cmd := exec.Command("dbus-daemon", "--session", "--nofork", "--nopidfile", "--address=unix:path="+sock)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	for i := 0; i < 50; i++ {
		if _, err := os.Stat(sock); err == nil {
			return "unix:path=" + sock
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("dbus-daemon did not start")
	return ""
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
// the errors ModemManager returns.
type fakeMM struct {
	mu       sync.Mutex
	pin      string
	locked   bool
	attempts uint32
	signal   uint32
	apns     []string // accepted
	iface    string
	ip4      map[string]dbus.Variant
	gotUser  string
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
	}
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
	case p.path == fakeModem && iface == mmModem:
		return p.f.modemProps(), nil
	case p.path == fakeModem && iface == mm3gpp:
		return map[string]dbus.Variant{"OperatorName": dbus.MakeVariant("Telekom.de")}, nil
	case p.path == fakeBearer && iface == mmBearer:
		return map[string]dbus.Variant{"Interface": dbus.MakeVariant(p.f.iface), "Ip4Config": dbus.MakeVariant(p.f.ip4)}, nil
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
	m, _ := props{o.f, fakeModem}.GetAll(mmModem)
	g, _ := props{o.f, fakeModem}.GetAll(mm3gpp)
	return map[dbus.ObjectPath]map[string]map[string]dbus.Variant{fakeModem: {mmModem: m, mm3gpp: g}}, nil
}

type sim struct{ f *fakeMM }

func (s sim) SendPin(pin string) *dbus.Error {
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	switch {
	case s.f.locked && s.f.attempts == 0:
		return dbus.NewError(mmErrPrefix+"MobileEquipment.SimPuk", []any{"SIM PUK required"})
	case pin != s.f.pin:
		s.f.attempts--
		if s.f.attempts == 0 {
			return dbus.NewError(mmErrPrefix+"MobileEquipment.SimPuk", []any{"SIM PUK required"})
		}
		return dbus.NewError(mmErrPrefix+"MobileEquipment.IncorrectPassword", []any{"Incorrect password"})
	}
	s.f.locked, s.f.attempts = false, 3
	return nil
}

type simple struct{ f *fakeMM }

func (s simple) Connect(p map[string]dbus.Variant) (dbus.ObjectPath, *dbus.Error) {
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	var apn string
	store(p, "apn", &apn)
	store(p, "user", &s.f.gotUser)
	switch {
	case s.f.locked:
		return "", dbus.NewError(mmErrPrefix+"MobileEquipment.SimPin", []any{"SIM PIN required"})
	case s.f.signal == 0:
		return "", dbus.NewError(mmErrPrefix+"MobileEquipment.NoNetwork", []any{"No network service"})
	}
	for _, a := range s.f.apns {
		if a == apn {
			return fakeBearer, nil
		}
	}
	return "", dbus.NewError(mmErrPrefix+"MobileEquipment.MissingOrUnknownApn", []any{"Missing or unknown APN"})
}

// serve exports the fake on the bus under ModemManager's name.
func (f *fakeMM) serve(t *testing.T, addr string) {
	t.Helper()
	c := busConn(t, addr)
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

func newFakeMM() *fakeMM {
	return &fakeMM{pin: "1234", locked: true, attempts: 3, signal: 71, apns: []string{"internet.telekom"}, iface: clientIf,
		ip4: map[string]dbus.Variant{"method": dbus.MakeVariant(uint32(2)), "address": dbus.MakeVariant("192.0.2.77"),
			"prefix": dbus.MakeVariant(uint32(24)), "gateway": dbus.MakeVariant("192.0.2.1"), "dns1": dbus.MakeVariant("192.0.2.1")}}
}

func TestMobileSIMAndErrors(t *testing.T) {
	addr := privateBus(t)
	f := newFakeMM()
	f.serve(t, addr)
	b := New(t.TempDir(), Options{Bus: busConn(t, addr)})
	ctx := context.Background()
	ms, err := b.Modems(ctx)
	if err != nil || len(ms) != 1 {
		t.Fatalf("Modems = %+v, %v", ms, err)
	}
	m := ms[0]
	if m.ID != "0" || m.Model != "Quectel EM12-G" || !m.Locked || m.Attempts != 3 || m.Signal != 71 || m.Interface != clientIf || m.Operator != "Telekom.de" {
		t.Errorf("modem %+v", m)
	}
	if _, err := b.ConnectMobile(ctx, "0", netcfg.MobileConfig{APN: "internet.telekom"}, nil); !errors.Is(err, netcfg.ErrWrongPIN) {
		t.Errorf("connect while locked: %v", err)
	}
	m, err = b.UnlockSIM(ctx, "0", "9999")
	if !errors.Is(err, netcfg.ErrWrongPIN) || m.Attempts != 2 || !m.Locked || strings.Contains(err.Error(), "9999") {
		t.Errorf("wrong PIN: %+v, %v", m, err)
	}
	if _, err := b.UnlockSIM(ctx, "0", "12a4"); err == nil {
		t.Error("a PIN with a letter was sent")
	}
	if m, err = b.UnlockSIM(ctx, "0", "1234"); err != nil || m.Locked {
		t.Errorf("right PIN: %+v, %v", m, err)
	}
	if _, err := b.ConnectMobile(ctx, "0", netcfg.MobileConfig{APN: "web.example"}, nil); !errors.Is(err, netcfg.ErrAPNRefused) {
		t.Errorf("unknown APN: %v", err)
	}
	f.mu.Lock()
	f.signal = 0
	f.mu.Unlock()
	if _, err := b.ConnectMobile(ctx, "0", netcfg.MobileConfig{APN: "internet.telekom"}, nil); !errors.Is(err, netcfg.ErrNoSignal) {
		t.Errorf("no signal: %v", err)
	}
	if _, err := b.UnlockSIM(ctx, "7", "1234"); !errors.Is(err, netcfg.ErrNoSuchLink) {
		t.Errorf("no such modem: %v", err)
	}
}

func TestMobileBlockedSIM(t *testing.T) {
	addr := privateBus(t)
	f := newFakeMM()
	f.serve(t, addr)
	b := New(t.TempDir(), Options{Bus: busConn(t, addr)})
	for i := 0; i < 2; i++ {
		_, _ = b.UnlockSIM(context.Background(), "0", "0000")
	}
	m, err := b.UnlockSIM(context.Background(), "0", "0000")
	if !errors.Is(err, netcfg.ErrSIMBlocked) || !m.Blocked {
		t.Fatalf("third wrong PIN: %+v, %v", m, err)
	}
}

// TestMobileConnect connects through the fake ModemManager and applies
// the bearer's static IPv4 configuration to a real link, in a namespace.
func TestMobileConnect(t *testing.T) {
	if testutil.NetnsChild(t) {
		b := New(t.TempDir(), Options{Bus: busConn(t, os.Getenv("ONRAMP_TEST_BUS")), CheckTimeout: 2 * time.Second, ProbeName: lanProbe})
		st, err := b.ConnectMobile(context.Background(), "0", netcfg.MobileConfig{APN: "internet.telekom", Username: "telekom", Password: "tm"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if st.Address != netip.MustParsePrefix("192.0.2.77/24") || st.Via != "mobile" || !st.Online {
			t.Errorf("status %+v", st)
		}
		assertKernel(t, st.Address, st.Gateway)
		return
	}
	addr := privateBus(t)
	f := newFakeMM()
	f.locked = false
	f.serve(t, addr)
	client, _ := lan(t, true)
	testutil.RunInNetns(t, client, "ONRAMP_TEST_BUS="+addr)
	if f.gotUser != "telekom" {
		t.Errorf("user %q", f.gotUser)
	}
}

func TestProvidersRealDatabase(t *testing.T) {
	if _, err := os.Stat(DefaultProviderFile); err != nil {
		testutil.Skip(t, "mobile-broadband-provider-info not installed (scripts/deps.sh installs it)")
	}
	db := New(t.TempDir(), Options{}).Providers()
	found := false
	for _, c := range db.Countries() {
		if c.Code == "DE" && c.Name == "Germany" {
			found = true
		}
	}
	if !found {
		t.Fatal("Germany missing")
	}
	apns := map[string]bool{}
	for _, p := range db.Providers("DE") {
		for _, a := range p.APNs {
			apns[a.Name] = true
		}
	}
	if !apns["internet.telekom"] {
		t.Errorf("DE APNs %v", apns)
	}
}
