package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/onramp-os/onramp/internal/testutil"
)

// TestRescueLoginBinary runs the built assistant as agetty would on a
// rescue console: while the setup runs, RETURN gives a root shell (the
// real bash, which runs what is typed next); once the setup is done and
// root has no password, the console says it is disabled and exits 1.
func TestRescueLoginBinary(t *testing.T) {
	testutil.RequireTools(t, "bash")
	bin := testutil.Binary(t, "setup-assistant")
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--root", root, "--rescue-login", "tty11")
	cmd.Stdin = strings.NewReader("\necho RESCUE-$((6*7)) as $(id -u)\nexit\n")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, want := range []string{"--- rescue shell tty11 ---", "Press <RETURN> to login:", "first-boot setup is not finished",
		"RESCUE-42 as " + strings.TrimSpace(testutil.Run(t, "id", "-u"))} {
		if !strings.Contains(string(out), want) {
			t.Errorf("console lacks %q:\n%s", want, out)
		}
	}

	if err := os.MkdirAll(filepath.Join(root, "var/lib/onramp"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "var/lib/onramp/setup.done"), []byte("done\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "etc/shadow"), []byte("root:*:20000:0:99999:7:::\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	cmd = exec.Command(bin, "--root", root, "--rescue-login", "tty12")
	cmd.Stdin = strings.NewReader("\necho RESCUE-$((6*7))\n")
	out, err = cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 || !strings.Contains(string(out), "The rescue shell is disabled") || strings.Contains(string(out), "RESCUE-42") {
		t.Errorf("after setup without a root password: %v\n%s", err, out)
	}
}

// TestRescueLoginEndsOnSIGTERM: a rescue console waiting for RETURN ends
// when systemd stops it (SIGTERM, and SIGHUP from SendSIGHUP=yes). Before,
// the blocked read kept it alive until systemd's 90 s stop timeout, on
// every shutdown of the installer and the installed system.
func TestRescueLoginEndsOnSIGTERM(t *testing.T) {
	bin := testutil.Binary(t, "setup-assistant")
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGHUP} {
		cmd := exec.Command(bin, "--root", t.TempDir(), "--rescue-login", "tty11")
		stdin, err := cmd.StdinPipe() // open, and nothing typed
		if err != nil {
			t.Fatal(err)
		}
		defer stdin.Close()
		var out testutil.SyncBuffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if !testutil.WaitFor(10*time.Second, func() bool { return strings.Contains(out.String(), "Press <RETURN> to login:") }) {
			_ = cmd.Process.Kill()
			t.Fatalf("no prompt:\n%s", out.String())
		}
		_ = cmd.Process.Signal(sig)
		ended := make(chan error, 1)
		go func() { ended <- cmd.Wait() }()
		select {
		case <-ended:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-ended
			t.Errorf("%v: the rescue console went on waiting for RETURN", sig)
		}
	}
}
