package host

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/onramp-os/onramp/internal/testutil"
	"github.com/onramp-os/onramp/netcfg"
)

// The wired tests build a LAN of two namespaces joined by veth: "server"
// (192.0.2.1/24 on veth-s, optionally with a real dnsmasq serving DHCP and
// DNS) and "client" (veth-c), where the backend runs in a re-executed
// copy of the test binary. Only documentation ranges are used.

const (
	clientIf = "veth-c"
	serverIf = "veth-s"
	lanZone  = "Europe/Berlin"
	lanProbe = "probe.lab.example"
)

// lan creates the two namespaces; with dhcp, dnsmasq serves the LAN.
func lan(t *testing.T, dhcp bool) (client, server string) {
	t.Helper()
	testutil.RequireRoot(t)
	testutil.RequireTools(t, "ip")
	client, server = testutil.Netns(t), testutil.Netns(t)
	testutil.Veth(t, server, serverIf, client, clientIf)
	testutil.Run(t, "ip", "-n", server, "addr", "add", "192.0.2.1/24", "dev", serverIf)
	if dhcp {
		startDnsmasq(t, server)
	}
	return client, server
}

// startDnsmasq runs the real dnsmasq on the server side: DHCP with router,
// name server, domain (15) and tz database name (101), and DNS knowing one
// name.
func startDnsmasq(t *testing.T, ns string) {
	t.Helper()
	testutil.RequireTools(t, "dnsmasq")
	dir := t.TempDir()
	cmd := exec.Command("ip", "netns", "exec", ns, "dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null",
		"--no-resolv", "--no-hosts", "--user=root", "--bind-interfaces", "--interface="+serverIf,
		"--dhcp-range=192.0.2.100,192.0.2.150,255.255.255.0,1h", "--dhcp-authoritative",
		"--dhcp-option=option:router,192.0.2.1", "--dhcp-option=option:dns-server,192.0.2.1",
		"--dhcp-option=option:domain-name,lab.example", "--dhcp-option=101,"+lanZone,
		"--host-record="+lanProbe+",192.0.2.1",
		"--dhcp-leasefile="+filepath.Join(dir, "leases"), "--pid-file="+filepath.Join(dir, "pid"),
		"--log-facility="+filepath.Join(dir, "log"), "--log-dhcp")
	out, err := os.Create(filepath.Join(dir, "out"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			for _, f := range []string{"out", "log"} {
				b, _ := os.ReadFile(filepath.Join(dir, f))
				t.Logf("dnsmasq %s:\n%s", f, b)
			}
		}
	})
	// Ready when the DNS port answers.
	for i := 0; i < 50; i++ {
		if exec.Command("ip", "netns", "exec", ns, "sh", "-c", "cat /proc/net/udp | grep -q ':0035 '").Run() == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("dnsmasq did not start")
}

// testBackend is the backend as the child runs it, with short timeouts.
func testBackend(t *testing.T) (*Backend, string) {
	root := t.TempDir()
	return New(root, Options{DHCPTimeout: 500 * time.Millisecond, DHCPTries: 3, CheckTimeout: 2 * time.Second,
		CarrierWait: 3 * time.Second, ProbeName: lanProbe}), root
}

func TestWiredDHCPLease(t *testing.T) {
	if testutil.NetnsChild(t) {
		b, root := testBackend(t)
		var stages []netcfg.Stage
		st, err := b.ConfigureWired(context.Background(), clientIf, netcfg.WiredConfig{}, func(s netcfg.Stage) { stages = append(stages, s) })
		if err != nil {
			t.Fatal(err)
		}
		lo, hi := netip.MustParseAddr("192.0.2.100"), netip.MustParseAddr("192.0.2.150")
		if a := st.Address.Addr(); st.Address.Bits() != 24 || a.Less(lo) || hi.Less(a) {
			t.Errorf("address %s", st.Address)
		}
		if st.Gateway != netip.MustParseAddr("192.0.2.1") || st.TimeZone != lanZone || st.Domain != "lab.example" ||
			len(st.DNS) != 1 || st.DNS[0] != st.Gateway || !st.Online || st.Via != "wired" {
			t.Errorf("status %+v", st)
		}
		if strings.Join(stagesText(stages), ",") != "link,address,check" {
			t.Errorf("stages %v", stages)
		}
		rc, _ := os.ReadFile(filepath.Join(root, "etc/resolv.conf"))
		if !strings.Contains(string(rc), "nameserver 192.0.2.1\n") || !strings.Contains(string(rc), "search lab.example\n") {
			t.Errorf("resolv.conf:\n%s", rc)
		}
		// The time zone reaches the time-zone step through Status.
		now, err := b.Status(context.Background())
		if err != nil || !now.Online || now.TimeZone != lanZone || now.Address != st.Address || now.Link != clientIf {
			t.Errorf("Status = %+v, %v", now, err)
		}
		assertKernel(t, st.Address, st.Gateway)
		return
	}
	client, _ := lan(t, true)
	testutil.RunInNetns(t, client)
	// Independent judge: iproute2 sees the lease and the default route.
	addrs := testutil.Run(t, "ip", "-n", client, "-4", "addr", "show", "dev", clientIf)
	routes := testutil.Run(t, "ip", "-n", client, "-4", "route", "show", "default")
	if !strings.Contains(addrs, "inet 192.0.2.1") || !strings.Contains(routes, "default via 192.0.2.1 dev "+clientIf) {
		t.Errorf("ip addr:\n%s\nip route:\n%s", addrs, routes)
	}
}

func stagesText(ss []netcfg.Stage) []string {
	var out []string
	for _, s := range ss {
		out = append(out, string(s))
	}
	return out
}

// assertKernel checks through netlink that clientIf has addr and the
// default route goes via gw.
func assertKernel(t *testing.T, addr netip.Prefix, gw netip.Addr) {
	t.Helper()
	l, err := netlink.LinkByName(clientIf)
	if err != nil {
		t.Fatal(err)
	}
	got, err := linkAddrs(l)
	if err != nil || len(got) != 1 || got[0] != addr {
		t.Errorf("addresses %v, %v; want %s", got, err, addr)
	}
	defs, err := defaultRoutes()
	if err != nil || len(defs) != 1 || !defs[0].Gw.Equal(gw.AsSlice()) || defs[0].LinkIndex != l.Attrs().Index {
		t.Errorf("default routes %v, %v; want via %s", defs, err, gw)
	}
}

func TestWiredNoDHCPServer(t *testing.T) {
	if testutil.NetnsChild(t) {
		b, _ := testBackend(t)
		start := time.Now()
		_, err := b.ConfigureWired(context.Background(), clientIf, netcfg.WiredConfig{}, nil)
		if !errors.Is(err, netcfg.ErrNoDHCP) || !strings.Contains(err.Error(), clientIf) {
			t.Fatalf("err = %v, want ErrNoDHCP naming the link", err)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("gave up after %s", d)
		}
		if l, _ := netlink.LinkByName(clientIf); l != nil {
			if got, _ := linkAddrs(l); len(got) != 0 {
				t.Errorf("addresses %v after a failed DHCP", got)
			}
		}
		return
	}
	client, _ := lan(t, false)
	testutil.RunInNetns(t, client)
}

func TestWiredStatic(t *testing.T) {
	if testutil.NetnsChild(t) {
		b, root := testBackend(t)
		c, err := netcfg.ParseStatic("192.0.2.20", "255.255.255.0", "192.0.2.1", "lab.example", []string{"192.0.2.1"})
		if err != nil {
			t.Fatal(err)
		}
		st, err := b.ConfigureWired(context.Background(), clientIf, netcfg.WiredConfig{Static: &c}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if st.Address != netip.MustParsePrefix("192.0.2.20/24") || st.TimeZone != "" || !st.Online {
			t.Errorf("status %+v", st)
		}
		assertKernel(t, st.Address, st.Gateway)
		if rc, _ := os.ReadFile(filepath.Join(root, "etc/resolv.conf")); !strings.Contains(string(rc), "nameserver 192.0.2.1") {
			t.Errorf("resolv.conf:\n%s", rc)
		}
		return
	}
	client, _ := lan(t, true)
	testutil.RunInNetns(t, client)
	if out := testutil.Run(t, "ip", "-n", client, "-4", "addr", "show", "dev", clientIf); !strings.Contains(out, "inet 192.0.2.20/24") {
		t.Errorf("ip addr:\n%s", out)
	}
}

func TestWiredStaticRollback(t *testing.T) {
	if testutil.NetnsChild(t) {
		b, root := testBackend(t)
		resolv := filepath.Join(root, "etc/resolv.conf")
		if err := os.MkdirAll(filepath.Dir(resolv), 0o755); err != nil {
			t.Fatal(err)
		}
		before := "nameserver 198.51.100.53\n"
		if err := os.WriteFile(resolv, []byte(before), 0o644); err != nil {
			t.Fatal(err)
		}
		// 192.0.2.254 is in the subnet but nobody answers there.
		c, err := netcfg.ParseStatic("192.0.2.20/24", "", "192.0.2.254", "", []string{"192.0.2.1"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = b.ConfigureWired(context.Background(), clientIf, netcfg.WiredConfig{Static: &c}, nil)
		if !errors.Is(err, netcfg.ErrGateway) {
			t.Fatalf("err = %v, want ErrGateway", err)
		}
		if rc, _ := os.ReadFile(resolv); string(rc) != before {
			t.Errorf("resolv.conf not restored: %q", rc)
		}
		return
	}
	client, _ := lan(t, false)
	// The configuration that was there before: another address, a route
	// through its gateway and the default route.
	testutil.Run(t, "ip", "-n", client, "addr", "add", "198.51.100.7/24", "dev", clientIf)
	testutil.Run(t, "ip", "-n", client, "route", "add", "203.0.113.0/24", "via", "198.51.100.1")
	testutil.Run(t, "ip", "-n", client, "route", "add", "default", "via", "198.51.100.1")
	want := func() string {
		return testutil.Run(t, "ip", "-n", client, "-4", "addr", "show", "dev", clientIf) + testutil.Run(t, "ip", "-n", client, "-4", "route")
	}
	before := want()
	testutil.RunInNetns(t, client)
	if after := want(); after != before {
		t.Errorf("not rolled back:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

func TestWiredStaticInvalidNotApplied(t *testing.T) {
	b := New(t.TempDir(), Options{})
	bad := netcfg.StaticConfig{Address: netip.MustParsePrefix("192.0.2.20/24"), Gateway: netip.MustParseAddr("198.51.100.1")}
	_, err := b.ConfigureWired(context.Background(), "no-such-link0", netcfg.WiredConfig{Static: &bad}, nil)
	var fe *netcfg.FieldError
	if !errors.As(err, &fe) || fe.Field != "gateway" {
		t.Fatalf("err = %v, want a gateway field error before the link is touched", err)
	}
	_, err = b.ConfigureWired(context.Background(), "no-such-link0", netcfg.WiredConfig{}, nil)
	if !errors.Is(err, netcfg.ErrNoSuchLink) {
		t.Fatalf("err = %v, want ErrNoSuchLink", err)
	}
}
