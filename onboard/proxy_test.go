//go:build linux

package onboard_test

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onramp-os/onramp/internal/testutil"
	"github.com/onramp-os/onramp/netcfg/proxy"
	"github.com/onramp-os/onramp/onboard"
	"github.com/onramp-os/onramp/onboard/lab"
)

// freePort is a TCP port on the loopback nobody listens on.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// EST enrollment and the Onboarding Service's e-mail flow go through the
// real tinyproxy (CONNECT, Basic credentials) when a proxy is set: the
// only connections opened are to the proxy, and the proxy's log shows the
// tunnels to the lab. A wrong proxy password is a connection failure
// (code 45) that names the proxy.
func TestOnboardingThroughTinyproxy(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, addr, err := lab.StartInProcess(ctx, t.TempDir(), lab.Config{PollInterval: time.Second, AutoApprove: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); <-srv.Done() }()
	_, key, err := srv.CreateKey(ctx, lab.KeySpec{Kind: lab.KindOneTime})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Map(ctx, lab.Mapping{Kind: "domain", Value: "corp.test", SignIn: true}); err != nil {
		t.Fatal(err)
	}
	pport := freePort(t)
	log := testutil.Tinyproxy(t, "", "127.0.0.1", pport, "alice", "proxy-pass")
	pc := proxy.Config{Host: "127.0.0.1", Port: pport, Username: "alice", Password: "proxy-pass"}
	var mu sync.Mutex
	var asked []string
	record := func(ctx context.Context, network, a string) (net.Conn, error) {
		mu.Lock()
		asked = append(asked, a)
		mu.Unlock()
		var d net.Dialer
		return d.DialContext(ctx, network, a)
	}
	via := func(c proxy.Config) onboard.Option {
		return onboard.WithProxy(func() (proxy.Config, error) { return c, nil })
	}
	host, ps, _ := net.SplitHostPort(addr)
	port, _ := strconv.Atoi(ps)

	c, _ := newClient(t, 1, onboard.WithDialer(record), via(pc))
	if _, err := c.ByServer(ctx, onboard.ServerRequest{Server: host, Port: port, OTP: key, Token: srv.Token()}); err != nil {
		t.Fatalf("ByServer through the proxy: %v", err)
	}
	c2, _ := newClient(t, 2, onboard.WithDialer(record), via(pc), onboard.WithService(lab.ServiceURL(addr), srv.RootPool()))
	if _, err := c2.ByEmail(ctx, "ann@corp.test", func(onboard.DeviceCode) {}); err != nil {
		t.Fatalf("ByEmail through the proxy: %v", err)
	}
	for _, a := range asked {
		if a != "127.0.0.1:"+strconv.Itoa(pport) {
			t.Errorf("dialled %s, not the proxy", a)
		}
	}
	if n := strings.Count(log(), "CONNECT "+addr); n < 2 {
		t.Errorf("tinyproxy shows %d tunnels to %s:\n%s", n, addr, log())
	}

	wrong := pc
	wrong.Password = "not-the-pass"
	c3, _ := newClient(t, 3, via(wrong))
	_, err = c3.ByServer(ctx, onboard.ServerRequest{Server: host, Port: port, OTP: key, Token: srv.Token()})
	e := wantCode(t, err, onboard.CodeTCPConnect)
	if !errors.Is(err, proxy.ErrProxy) || !strings.Contains(e.Reason+e.Err.Error(), "refused the user name or password") ||
		strings.Contains(e.Reason+e.Err.Error(), "not-the-pass") {
		t.Errorf("wrong proxy password: %s: %v", e.Reason, e.Err)
	}
}
