package main

import (
	"bufio"
	"context"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/onramp-os/onramp/internal/testutil"
	"github.com/onramp-os/onramp/onboard"
)

// The built binary in separate processes: serve holds the database while
// other invocations create keys and list devices (SQLite in WAL mode), and
// SIGTERM stops it cleanly.
func TestBinaryServeAndAdminProcesses(t *testing.T) {
	bin := testutil.Binary(t, "ums-lab")
	state := t.TempDir()
	srv := exec.Command(bin, "serve", "--listen", "127.0.0.1:0", "--state", state)
	stderr, err := srv.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = srv.Process.Kill() }()
	addrCh := make(chan string, 1)
	logs := make(chan string, 1000)
	go func() {
		re := regexp.MustCompile(`msg=serving addr=(\S+)`)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				addrCh <- m[1]
			}
			select {
			case logs <- sc.Text():
			default:
			}
		}
		close(logs)
	}()
	var addr string
	select {
	case addr = <-addrCh:
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not start")
	}
	key := strings.TrimSpace(testutil.Run(t, bin, "keys", "create", "--one-time", "--state", state))
	token := strings.TrimSpace(testutil.Run(t, bin, "token", "--part", "3", "--state", state))
	host, port := splitAddr(t, addr)
	c := onboard.NewClient(t.TempDir(), onboard.WithUnitID("005056938D22"))
	if _, err := c.ByServer(context.Background(), onboard.ServerRequest{Server: host, Port: port, OTP: key, Token: token}); err != nil {
		t.Fatal(err)
	}
	if out := testutil.Run(t, bin, "devices", "list", "--state", state); !strings.Contains(out, "005056938D22") {
		t.Fatalf("devices list:\n%s", out)
	}
	if err := srv.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := srv.Wait(); err != nil {
		t.Fatalf("serve after SIGTERM: %v", err)
	}
	for line := range logs {
		if strings.Contains(line, key) {
			t.Fatal("the server log contains the key")
		}
	}
}
