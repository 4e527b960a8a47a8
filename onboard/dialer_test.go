package onboard_test

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onramp-os/onramp/internal/testutil"
	"github.com/onramp-os/onramp/onboard"
	"github.com/onramp-os/onramp/onboard/lab"
)

// mapDialer resolves name:port to target and records the addresses asked
// for; every other address is unknown.
type mapDialer struct {
	name, target string
	mu           sync.Mutex
	asked        []string
}

func (d *mapDialer) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	d.mu.Lock()
	d.asked = append(d.asked, addr)
	d.mu.Unlock()
	if addr != d.name {
		return nil, &net.OpError{Op: "dial", Net: network, Err: &net.DNSError{Err: "no such host", Name: addr, IsNotFound: true}}
	}
	var nd net.Dialer
	return nd.DialContext(ctx, network, d.target)
}

// An in-process lab with a fixed root, a chosen one-time key, an extra
// server name and self-approving sign-in, reached under that name through
// WithDialer: both flows enroll, the TLS name checked is the name asked
// for, and nothing else is dialled.
func TestWithDialerReachesAnInProcessLabByName(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	root := testutil.SelfSigned(t, "fixed test root", true)
	const name = "ums.corp.test"
	srv, addr, err := lab.StartInProcess(ctx, t.TempDir(), lab.Config{
		Hosts: []string{name}, RootCA: root, PollInterval: time.Second, AutoApprove: 10 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); <-srv.Done() }()
	if srv.Token() != onboard.FingerprintOf(root.Certificate[0]).Part(3) {
		t.Fatalf("the lab's token %s is not the given root's", srv.Token())
	}
	if _, _, err := srv.CreateKey(ctx, lab.KeySpec{Kind: lab.KindOneTime, Password: "CHOSEN-KEY-1"}); err != nil {
		t.Fatal(err)
	}
	if err := srv.Map(ctx, lab.Mapping{Kind: "domain", Value: "corp.test", SignIn: true}); err != nil {
		t.Fatal(err)
	}
	d := &mapDialer{name: name + ":8443", target: addr}
	service := lab.ServiceURL(name + ":8443")

	c, _ := newClient(t, 1, onboard.WithDialer(d.dial))
	req := onboard.ServerRequest{Server: name, Port: 8443, OTP: "CHOSEN-KEY-1", Token: srv.Token()}
	res, err := c.ByServer(ctx, req)
	if err != nil {
		t.Fatalf("ByServer: %v", err)
	}
	if res.Server != name || res.Port != 8443 {
		t.Errorf("result %+v", res)
	}
	wrong := req
	wrong.Port = 9443
	c2, _ := newClient(t, 2, onboard.WithDialer(d.dial))
	_, err = c2.ByServer(ctx, wrong)
	wantCode(t, err, onboard.CodeTCPConnect)

	var shown onboard.DeviceCode
	c3, _ := newClient(t, 3, onboard.WithDialer(d.dial), onboard.WithService(service, srv.RootPool()))
	res, err = c3.ByEmail(ctx, "ann@corp.test", func(dc onboard.DeviceCode) { shown = dc })
	if err != nil {
		t.Fatalf("ByEmail (approved by itself): %v", err)
	}
	if res.Server != name || !strings.HasPrefix(shown.VerificationURI, "https://"+name+":8443/") {
		t.Errorf("result %+v, sign-in at %s", res, shown.VerificationURI)
	}
	for _, a := range d.asked {
		if a != name+":8443" && a != name+":9443" {
			t.Errorf("dialled %s", a)
		}
	}
}

// The TLS server name stays the name asked for: a lab whose certificate
// lacks it fails verification (46) even though the dialer reaches it.
func TestWithDialerKeepsTheServerName(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, addr, err := lab.StartInProcess(ctx, t.TempDir(), lab.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); <-srv.Done() }()
	key := ""
	if _, key, err = srv.CreateKey(ctx, lab.KeySpec{Kind: lab.KindOneTime}); err != nil {
		t.Fatal(err)
	}
	d := &mapDialer{name: "unnamed.corp.test:8443", target: addr}
	c, _ := newClient(t, 1, onboard.WithDialer(d.dial))
	_, err = c.ByServer(ctx, onboard.ServerRequest{Server: "unnamed.corp.test", Port: 8443, OTP: key, Token: srv.Token()})
	wantCode(t, err, onboard.CodeVerifyChain)
	if devs, _ := srv.Devices(ctx); len(devs) != 0 {
		t.Errorf("enrolled over a connection to the wrong name: %+v", devs)
	}
}
