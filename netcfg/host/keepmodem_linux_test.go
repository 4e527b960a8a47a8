package host

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/onramp-os/onramp/firstboot"
	"github.com/onramp-os/onramp/internal/exitcode"
	"github.com/onramp-os/onramp/internal/testutil"
	"github.com/onramp-os/onramp/netcfg"
	"github.com/onramp-os/onramp/netcfg/contract"
	"github.com/onramp-os/onramp/sysconf"
)

// TestKeepSavedModem brings up, on a later boot, the mobile connection the
// assistant saved: in a copy of the test binary inside a fresh network
// namespace, wwan0 is a veth link to a "server" namespace with the
// carrier's gateway and the real dnsmasq as its name server, and the fake
// ModemManager of mobile_linux_test.go runs on a private dbus-daemon.
func TestKeepSavedModem(t *testing.T) {
	if testutil.NetnsChild(t) {
		t.Run("reboot", testSavedModemReboot)
		t.Run("late-modem", testSavedModemLate)
		t.Run("modem-reset", testSavedModemReset)
		t.Run("wrong-pin", testSavedModemWrongPIN)
		return
	}
	testutil.RequireRoot(t)
	testutil.RequireTools(t, "ip", "dnsmasq", "dbus-daemon")
	testutil.RunInNetns(t, testutil.Netns(t))
}

// The saved PIN the fake's SIM wants, and a password nothing may print.
const (
	savedPIN      = contract.PIN
	savedPassword = "apn-Secret-42"
)

// modemLab is wwan0 with its carrier behind it, a fake ModemManager with
// a PIN-locked SIM, and a root to save the connection in.
type modemLab struct {
	mm   *fakeMM
	bus  string
	root string
}

func newModemLab(t *testing.T) *modemLab {
	t.Helper()
	server := testutil.Netns(t)
	testutil.Run(t, "ip", "link", "add", contract.WWAN, "type", "veth", "peer", "name", "s-"+contract.WWAN, "netns", server)
	t.Cleanup(func() { _ = testutil.NetnsCommand(server, "ip", "link", "del", "s-"+contract.WWAN).Run() })
	testutil.Run(t, "ip", "-n", server, "addr", "add", contract.MobileGateway.String()+"/24", "dev", "s-"+contract.WWAN)
	testutil.Run(t, "ip", "-n", server, "link", "set", "s-"+contract.WWAN, "up")
	startDnsmasq(t, server, "--interface=s-"+contract.WWAN)
	old := sysClassNet
	sysClassNet = fakeSysfs(t)
	t.Cleanup(func() { sysClassNet = old })
	l := &modemLab{bus: privateBus(t), root: t.TempDir(), mm: &fakeMM{pin: savedPIN, locked: true, attempts: 3, signal: 71,
		apns: []string{contract.APN}, iface: contract.WWAN,
		ip4: map[string]dbus.Variant{"method": dbus.MakeVariant(uint32(2)), "address": dbus.MakeVariant(contract.MobileAddress.Addr().String()),
			"prefix": dbus.MakeVariant(uint32(contract.MobileAddress.Bits())), "gateway": dbus.MakeVariant(contract.MobileGateway.String()),
			"dns1": dbus.MakeVariant(contract.MobileGateway.String())}}}
	l.mm.serve(t, l.bus)
	return l
}

// backend is a fresh backend on the lab's bus, as after a boot. It reads
// the bearer's state every check besides the signals.
func (l *modemLab) backend(t *testing.T, check time.Duration) *Backend {
	t.Helper()
	b := New(l.root, Options{CheckTimeout: 2 * time.Second, ProbeName: lanProbe, Bus: busConn(t, l.bus),
		ModemWait: 20 * time.Second, ModemRetry: 200 * time.Millisecond, ModemCheck: check})
	t.Cleanup(func() { _ = b.Close() })
	return b
}

// keep runs KeepSavedModem until the test stops it; stop returns its
// error.
func (l *modemLab) keep(t *testing.T, b *Backend, log *testutil.SyncBuffer) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.KeepSavedModem(ctx, l.root, log) }()
	stopped := false
	stop = func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(10 * time.Second):
			t.Fatal("KeepSavedModem did not return after its context ended")
		}
		return nil
	}
	t.Cleanup(func() { _ = stop() })
	return stop
}

// testSavedModemReboot: the real first boot (firstboot.RunUnattended with
// examples/answers-mobile-peap.yaml) unlocks the SIM, connects and saves
// the connection; after a "reboot" (the SIM locked again, wwan0 without
// its address, a fresh backend) KeepSavedModem unlocks the SIM with the
// saved PIN in one attempt and connects; when the bearer drops later it
// connects again. Neither the PIN nor the password reaches its log.
func testSavedModemReboot(t *testing.T) {
	l := newModemLab(t)
	data, err := os.ReadFile("../../examples/answers-mobile-peap.yaml")
	if err != nil {
		t.Fatal(err)
	}
	a, err := firstboot.ParseAnswers(data)
	if err != nil {
		t.Fatal(err)
	}
	if a.Network.Mobile == nil || a.Network.Mobile.PIN != savedPIN {
		t.Fatalf("the example's mobile answers %+v do not carry the lab SIM's PIN", a.Network.Mobile)
	}
	// The license text the image ships for the assistant to show.
	eula := filepath.Join(l.root, sysconf.EULADir, "en.txt")
	must(t, os.MkdirAll(filepath.Dir(eula), 0o755))
	must(t, os.WriteFile(eula, []byte("Onramp OS license terms.\n"), 0o644))
	var setupLog strings.Builder
	first := l.backend(t, time.Second)
	if _, err := firstboot.RunUnattended(firstboot.Config{Sys: sysconf.Root{Dir: l.root}, Net: first}, a, &setupLog); err != nil {
		t.Fatalf("first boot: %v\n%s", err, setupLog.String())
	}
	saved, err := netcfg.ReadModem(l.root)
	if err != nil || saved.APN != contract.APN || saved.PIN != savedPIN {
		t.Fatalf("first boot saved %+v, %v", saved, err)
	}
	if fi, err := os.Stat(netcfg.ModemFile(l.root)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("%s: %v, %v; want mode 0600", netcfg.ModemFile(l.root), fi, err)
	}
	_ = first.Close()

	l.mm.reboot()
	testutil.Run(t, "ip", "addr", "flush", "dev", contract.WWAN)
	testutil.Run(t, "ip", "link", "set", contract.WWAN, "down")
	var log testutil.SyncBuffer
	// Reading the bearer's state only every hour: the drop below is seen
	// through ModemManager's signal.
	stop := l.keep(t, l.backend(t, time.Hour), &log)
	waitOnline(t, l, 1, &log)
	if tries, _, _ := l.mm.counts(); tries != 1 {
		t.Errorf("the saved PIN was sent %d times, want once", tries)
	}

	// The network drops the bearer; the address goes with it.
	testutil.Run(t, "ip", "addr", "flush", "dev", contract.WWAN)
	l.mm.drop()
	waitOnline(t, l, 2, &log)
	if tries, _, _ := l.mm.counts(); tries != 1 {
		t.Errorf("the SIM stayed unlocked, yet the PIN was sent %d times", tries)
	}
	if err := stop(); err != nil {
		t.Errorf("KeepSavedModem after its context ended: %v", err)
	}
	if !strings.Contains(log.String(), "disconnected") {
		t.Errorf("the log does not tell of the drop:\n%s", log.String())
	}
	t.Logf("log:\n%s", log.String())
	noSecrets(t, log.String(), savedPIN)
}

// testSavedModemReset: the modem resets (USB re-enumeration): its objects
// go without a signal being seen, it comes back with the SIM locked again;
// the saved PIN, proven right, unlocks it again and the connection is made
// again.
func testSavedModemReset(t *testing.T) {
	l := newModemLab(t)
	save(t, l, netcfg.MobileConfig{Country: "DE", Provider: "T-Mobile(Telekom)", APN: contract.APN, PIN: savedPIN})
	var log testutil.SyncBuffer
	stop := l.keep(t, l.backend(t, 500*time.Millisecond), &log)
	waitOnline(t, l, 1, &log)
	l.mm.reset()
	testutil.Run(t, "ip", "addr", "flush", "dev", contract.WWAN)
	time.Sleep(2 * time.Second)
	if tries, connects, _ := l.mm.counts(); tries != 1 || connects != 1 {
		t.Fatalf("while the modem was gone: PIN sent %d times, connected %d times; want 1 and 1", tries, connects)
	}
	l.mm.appear()
	waitOnline(t, l, 2, &log)
	if tries, _, _ := l.mm.counts(); tries != 2 {
		t.Errorf("the saved PIN was sent %d times in all, want twice (once per SIM start)", tries)
	}
	if err := stop(); err != nil {
		t.Error(err)
	}
	t.Logf("log:\n%s", log.String())
	noSecrets(t, log.String(), savedPIN)
}

// testSavedModemLate: ModemManager presents the modem only some seconds
// after the service started; the connection still comes up.
func testSavedModemLate(t *testing.T) {
	l := newModemLab(t)
	l.mm.set(func(f *fakeMM) { f.absent = true })
	save(t, l, netcfg.MobileConfig{Country: "DE", Provider: "T-Mobile(Telekom)", APN: contract.APN, PIN: savedPIN})
	var log testutil.SyncBuffer
	stop := l.keep(t, l.backend(t, time.Second), &log)
	time.Sleep(3 * time.Second)
	if _, connects, _ := l.mm.counts(); connects != 0 {
		t.Fatalf("connected %d times before the modem was there", connects)
	}
	l.mm.appear()
	waitOnline(t, l, 1, &log)
	if err := stop(); err != nil {
		t.Error(err)
	}
	noSecrets(t, log.String(), savedPIN)
}

// testSavedModemWrongPIN: a saved PIN the SIM refuses is sent once, never
// again: the error says so and what is left, the PIN is removed from
// modem.json (the password stays), and a second start does not send it.
func testSavedModemWrongPIN(t *testing.T) {
	l := newModemLab(t)
	l.mm.set(func(f *fakeMM) { f.user, f.password = "telekom", savedPassword })
	const wrong = "8642"
	save(t, l, netcfg.MobileConfig{Country: "DE", Provider: "T-Mobile(Telekom)", APN: contract.APN, Username: "telekom", Password: savedPassword, PIN: wrong})
	var log testutil.SyncBuffer
	err := l.backend(t, time.Second).KeepSavedModem(context.Background(), l.root, &log)
	if !errors.Is(err, netcfg.ErrWrongPIN) || exitcode.KindOf(err) != exitcode.Refused || !strings.Contains(err.Error(), "2 attempts left") {
		t.Fatalf("KeepSavedModem with a wrong saved PIN = %v (kind %v); want ErrWrongPIN, refused, 2 attempts left", err, exitcode.KindOf(err))
	}
	t.Logf("error: %v", err)
	if tries, connects, _ := l.mm.counts(); tries != 1 || connects != 0 {
		t.Errorf("PIN sent %d times, connected %d times; want 1 and 0", tries, connects)
	}
	mc, rerr := netcfg.ReadModem(l.root)
	if rerr != nil || mc.PIN != "" || mc.Password != savedPassword || mc.APN != contract.APN {
		t.Errorf("modem.json after the refused PIN: %+v, %v; want it without the PIN, the rest kept", mc, rerr)
	}
	// The next start (the service manager's, or the next boot's).
	err2 := l.backend(t, time.Second).KeepSavedModem(context.Background(), l.root, &log)
	if exitcode.KindOf(err2) != exitcode.Refused || !strings.Contains(err2.Error(), "holds no PIN") {
		t.Errorf("second start: %v (kind %v); want refused, no PIN saved", err2, exitcode.KindOf(err2))
	}
	t.Logf("second start: %v", err2)
	if tries, _, _ := l.mm.counts(); tries != 1 {
		t.Errorf("after a second start the PIN was sent %d times in all, want 1", tries)
	}
	noSecrets(t, log.String()+err.Error()+err2.Error(), wrong, savedPassword)
}

// TestKeepSavedModemMissing: without ModemManager, or with a ModemManager
// that presents no modem within ModemWait, KeepSavedModem returns an error
// naming what is missing (for the service manager to start it again).
func TestKeepSavedModemMissing(t *testing.T) {
	root := t.TempDir()
	if err := netcfg.WriteModem(root, netcfg.MobileConfig{APN: contract.APN, PIN: savedPIN}); err != nil {
		t.Fatal(err)
	}
	o := Options{ModemWait: time.Second}
	addr := privateBus(t)
	o.Bus = busConn(t, addr)
	err := New(root, o).KeepSavedModem(context.Background(), root, &strings.Builder{})
	if !errors.Is(err, errNoModemManager) || exitcode.KindOf(err) != exitcode.Failure || !strings.Contains(err.Error(), "ModemManager is not running") {
		t.Errorf("without ModemManager: %v (kind %v)", err, exitcode.KindOf(err))
	}
	mm := &fakeMM{pin: savedPIN, locked: true, attempts: 3, absent: true}
	mm.serve(t, addr)
	err = New(root, o).KeepSavedModem(context.Background(), root, &strings.Builder{})
	if !errors.Is(err, errNoModem) || exitcode.KindOf(err) != exitcode.Failure || !strings.Contains(err.Error(), "no modem within 1s") {
		t.Errorf("without a modem: %v (kind %v)", err, exitcode.KindOf(err))
	}
	if tries, _, _ := mm.counts(); tries != 0 {
		t.Errorf("the PIN was sent %d times without a modem", tries)
	}
	must(t, os.WriteFile(netcfg.ModemFile(root), []byte(`{"apn": "internet", "pin": "12"}`), 0o600))
	err = New(root, o).KeepSavedModem(context.Background(), root, &strings.Builder{})
	if exitcode.KindOf(err) != exitcode.Usage || !strings.Contains(err.Error(), "pin") {
		t.Errorf("a saved PIN of two digits: %v (kind %v)", err, exitcode.KindOf(err))
	}
}

func save(t *testing.T, l *modemLab, mc netcfg.MobileConfig) {
	t.Helper()
	if err := netcfg.WriteModem(l.root, mc); err != nil {
		t.Fatal(err)
	}
}

// waitOnline waits until the fake has been connected connects times and
// is connected, wwan0 has the bearer's address and the default route goes
// through the carrier's gateway, as iproute2 shows them.
func waitOnline(t *testing.T, l *modemLab, connects int, log *testutil.SyncBuffer) {
	t.Helper()
	var addrs, routes string
	ok := testutil.WaitFor(30*time.Second, func() bool {
		_, n, up := l.mm.counts()
		addrs = testutil.Run(t, "ip", "-4", "addr", "show", "dev", contract.WWAN)
		routes = testutil.Run(t, "ip", "-4", "route", "show", "default")
		return n == connects && up && strings.Contains(addrs, "inet "+contract.MobileAddress.String()+" ") &&
			strings.Contains(routes, "default via "+contract.MobileGateway.String()+" dev "+contract.WWAN+" ")
	})
	if !ok {
		_, n, up := l.mm.counts()
		t.Fatalf("not online (connect %d of %d, connected %v):\n%s\n%s\nlog:\n%s", n, connects, up, addrs, routes, log.String())
	}
}

func noSecrets(t *testing.T, text string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if strings.Contains(text, s) {
			t.Errorf("a secret (%d characters) is in the output:\n%s", len(s), text)
		}
	}
}

// TestKeepSavedModemUnansweredPIN: the saved PIN goes out, but neither the
// answer nor the next look at the modem comes back; when the modem is
// seen again, locked with one attempt less, the PIN counts as refused and
// is not sent a second time.
func TestKeepSavedModemUnansweredPIN(t *testing.T) {
	root := t.TempDir()
	if err := netcfg.WriteModem(root, netcfg.MobileConfig{APN: contract.APN, PIN: "8642"}); err != nil {
		t.Fatal(err)
	}
	addr := privateBus(t)
	mm := &fakeMM{pin: savedPIN, locked: true, attempts: 3, lostAnswer: true}
	mm.serve(t, addr)
	var log strings.Builder
	err := New(root, Options{ModemWait: 5 * time.Second, ModemRetry: 100 * time.Millisecond, Bus: busConn(t, addr)}).KeepSavedModem(context.Background(), root, &log)
	if !errors.Is(err, netcfg.ErrWrongPIN) || exitcode.KindOf(err) != exitcode.Refused || !strings.Contains(err.Error(), "2 attempts left") {
		t.Errorf("KeepSavedModem = %v (kind %v); want the PIN refused, 2 attempts left", err, exitcode.KindOf(err))
	}
	if tries, _, _ := mm.counts(); tries != 1 {
		t.Errorf("the PIN was sent %d times, want once", tries)
	}
	if mc, err := netcfg.ReadModem(root); err != nil || mc.PIN != "" {
		t.Errorf("modem.json keeps the refused PIN: %+v, %v", mc, err)
	}
	if !strings.Contains(log.String(), "trying again") {
		t.Errorf("the lost answer was not a retry:\n%s", log.String())
	}
	noSecrets(t, log.String()+err.Error(), "8642")
}
