package host

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/onramp-os/onramp/internal/testutil"
	"github.com/onramp-os/onramp/netcfg"
)

// IPv6 networks as dnsmasq serves them (--enable-ra): IPv6 only with
// router advertisements and stateful DHCPv6, SLAAC with stateless DHCPv6,
// and dual stack. The device connects with the default configuration
// (dual stack) in each; the UMS, named through the network's name server,
// is reached over IPv6 where the network has no IPv4.

func TestWiredIPv6(t *testing.T) {
	cases := []struct {
		name   string
		prefix string // the LAN's /64
		ranges []string
		v4     bool
		slaac  bool   // the address comes from SLAAC (else DHCPv6, a /128)
		rdnss  bool   // the only name server is the router's link-local one, from RDNSS
		asked  string // what dnsmasq logs for the device's DHCPv6 question
	}{
		{name: "only-stateful", prefix: "2001:db8:1::/64", ranges: []string{"--dhcp-range=2001:db8:1::100,2001:db8:1::1ff,64,1h"}, asked: "DHCPREQUEST("},
		{name: "slaac-stateless", prefix: "2001:db8:2::/64", ranges: []string{"--dhcp-range=2001:db8:2::,ra-stateless,64,1h"}, slaac: true,
			asked: "DHCPINFORMATION-REQUEST("},
		// No DHCPv6 at all (ra-only: neither M nor O): the name server
		// comes from the advertisement's RDNSS option alone.
		{name: "slaac-rdnss", prefix: "2001:db8:7::/64", ranges: []string{"--dhcp-range=2001:db8:7::,ra-only,64,1h"}, slaac: true, rdnss: true},
		{name: "dual-stack", prefix: "2001:db8:3::/64", v4: true, ranges: []string{
			"--dhcp-range=2001:db8:3::100,2001:db8:3::1ff,64,1h", "--dhcp-range=192.0.2.100,192.0.2.150,255.255.255.0,1h"},
			asked: "DHCPREQUEST("},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			prefix := netip.MustParsePrefix(c.prefix)
			router := prefix.Addr().Next()
			if testutil.NetnsChild(t) {
				// DHCPv4 keeps its default timeouts: on an IPv6 network it
				// is given up two tries (6 s) after IPv6 works.
				b := New(t.TempDir(), Options{CheckTimeout: 2 * time.Second,
					CarrierWait: 3 * time.Second})
				defer b.Close()
				b.SetTarget(netcfg.Target{Host: umsName, Port: umsPort})
				st, err := b.ConfigureWired(context.Background(), clientIf, netcfg.WiredConfig{}, nil)
				if err != nil {
					t.Fatalf("dual stack by default: %v", err)
				}
				if st.Address.IsValid() != c.v4 {
					t.Errorf("IPv4 address %s, want one: %v", st.Address, c.v4)
				}
				var in []netip.Prefix
				for _, a := range st.Address6 {
					if prefix.Contains(a.Addr()) {
						in = append(in, a)
					}
				}
				switch {
				case len(in) == 0:
					t.Errorf("IPv6 addresses %v, none in %s", st.Address6, prefix)
				case c.slaac && in[0].Bits() != 64:
					t.Errorf("SLAAC address %s, want a /64", in[0])
				case !c.slaac && (in[0].Bits() != 128 || !between(in[0].Addr(), prefix, 0x100, 0x1ff)):
					t.Errorf("DHCPv6 address %s, want a /128 from the range", in[0])
				}
				if !st.Gateway6.IsLinkLocalUnicast() {
					t.Errorf("IPv6 gateway %s, want the router's link-local address", st.Gateway6)
				}
				switch {
				case c.rdnss && (len(st.DNS) != 1 || !st.DNS[0].IsLinkLocalUnicast() || st.DNS[0].Zone() != clientIf):
					t.Errorf("name servers %v, want the router's link-local one on %s", st.DNS, clientIf)
				case !c.rdnss && !slices.Contains(st.DNS, router):
					t.Errorf("name servers %v lack %s", st.DNS, router)
				}
				// The status as read back from the kernel.
				got, err := b.Status(context.Background())
				if err != nil || !got.Online || !slices.Equal(got.Address6, st.Address6) || !got.Gateway6.IsLinkLocalUnicast() {
					t.Errorf("Status() = %+v, %v", got, err)
				}
				return
			}
			client, server := lan(t, false)
			testutil.Run(t, "ip", "-n", server, "addr", "add", netip.PrefixFrom(router, 64).String(), "dev", serverIf, "nodad")
			// The router forwards: dnsmasq advertises a host that does not
			// as no default router (lifetime 0) after its first
			// advertisements.
			testutil.InNetns(t, server, "sysctl", "-qw", "net.ipv6.conf.all.forwarding=1")
			args := append([]string{"--interface=" + serverIf, "--enable-ra", "--ra-param=" + serverIf + ",high,3,1800",
				"--local=/corp.example/", "--host-record=" + umsName + "," + router.String()}, c.ranges...)
			leases, _ := startDnsmasq(t, server, args...)
			serveUMS(t, server, "["+router.String()+"]:8443")
			testutil.RunInNetns(t, client)
			// dnsmasq as judge of the DHCPv6 exchange (stateful: a Request
			// for an address; stateless: an Information-Request; RA only:
			// none).
			log, _ := os.ReadFile(filepath.Join(filepath.Dir(leases), "log"))
			v6 := strings.Contains(string(log), "DHCPSOLICIT(") || strings.Contains(string(log), "DHCPINFORMATION-REQUEST(")
			if c.asked != "" && !strings.Contains(string(log), c.asked) || c.asked == "" && v6 {
				t.Errorf("dnsmasq log, want %q:\n%s", c.asked, log)
			}
			// The kernel as judge: the address and the default route.
			addrs := testutil.Run(t, "ip", "-n", client, "-6", "addr", "show", "dev", clientIf, "scope", "global")
			if !strings.Contains(addrs, strings.TrimSuffix(prefix.Masked().Addr().String(), "::")) {
				t.Errorf("no address in %s:\n%s", prefix, addrs)
			}
			if r := testutil.Run(t, "ip", "-n", client, "-6", "route", "show", "default"); !strings.Contains(r, "via fe80:") {
				t.Errorf("no IPv6 default route via the router: %q", r)
			}
		})
	}
}

// TestWiredIPv6Static configures a static IPv6 address, gateway and name
// server with IPv4 off on a network whose router advertises another
// prefix: the advertisement must not add to what was chosen, and the UMS
// answers over IPv6.
func TestWiredIPv6Static(t *testing.T) {
	if testutil.NetnsChild(t) {
		b := New(t.TempDir(), Options{CheckTimeout: 2 * time.Second, CarrierWait: 3 * time.Second})
		defer b.Close()
		b.SetTarget(netcfg.Target{Host: umsName, Port: umsPort})
		s6, err := netcfg.ParseStatic6("2001:db8:4::20/64", "2001:db8:4::1", []string{"2001:db8:4::1"})
		if err != nil {
			t.Fatal(err)
		}
		st, err := b.ConfigureWired(context.Background(), clientIf,
			netcfg.WiredConfig{NoIPv4: true, IPv6: netcfg.IPv6Static, Static6: &s6}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(st.Address6, s6.Address) || st.Address.IsValid() {
			t.Errorf("status %+v, want only %s", st, s6.Address)
		}
		if ra, _ := os.ReadFile(procSysNet + "/ipv6/conf/" + clientIf + "/accept_ra"); strings.TrimSpace(string(ra)) != "0" {
			t.Errorf("accept_ra = %q, want 0 for a static configuration", ra)
		}
		return
	}
	client, server := lan(t, false)
	testutil.Run(t, "ip", "-n", server, "addr", "add", "2001:db8:4::1/64", "dev", serverIf, "nodad")
	testutil.Run(t, "ip", "-n", server, "addr", "add", "2001:db8:5::1/64", "dev", serverIf, "nodad")
	startDnsmasq(t, server, "--interface="+serverIf, "--enable-ra", "--dhcp-range=2001:db8:5::,ra-only,64,1h",
		"--local=/corp.example/", "--host-record="+umsName+",2001:db8:4::1")
	serveUMS(t, server, "[2001:db8:4::1]:8443")
	// The kernel takes the advertised prefix before the backend runs, as
	// on a device plugged in before its setup: the static configuration
	// must replace it.
	if !testutil.WaitFor(10*time.Second, func() bool {
		out, _ := testutil.NetnsCommand(client, "ip", "-6", "addr", "show", "dev", clientIf).Output()
		return strings.Contains(string(out), "2001:db8:5:")
	}) {
		t.Fatal("the kernel formed no SLAAC address from the advertisement")
	}
	testutil.RunInNetns(t, client)
	addrs := testutil.Run(t, "ip", "-n", client, "-6", "addr", "show", "dev", clientIf, "scope", "global")
	if !strings.Contains(addrs, "2001:db8:4::20/64") || strings.Contains(addrs, "2001:db8:5:") {
		t.Errorf("addresses:\n%s", addrs)
	}
	if r := testutil.Run(t, "ip", "-n", client, "-6", "route", "show", "default"); !strings.Contains(r, "via 2001:db8:4::1") {
		t.Errorf("default route %q, want via 2001:db8:4::1", r)
	}
}

// between reports whether a is prefix's address lo..hi (last 16 bits).
func between(a netip.Addr, prefix netip.Prefix, lo, hi uint16) bool {
	b := a.As16()
	v := uint16(b[14])<<8 | uint16(b[15])
	return prefix.Contains(a) && v >= lo && v <= hi
}
