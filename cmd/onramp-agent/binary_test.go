package main

import (
	"bufio"
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/onramp-os/onramp/internal/testutil"
	"github.com/onramp-os/onramp/license"
	"github.com/onramp-os/onramp/onboard"
)

// The built binaries as separate processes: ums-lab serves, the device
// root is enrolled by the onboarding client, ums-lab assigns a license,
// onramp-agent --once receives it; revoked it exits 3, with the server
// gone 1; the agent's loop stops cleanly on SIGTERM.
func TestBinaryAgentAgainstServe(t *testing.T) {
	lab, agent := testutil.Binary(t, "ums-lab"), testutil.Binary(t, "onramp-agent")
	state := t.TempDir()
	srv := exec.Command(lab, "serve", "--listen", "127.0.0.1:0", "--state", state)
	stderr, err := srv.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = srv.Process.Kill(); _ = srv.Wait() }()
	addrCh := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`msg=serving addr=(\S+)`)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				addrCh <- m[1]
			}
		}
	}()
	var addr string
	select {
	case addr = <-addrCh:
	case <-time.After(20 * time.Second):
		t.Fatal("ums-lab serve did not start")
	}
	otp := strings.TrimSpace(testutil.Run(t, lab, "keys", "create", "--one-time", "--state", state))
	token := strings.TrimSpace(testutil.Run(t, lab, "token", "--part", "3", "--state", state))
	host, port, _ := net.SplitHostPort(addr)
	p, _ := strconv.Atoi(port)
	root := t.TempDir()
	if _, err := onboard.NewClient(root, onboard.WithUnitID(unit)).ByServer(context.Background(),
		onboard.ServerRequest{Server: host, Port: p, OTP: otp, Token: token}); err != nil {
		t.Fatal(err)
	}
	assigned, err := exec.Command(lab, "licenses", "assign", "--unit", unit, "--product", "Kiosk", "--days", "7", "--state", state).Output()
	if err != nil {
		t.Fatal(err)
	}
	id := strings.TrimSpace(string(assigned))

	exitOf := func(args ...string) (int, string) {
		t.Helper()
		out, err := exec.Command(agent, args...).CombinedOutput()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode(), string(out)
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0, string(out)
	}
	if code, out := exitOf("--once", "--root", root); code != 0 || !strings.Contains(out, "Kiosk, 7 days left") {
		t.Fatalf("once: %d\n%s", code, out)
	}
	if _, err := os.Stat(filepath.Join(root, license.Dir, "ums-"+id+".lic")); err != nil {
		t.Fatal(err)
	}

	// The loop: checks in at start, stops on SIGTERM with exit 0.
	loop := exec.Command(agent, "--root", root, "--interval", "1h")
	logs, _ := loop.StderrPipe()
	if err := loop.Start(); err != nil {
		t.Fatal(err)
	}
	seen := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(logs)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "msg=\"checked in\"") && strings.Contains(sc.Text(), "licenses=1") {
				seen <- true
			}
		}
	}()
	select {
	case <-seen:
	case <-time.After(20 * time.Second):
		t.Fatal("the agent's loop did not check in")
	}
	_ = loop.Process.Signal(syscall.SIGTERM)
	if err := loop.Wait(); err != nil {
		t.Fatalf("the loop did not stop cleanly: %v", err)
	}

	testutil.Run(t, lab, "devices", "revoke", unit, "--state", state)
	if code, out := exitOf("--once", "--root", root); code != 3 || !strings.Contains(out, "revoked") {
		t.Fatalf("revoked: %d\n%s", code, out)
	}
	_ = srv.Process.Kill()
	_ = srv.Wait()
	if code, out := exitOf("--once", "--root", root); code != 1 || !strings.Contains(out, "connect to "+addr) {
		t.Fatalf("unreachable: %d\n%s", code, out)
	}
}
