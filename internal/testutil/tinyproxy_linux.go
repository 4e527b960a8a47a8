package testutil

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Tinyproxy runs the real tinyproxy (an HTTP proxy that opens CONNECT
// tunnels) listening on listen:port, inside network namespace ns ("" for
// the test's own), asking for Basic credentials when user is set. It
// returns a function that reads tinyproxy's log so far (connections and
// requests, CONNECT targets). The proxy stops when the test ends.
func Tinyproxy(t testing.TB, ns, listen string, port int, user, password string) (log func() string) {
	t.Helper()
	RequireTools(t, "tinyproxy")
	dir := t.TempDir()
	conf := fmt.Sprintf("Port %d\nListen %s\nTimeout 30\nLogLevel Info\nMaxClients 20\n", port, listen)
	if user != "" {
		conf += fmt.Sprintf("BasicAuth %s %s\n", user, password)
	}
	cf := filepath.Join(dir, "tinyproxy.conf")
	if err := os.WriteFile(cf, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	var buf SyncBuffer
	args := []string{"tinyproxy", "-d", "-c", cf}
	if ns != "" {
		args = append([]string{"ip", "netns", "exec", ns}, args...)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = &buf, &buf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("tinyproxy:\n%s", buf.String())
		}
	})
	if !WaitFor(10*time.Second, func() bool { return strings.Contains(buf.String(), "Accepting connections") }) {
		t.Fatalf("tinyproxy did not start:\n%s", buf.String())
	}
	return buf.String
}
