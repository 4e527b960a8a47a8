package host

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
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
		startDnsmasq(t, server, "--interface="+serverIf, "--dhcp-range=192.0.2.100,192.0.2.150,255.255.255.0,1h",
			"--dhcp-option=101,"+lanZone)
	}
	return client, server
}

// startDnsmasq runs the real dnsmasq in namespace ns with args (interfaces,
// ranges) added to the common ones: authoritative DHCP with the domain
// (15), dnsmasq's own address as router and name server on each interface,
// and DNS knowing lanProbe. It returns the path of the lease file and a
// function that stops dnsmasq before the test ends.
func startDnsmasq(t *testing.T, ns string, args ...string) (leases string, stop func()) {
	t.Helper()
	testutil.RequireTools(t, "dnsmasq")
	dir := t.TempDir()
	cmd := exec.Command("ip", append([]string{"netns", "exec", ns, "dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null",
		"--no-resolv", "--no-hosts", "--user=root", "--bind-interfaces", "--dhcp-authoritative",
		"--dhcp-option=option:domain-name,lab.example", "--host-record=" + lanProbe + ",192.0.2.1",
		"--dhcp-leasefile=" + filepath.Join(dir, "leases"), "--pid-file=" + filepath.Join(dir, "pid"),
		"--log-facility=" + filepath.Join(dir, "log"), "--log-dhcp"}, args...)...)
	out, err := os.Create(filepath.Join(dir, "out"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	stop = func() { once.Do(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }) }
	t.Cleanup(func() {
		stop()
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
			return filepath.Join(dir, "leases"), stop
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("dnsmasq did not start")
	return "", nil
}

// testBackend is the backend as the child runs it, with short timeouts.
func testBackend(t *testing.T) (*Backend, string) {
	root := t.TempDir()
	return New(root, Options{DHCPTimeout: 500 * time.Millisecond, DHCPTries: 3, CheckTimeout: 2 * time.Second,
		CarrierWait: 3 * time.Second, ProbeName: lanProbe}), root
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
