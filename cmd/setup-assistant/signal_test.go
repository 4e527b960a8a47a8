package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/onramp-os/onramp/internal/testutil"
)

// TestSignalsEndThePromptsAndRemoveTheDemoKeys: SIGHUP (a closed
// terminal), SIGTERM and Ctrl+C end the plain prompts while they wait for
// a line, exit 130, and the demo UMS's CA keys do not stay behind in
// TMPDIR.
func TestSignalsEndThePromptsAndRemoveTheDemoKeys(t *testing.T) {
	bin := testutil.Binary(t, "setup-assistant")
	for _, sig := range []syscall.Signal{syscall.SIGHUP, syscall.SIGTERM, syscall.SIGINT} {
		tmp := t.TempDir()
		cmd := exec.Command(bin, "--demo", "--accessible")
		cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
		stdin, err := cmd.StdinPipe() // held open: the prompt waits
		if err != nil {
			t.Fatal(err)
		}
		defer stdin.Close()
		var out testutil.SyncBuffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(30 * time.Second)
		for !strings.Contains(out.String(), "Number (1 to") && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if keys, _ := filepath.Glob(filepath.Join(tmp, "onramp-demo-ums-*")); len(keys) == 0 {
			t.Fatalf("%v: the demo UMS did not start in TMPDIR:\n%s", sig, out.String())
		}
		if err := cmd.Process.Signal(sig); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			t.Fatalf("%v: still running 20 s after the signal:\n%s", sig, out.String())
		}
		if code := cmd.ProcessState.ExitCode(); code != 130 {
			t.Errorf("%v: exit %d, want 130:\n%s", sig, code, out.String())
		}
		if keys, _ := filepath.Glob(filepath.Join(tmp, "onramp-demo-ums-*")); len(keys) != 0 {
			t.Errorf("%v: the demo CA keys stayed behind: %v", sig, keys)
		}
	}
}
