package main

import (
	"bytes"
	"context"
	"net"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/onramp-os/onramp/internal/testutil"
	"github.com/onramp-os/onramp/onboard"
	"github.com/onramp-os/onramp/onboard/lab"
)

// run runs ums-lab in-process and returns exit code, stdout and stderr.
func run(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(context.Background(), strings.NewReader(stdin), &out, &errb, args)
	return code, out.String(), errb.String()
}

// serve starts "ums-lab serve" on a free port and returns its address and
// log; it stops when the test ends.
func serve(t *testing.T, state string, extra ...string) (string, *testutil.SyncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs := &testutil.SyncBuffer{}
	done := make(chan int)
	go func() {
		done <- Run(ctx, strings.NewReader(""), &bytes.Buffer{}, logs, append([]string{"serve", "--state", state, "--listen", "127.0.0.1:0"}, extra...))
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("serve exited %d:\n%s", code, logs.String())
		}
	})
	re := regexp.MustCompile(`msg=serving addr=(\S+)`)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := re.FindStringSubmatch(logs.String()); m != nil {
			return m[1], logs
		}
	}
	t.Fatalf("serve did not start:\n%s", logs.String())
	return "", nil
}

func lines(s string) []string { return strings.Fields(strings.TrimSpace(s)) }

func TestKeysAndToken(t *testing.T) {
	state := t.TempDir()
	code, out, _ := run(t, "", "keys", "create", "--one-time", "--count", "3", "--state", state)
	keys := lines(out)
	if code != 0 || len(keys) != 3 || keys[0] == keys[1] {
		t.Fatalf("exit %d, keys %q", code, keys)
	}
	code, out, _ = run(t, "Secret-Chosen-Pw9\n", "keys", "create", "--mass", "--password", "-", "--state", state)
	if code != 0 || strings.TrimSpace(out) != "Secret-Chosen-Pw9" {
		t.Fatalf("mass key: exit %d, %q", code, out)
	}
	if code, _, _ = run(t, "Secret-Chosen-Pw9\n", "keys", "create", "--mass", "--password", "-", "--state", state); code != 1 {
		t.Fatalf("duplicate mass password: exit %d, want 1", code)
	}
	code, out, _ = run(t, "", "keys", "create", "--unit", "00:50:56:93:8d:22", "--state", state)
	if code != 0 || len(lines(out)) != 1 {
		t.Fatalf("bound key: exit %d, %q", code, out)
	}
	code, out, _ = run(t, "", "keys", "list", "--state", state)
	if code != 0 || strings.Count(out, "one-time") != 3 || !strings.Contains(out, "005056938D22") {
		t.Fatalf("keys list: exit %d\n%s", code, out)
	}
	for _, k := range append(keys, "Secret-Chosen-Pw9") {
		if strings.Contains(out, k) {
			t.Fatal("keys list shows a secret")
		}
	}
	if code, _, _ := run(t, "", "keys", "disable", "1", "--state", state); code != 0 {
		t.Fatal("disable")
	}
	if _, out, _ := run(t, "", "keys", "list", "--state", state); !strings.Contains(out, "disabled") {
		t.Fatalf("not disabled:\n%s", out)
	}

	st, err := lab.OpenState(state)
	if err != nil {
		t.Fatal(err)
	}
	want := st.Token()
	st.Close()
	if _, out, _ := run(t, "", "token", "--part", "3", "--state", state); strings.TrimSpace(out) != want {
		t.Fatalf("token --part 3 = %q, want %q", out, want)
	}
	if _, out, _ := run(t, "", "token", "--state", state); strings.Count(out, "Part") != 4 || !strings.Contains(out, want) {
		t.Fatalf("token:\n%s", out)
	}
}

func TestUsageErrors(t *testing.T) {
	state := t.TempDir()
	for _, args := range [][]string{
		{"keys", "list"}, // no --state
		{"keys", "create", "--state", state},
		{"keys", "create", "--one-time", "--mass", "--state", state},
		{"keys", "create", "--mass", "--count", "2", "--state", state},
		{"keys", "disable", "x", "--state", state},
		{"token", "--part", "5", "--state", state},
		{"obs", "map", "--state", state},
		{"obs", "map", "--domain", "a@b", "--state", state},
		{"nonsense"},
		{"serve", "--listen", "nope", "--state", state},
	} {
		if code, _, errOut := run(t, "", args...); code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", args, code, errOut)
		}
	}
	if code, _, _ := run(t, "", "devices", "delete", "005056938D22", "--state", state); code != 1 {
		t.Errorf("deleting an unknown device: exit %d, want 1", code)
	}
}

// The whole one-time-password story through the CLI while serve runs.
func TestServeOneTimePassword(t *testing.T) {
	state := t.TempDir()
	addr, logs := serve(t, state)
	_, out, _ := run(t, "", "keys", "create", "--one-time", "--state", state)
	key := strings.TrimSpace(out)
	_, tok, _ := run(t, "", "token", "--part", "3", "--state", state)
	host, port := splitAddr(t, addr)
	req := onboard.ServerRequest{Server: host, Port: port, OTP: key, Token: strings.TrimSpace(tok)}

	// A wrong token: 46, and the key stays unused.
	bad := req
	bad.Token = strings.Repeat("0", 16)
	c := onboard.NewClient(t.TempDir(), onboard.WithUnitID("005056938D22"))
	if _, err := c.ByServer(context.Background(), bad); codeOf(err) != onboard.CodeVerifyChain {
		t.Fatalf("wrong token: %v", err)
	}
	if _, out, _ := run(t, "", "keys", "list", "--state", state); !strings.Contains(out, "active") {
		t.Fatalf("key not active after a wrong token:\n%s", out)
	}
	if _, err := c.ByServer(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if _, out, _ := run(t, "", "devices", "list", "--state", state); !strings.Contains(out, "005056938D22") {
		t.Fatalf("devices list:\n%s", out)
	}
	// The same key again: 38.
	c2 := onboard.NewClient(t.TempDir(), onboard.WithUnitID("005056938D23"))
	if _, err := c2.ByServer(context.Background(), req); codeOf(err) != onboard.CodeEnroll {
		t.Fatalf("key reused: %v", err)
	}
	if code, _, _ := run(t, "", "devices", "delete", "005056938d22", "--state", state); code != 0 {
		t.Fatal("devices delete")
	}
	if _, out, _ := run(t, "", "devices", "list", "--state", state); strings.Contains(out, "005056938D22") {
		t.Fatal("device still listed")
	}
	if strings.Contains(logs.String(), key) {
		t.Fatal("the server log contains a key")
	}
	if !strings.Contains(logs.String(), "msg=enrolled") {
		t.Fatalf("no enrollment in the log:\n%s", logs.String())
	}
}

func TestServeEmailWithSignIn(t *testing.T) {
	state := t.TempDir()
	if code, _, e := run(t, "", "obs", "map", "--domain", "example.com", "--state", state); code != 0 {
		t.Fatal(e)
	}
	if _, out, _ := run(t, "", "obs", "list", "--state", state); !strings.Contains(out, "example.com") {
		t.Fatalf("obs list:\n%s", out)
	}
	addr, _ := serve(t, state, "--poll-interval", "1s")
	st, err := lab.OpenState(state)
	if err != nil {
		t.Fatal(err)
	}
	pool := st.RootPool()
	st.Close()
	c := onboard.NewClient(t.TempDir(), onboard.WithUnitID("005056938D22"), onboard.WithService(lab.ServiceURL(addr), pool))
	approved := make(chan int, 1)
	_, err = c.ByEmail(context.Background(), "jane@example.com", func(dc onboard.DeviceCode) {
		go func() {
			code, _, _ := run(t, "", "obs", "approve", dc.UserCode, "--state", state)
			approved <- code
		}()
	})
	if err != nil {
		t.Fatal(err)
	}
	if code := <-approved; code != 0 {
		t.Fatalf("obs approve exited %d", code)
	}
	if _, out, _ := run(t, "", "devices", "list", "--state", state); !strings.Contains(out, "jane@example.com") {
		t.Fatalf("devices list lacks who onboarded:\n%s", out)
	}
}

func codeOf(err error) onboard.Code {
	c, _ := onboard.CodeOf(err)
	return c
}

func splitAddr(t *testing.T, addr string) (string, int) {
	t.Helper()
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		t.Fatal(err)
	}
	return host, port
}
