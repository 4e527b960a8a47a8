package agent_test

import (
	"context"
	"net"
	"strings"
	"testing"

	"github.com/onramp-os/onramp/agent"
	"github.com/onramp-os/onramp/internal/testutil"
	"github.com/onramp-os/onramp/netcfg/proxy"
	"github.com/onramp-os/onramp/onboard/lab"
)

// The agent checks in through the proxy the setup assistant kept in
// /etc/onramp/proxy.env: the real tinyproxy shows the tunnel; with the
// file pointing at a proxy that does not listen, the check-in fails at the
// proxy instead of going direct.
func TestCheckInThroughKeptProxy(t *testing.T) {
	e := enrolled(t, lab.Config{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	log := testutil.Tinyproxy(t, "", "127.0.0.1", port, "agent", "proxy-pass")
	pc := proxy.Config{Host: "127.0.0.1", Port: port, Username: "agent", Password: "proxy-pass"}
	if err := proxy.Write(e.root, pc); err != nil {
		t.Fatal(err)
	}
	if _, err := agent.Once(context.Background(), e.config()); err != nil {
		t.Fatalf("check-in through the proxy: %v\n%s", err, e.logs.String())
	}
	if !strings.Contains(log(), "CONNECT "+e.addr) {
		t.Errorf("tinyproxy shows no tunnel to %s:\n%s", e.addr, log())
	}
	pc.Port = 1 // nothing listens there
	if err := proxy.Write(e.root, pc); err != nil {
		t.Fatal(err)
	}
	if _, err := agent.Once(context.Background(), e.config()); err == nil || !strings.Contains(err.Error()+e.logs.String(), "proxy") {
		t.Errorf("check-in with an unreachable proxy: %v", err)
	}
	if strings.Contains(e.logs.String(), "proxy-pass") {
		t.Error("the proxy password reached the log")
	}
}
