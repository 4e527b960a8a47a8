package host

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/onramp-os/onramp/internal/testutil"
	"github.com/onramp-os/onramp/netcfg"
)

// leaseExpiry reads the expiry (seconds since the epoch) of the only lease
// in a dnsmasq lease file, 0 when there is none.
func leaseExpiry(t *testing.T, path string) int64 {
	data, _ := os.ReadFile(path)
	f := strings.Fields(string(data))
	if len(f) == 0 {
		return 0
	}
	n, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil {
		t.Fatalf("lease file %s: %q", path, data)
	}
	return n
}

// TestLeaseRenewedAtT1 gets a lease from a dnsmasq that sets T1 to 2s and
// T2 to 4s (of a 2-minute lease, dnsmasq's shortest) and waits for the
// renewal: dnsmasq's lease file, the independent judge, shows the lease
// extended while the address stays. This dnsmasq checks that an address
// is free (an ICMP echo, 3 s) before offering it, like dnsmasq does by
// default.
func TestLeaseRenewedAtT1(t *testing.T) {
	if testutil.NetnsChild(t) {
		leases := os.Getenv("ONRAMP_TEST_LEASES")
		b, _ := testBackend(t)
		defer b.Close()
		start := time.Now()
		st, err := b.ConfigureWired(context.Background(), clientIf, netcfg.WiredConfig{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("lease %s in %s", st.Address, time.Since(start).Round(time.Millisecond))
		first := leaseExpiry(t, leases)
		if !testutil.WaitFor(8*time.Second, func() bool { return leaseExpiry(t, leases) > first }) {
			t.Fatalf("the lease was not renewed (expiry %d)", first)
		}
		assertKernel(t, st.Address, st.Gateway)
		if now, _ := b.Status(context.Background()); now.Address != st.Address || now.TimeZone != lanZone {
			t.Errorf("Status after the renewal %+v", now)
		}
		return
	}
	client, server := lan(t, false)
	leases, _ := startDnsmasq(t, server, "--interface="+serverIf, "--dhcp-range=192.0.2.100,192.0.2.150,255.255.255.0,2m",
		"--dhcp-option=101,"+lanZone, "--dhcp-option=option:T1,2", "--dhcp-option=option:T2,4")
	testutil.RunInNetns(t, client, "ONRAMP_TEST_LEASES="+leases)
}

// TestLeaseRebindAndExpiry runs a real lease through its later states
// early (its times moved forward): past T2 it is rebound by broadcast, and
// dnsmasq's lease file shows it extended; with the server gone, renewing
// and rebinding find no one, at expiry the address goes, and when the
// server is back DHCP starts over and the link gets a lease again.
func TestLeaseRebindAndExpiry(t *testing.T) {
	if testutil.NetnsChild(t) {
		server := os.Getenv("ONRAMP_TEST_SERVER")
		args := []string{"--no-ping", "--interface=" + serverIf, "--dhcp-range=192.0.2.100,192.0.2.150,255.255.255.0,2m"}
		leases, stop := startDnsmasq(t, server, args...)
		b, _ := testBackend(t)
		defer b.Close()
		cfg, err := b.dhcp(context.Background(), clientIf)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.applyLease(clientIf, cfg); err != nil {
			t.Fatal(err)
		}
		first := leaseExpiry(t, leases)
		// A second later: the lease file counts in seconds.
		t2 := time.Now().Add(1100 * time.Millisecond)
		b.replaceKeeper(clientIf, &heldLease{cfg: cfg, renew: t2, rebind: t2, expire: t2.Add(2 * time.Minute)})
		if !testutil.WaitFor(5*time.Second, func() bool { return leaseExpiry(t, leases) > first }) {
			t.Fatalf("not rebound (expiry %d)", first)
		}

		stop()
		now := time.Now()
		b.replaceKeeper(clientIf, &heldLease{cfg: cfg, renew: now, rebind: now.Add(time.Second), expire: now.Add(2 * time.Second)})
		l, err := netlink.LinkByName(clientIf)
		if err != nil {
			t.Fatal(err)
		}
		addrs := func() []string {
			got, _ := linkAddrs(l)
			var s []string
			for _, a := range got {
				s = append(s, a.String())
			}
			return s
		}
		if !testutil.WaitFor(6*time.Second, func() bool { return len(addrs()) == 0 }) {
			t.Fatalf("the address outlived its lease: %v", addrs())
		}
		startDnsmasq(t, server, args...)
		if !testutil.WaitFor(10*time.Second, func() bool { return len(addrs()) == 1 }) {
			t.Fatal("no new lease after the server came back")
		}
		defs, err := defaultRoutes()
		if err != nil || len(defs) != 1 || !defs[0].Gw.Equal(cfg.Gateway.AsSlice()) {
			t.Errorf("default routes %v, %v", defs, err)
		}
		t.Logf("address before %s, after %v", cfg.Address, addrs())
		return
	}
	client, server := lan(t, false)
	testutil.RunInNetns(t, client, "ONRAMP_TEST_SERVER="+server)
}
