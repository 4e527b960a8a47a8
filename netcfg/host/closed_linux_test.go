package host

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/onramp-os/onramp/internal/testutil"
	"github.com/onramp-os/onramp/netcfg"
	"github.com/onramp-os/onramp/onboard/lab"
)

// A closed company network: dnsmasq hands out addresses and answers for
// corp.example only (no upstream: it refuses the root and every other
// name), and the UMS (the real ums-lab server) listens on 192.0.2.1:8443.
// The network step must pass there: REFUSED is an answer, and the check
// that matters is the UMS. Each way of failing names its part: the
// server's name, the server, the name servers, the gateway.

const (
	umsName = "ums.corp.example"
	umsPort = 8443
)

func TestWiredClosedNetwork(t *testing.T) {
	if testutil.NetnsChild(t) {
		ctx := context.Background()
		b := New(t.TempDir(), Options{DHCPTimeout: 500 * time.Millisecond, DHCPTries: 3, CheckTimeout: 2 * time.Second,
			CarrierWait: 3 * time.Second, RATimeout: 2 * time.Second})
		defer b.Close()

		// Without a target: the gateway answers, the name server answers
		// (REFUSED) for the root.
		st, err := b.ConfigureWired(ctx, clientIf, netcfg.WiredConfig{}, nil)
		if err != nil {
			t.Fatalf("no target: %v", err)
		}
		if !st.Online || !netip.MustParsePrefix("192.0.2.0/24").Contains(st.Address.Addr()) {
			t.Fatalf("status %+v", st)
		}
		// The resolver really is closed (asked now that the link has an
		// address): the root and foreign names are
		// REFUSED, the internal zone answers.
		for _, c := range []struct {
			name string
			ty   dnsmessage.Type
			want dnsmessage.RCode
		}{
			{".", dnsmessage.TypeNS, dnsmessage.RCodeRefused},
			{"example.com.", dnsmessage.TypeA, dnsmessage.RCodeRefused},
			{umsName + ".", dnsmessage.TypeA, dnsmessage.RCodeSuccess},
			{"nope.corp.example.", dnsmessage.TypeA, dnsmessage.RCodeNameError},
		} {
			if got := judgeRcode(t, "192.0.2.1", c.name, c.ty); got != c.want {
				t.Fatalf("%s %s: rcode %v, want %v", c.name, c.ty, got, c.want)
			}
		}
		// With the UMS as the target.
		b.SetTarget(netcfg.Target{Host: umsName, Port: umsPort})
		if _, err := b.ConfigureWired(ctx, clientIf, netcfg.WiredConfig{}, nil); err != nil {
			t.Fatalf("target %s: %v", umsName, err)
		}
		// Check diagnoses the connection there is, as onboarding does
		// after a failure.
		if err := b.Check(ctx, netcfg.Target{Host: umsName, Port: umsPort}); err != nil {
			t.Errorf("Check(UMS): %v", err)
		}
		if err := b.Check(ctx, netcfg.Target{Host: "ums.corp.example.net", Port: umsPort}); !errors.Is(err, netcfg.ErrServerName) {
			t.Errorf("Check(foreign name): %v, want ErrServerName", err)
		}
		if err := b.Check(ctx, netcfg.Target{Host: "192.0.2.1", Port: umsPort + 1}); !errors.Is(err, netcfg.ErrServer) {
			t.Errorf("Check(closed port): %v, want ErrServer", err)
		}

		fails := []struct {
			name   string
			target netcfg.Target
			static string // gateway, name server
			dns    string
			want   error
		}{
			{"unknown name", netcfg.Target{Host: "nope.corp.example", Port: umsPort}, "", "", netcfg.ErrServerName},
			{"foreign name", netcfg.Target{Host: "ums.example.com", Port: umsPort}, "", "", netcfg.ErrServerName},
			{"closed port", netcfg.Target{Host: umsName, Port: umsPort + 1}, "", "", netcfg.ErrServer},
			{"silent name server", netcfg.Target{Host: umsName, Port: umsPort}, "192.0.2.1", "192.0.2.53", netcfg.ErrDNS},
			{"silent gateway", netcfg.Target{Host: "203.0.113.10", Port: umsPort}, "192.0.2.254", "192.0.2.1", netcfg.ErrGateway},
		}
		for _, f := range fails {
			b.SetTarget(f.target)
			var c netcfg.WiredConfig
			if f.static != "" {
				s, err := netcfg.ParseStatic("192.0.2.20/24", "", f.static, "", []string{f.dns})
				if err != nil {
					t.Fatal(err)
				}
				c.Static, c.IPv6 = &s, netcfg.IPv6Off
			}
			_, err := b.ConfigureWired(ctx, clientIf, c, nil)
			if !errors.Is(err, f.want) {
				t.Errorf("%s: err = %v, want %v", f.name, err, f.want)
			}
			for _, other := range []error{netcfg.ErrServerName, netcfg.ErrServer, netcfg.ErrDNS, netcfg.ErrGateway} {
				if other != f.want && errors.Is(err, other) {
					t.Errorf("%s: err = %v is also %v", f.name, err, other)
				}
			}
		}
		return
	}
	client, server := lan(t, false)
	startDnsmasq(t, server, "--interface="+serverIf, "--dhcp-range=192.0.2.100,192.0.2.150,255.255.255.0,1h",
		"--local=/corp.example/", "--host-record="+umsName+",192.0.2.1")
	serveUMS(t, server, "192.0.2.1:8443")
	testutil.RunInNetns(t, client)
}

// judgeRcode asks server for name over UDP, built here with dnsmessage
// and nothing of the backend's, and returns the answer's rcode.
func judgeRcode(t *testing.T, server, name string, ty dnsmessage.Type) dnsmessage.RCode {
	t.Helper()
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: 4711, RecursionDesired: true})
	if err := b.StartQuestions(); err != nil {
		t.Fatal(err)
	}
	if err := b.Question(dnsmessage.Question{Name: dnsmessage.MustNewName(name), Type: ty, Class: dnsmessage.ClassINET}); err != nil {
		t.Fatal(err)
	}
	q, err := b.Finish()
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("udp", net.JoinHostPort(server, "53"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := conn.Write(q); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1500)
	n, err := conn.Read(buf)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var m dnsmessage.Message
	if err := m.Unpack(buf[:n]); err != nil || m.ID != 4711 {
		t.Fatalf("%s: answer %v, %v", name, m.Header, err)
	}
	return m.RCode
}

// serveUMS serves a fresh ums-lab on addr inside namespace ns until the
// test ends: the listening socket is opened from a thread moved into ns.
func serveUMS(t *testing.T, ns, addr string) {
	t.Helper()
	st, err := lab.OpenState(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := lab.NewServer(st, lab.Config{Hosts: []string{umsName}})
	if err != nil {
		t.Fatal(err)
	}
	ln := testutil.ListenInNetns(t, ns, addr)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ctx, ln)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		_ = st.Close()
	})
}
