package contract

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/onramp-os/onramp/netcfg"
)

// ctx bounds one call; a hang is a failure, not a stuck suite.
func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// field is the field a validation error names, "" for another error.
func field(err error) string {
	var fe *netcfg.FieldError
	if errors.As(err, &fe) {
		return fe.Field
	}
	return ""
}

// stages records the progress of one call.
type stages []netcfg.Stage

func (s *stages) report(st netcfg.Stage) { *s = append(*s, st) }

// has reports whether want appear in s in this order (backends may report
// more stages in between).
func (s stages) has(want ...netcfg.Stage) bool {
	i := 0
	for _, st := range s {
		if i < len(want) && st == want[i] {
			i++
		}
	}
	return i == len(want)
}

func judge(t *testing.T, e Env, st netcfg.Status) {
	t.Helper()
	if e.Judge != nil {
		e.Judge(t, st)
	}
}

func testLinks(t *testing.T, e Env) {
	links, err := e.Net.Links(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]netcfg.Kind{}
	for _, l := range links {
		kinds[l.Name] = l.Kind
		if l.Name == Wired && !l.Carrier {
			t.Errorf("%s has no carrier: %+v", Wired, l)
		}
	}
	for name, want := range map[string]netcfg.Kind{Wired: netcfg.Wired, WLAN: netcfg.Wireless, WWAN: netcfg.Mobile} {
		if got, ok := kinds[name]; !ok || got != want {
			t.Errorf("%s: listed %v as %v, want %v (links %+v)", name, ok, got, want, links)
		}
	}
}

func testWiredDHCP(t *testing.T, e Env) {
	var s stages
	st, err := e.Net.ConfigureWired(ctx(t), Wired, netcfg.WiredConfig{}, s.report)
	if err != nil {
		t.Fatal(err)
	}
	a := st.Address.Addr()
	if !st.Online || st.Via != "wired" || st.Link != Wired || st.Address.Bits() != 24 ||
		a.Less(WiredPoolFirst) || WiredPoolLast.Less(a) || st.Gateway != WiredGateway ||
		len(st.DNS) != 1 || st.DNS[0] != WiredGateway || st.Domain != Domain || st.TimeZone != TimeZone {
		t.Errorf("lease %+v", st)
	}
	if !s.has(netcfg.StageLink, netcfg.StageAddress, netcfg.StageCheck) {
		t.Errorf("stages %v", s)
	}
	// The time zone reaches the time-zone step through Status.
	now, err := e.Net.Status(ctx(t))
	if err != nil || !now.Online || now.Link != Wired || now.Address != st.Address || now.TimeZone != TimeZone {
		t.Errorf("Status %+v, %v", now, err)
	}
	links, _ := e.Net.Links(ctx(t))
	for _, l := range links {
		if l.Name == Wired && (len(l.Addrs) != 1 || l.Addrs[0] != st.Address) {
			t.Errorf("%s addresses %v, want %s", Wired, l.Addrs, st.Address)
		}
	}
	judge(t, e, st)
}

func testWiredNoDHCP(t *testing.T, e Env) {
	_, err := e.Net.ConfigureWired(ctx(t), Wired, netcfg.WiredConfig{}, nil)
	if !errors.Is(err, netcfg.ErrNoDHCP) || !strings.Contains(err.Error(), Wired) {
		t.Fatalf("err = %v, want ErrNoDHCP naming %s", err, Wired)
	}
	if st, _ := e.Net.Status(ctx(t)); st.Online {
		t.Errorf("online after a failed DHCP: %+v", st)
	}
}

func static(t *testing.T, addr, gw string) netcfg.StaticConfig {
	t.Helper()
	c, err := netcfg.ParseStatic(addr, "255.255.255.0", gw, Domain, []string{WiredGateway.String()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func testWiredStatic(t *testing.T, e Env) {
	c := static(t, "192.0.2.20", WiredGateway.String())
	var s stages
	st, err := e.Net.ConfigureWired(ctx(t), Wired, netcfg.WiredConfig{Static: &c}, s.report)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Online || st.Via != "wired" || st.Address != netip.MustParsePrefix("192.0.2.20/24") ||
		st.Gateway != WiredGateway || st.TimeZone != "" || st.Domain != Domain {
		t.Errorf("status %+v", st)
	}
	if !s.has(netcfg.StageAddress, netcfg.StageCheck) {
		t.Errorf("stages %v", s)
	}
	judge(t, e, st)
}

func testWiredStaticInvalid(t *testing.T, e Env) {
	before, err := e.Net.Status(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	for want, c := range map[string]netcfg.StaticConfig{
		"gateway": {Address: netip.MustParsePrefix("192.0.2.20/24"), Gateway: netip.MustParseAddr("198.51.100.1")},
		"address": {Address: netip.MustParsePrefix("192.0.2.0/24"), Gateway: WiredGateway},
		"netmask": {Address: netip.MustParsePrefix("192.0.2.20/0")},
		"dns": {Address: netip.MustParsePrefix("192.0.2.20/24"),
			DNS: []netip.Addr{WiredGateway, WiredGateway, WiredGateway}},
	} {
		_, err := e.Net.ConfigureWired(ctx(t), Wired, netcfg.WiredConfig{Static: &c}, nil)
		if field(err) != want {
			t.Errorf("%+v: %v, want a %s field error", c, err, want)
		}
	}
	if after, _ := e.Net.Status(ctx(t)); after.Address != before.Address {
		t.Errorf("an invalid configuration was applied: %+v, before %+v", after, before)
	}
}

// testWiredGatewaySilent applies a static configuration whose gateway
// does not answer: refused, and the lease before stays.
func testWiredGatewaySilent(t *testing.T, e Env) {
	before, err := e.Net.ConfigureWired(ctx(t), Wired, netcfg.WiredConfig{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := static(t, "192.0.2.20", "192.0.2.254")
	if _, err := e.Net.ConfigureWired(ctx(t), Wired, netcfg.WiredConfig{Static: &c}, nil); !errors.Is(err, netcfg.ErrGateway) {
		t.Fatalf("err = %v, want ErrGateway", err)
	}
	after, err := e.Net.Status(ctx(t))
	if err != nil || !after.Online || after.Address != before.Address || after.Gateway != before.Gateway {
		t.Errorf("after the failed change: %+v, %v; before %+v", after, err, before)
	}
	judge(t, e, before)
}

// SilentTarget is a server nothing answers for: the gateway's address, a
// port nobody listens on.
var SilentTarget = netcfg.Target{Host: WiredGateway.String(), Port: 9}

// testWiredTargetSilent connects while the next step's server does not
// answer: refused with ErrServer naming the server, though the gateway and
// the name server work, and the lease before stays.
func testWiredTargetSilent(t *testing.T, e Env) {
	before, err := e.Net.ConfigureWired(ctx(t), Wired, netcfg.WiredConfig{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.Net.SetTarget(SilentTarget)
	_, err = e.Net.ConfigureWired(ctx(t), Wired, netcfg.WiredConfig{}, nil)
	var te *netcfg.TargetError
	if !errors.Is(err, netcfg.ErrServer) || !errors.As(err, &te) || te.Target != SilentTarget {
		t.Fatalf("err = %v, want ErrServer naming %s", err, SilentTarget)
	}
	after, err := e.Net.Status(ctx(t))
	if err != nil || !after.Online || after.Address != before.Address {
		t.Errorf("after the failed check: %+v, %v; before %+v", after, err, before)
	}
	e.Net.SetTarget(netcfg.Target{})
	if _, err := e.Net.ConfigureWired(ctx(t), Wired, netcfg.WiredConfig{}, nil); err != nil {
		t.Errorf("without a target: %v", err)
	}
}

func testNoSuchLink(t *testing.T, e Env) {
	if _, err := e.Net.ConfigureWired(ctx(t), "nosuch0", netcfg.WiredConfig{}, nil); !errors.Is(err, netcfg.ErrNoSuchLink) {
		t.Errorf("wired: %v", err)
	}
	if _, err := e.Net.JoinWLAN(ctx(t), "nosuch0", netcfg.WLANConfig{SSID: GuestSSID, Auth: netcfg.AuthOpen}, nil); !errors.Is(err, netcfg.ErrNoSuchLink) {
		t.Errorf("WLAN: %v", err)
	}
	if _, err := e.Net.UnlockSIM(ctx(t), "7", PIN); !errors.Is(err, netcfg.ErrNoSuchLink) {
		t.Errorf("modem: %v", err)
	}
}
