package osc_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/onramp-os/onramp/demo/oscdemo"
	"github.com/onramp-os/onramp/internal/testutil"
)

// TestTmuxDemoOnTheConsole runs the built osc --demo in tmux as on the Linux
// console (TERM=linux, 80x24), writes the sample image to the 8 GB demo
// stick by keys, and checks the stick's bytes and that no glyph the console
// lacks (rounded corners, braille) was drawn.
func TestTmuxDemoOnTheConsole(t *testing.T) {
	osc := testutil.Binary(t, "osc")
	testutil.RequireTools(t, "tmux")
	isoDir, demoDir := t.TempDir(), t.TempDir()
	session := fmt.Sprintf("osc-demo-%d", os.Getpid())
	socket := filepath.Join(t.TempDir(), "tmux.sock")
	tmux := func(args ...string) string {
		t.Helper()
		out, err := exec.Command("tmux", append([]string{"-S", socket}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	cmd := fmt.Sprintf("TERM=linux %s --demo --demo-dir %s --dir %s; echo osc exited $?; sleep 60", osc, demoDir, isoDir)
	tmux("new-session", "-d", "-x", "80", "-y", "24", "-s", session, cmd)
	t.Cleanup(func() { _ = exec.Command("tmux", "-S", socket, "kill-server").Run() })

	var seen []string
	screen := func() string {
		s := tmux("capture-pane", "-p", "-t", session)
		seen = append(seen, s)
		return s
	}
	waitFor := func(text string, timeout time.Duration) string {
		t.Helper()
		deadline := time.Now().Add(timeout)
		for {
			s := screen()
			if strings.Contains(s, text) {
				return s
			}
			if time.Now().After(deadline) {
				t.Fatalf("%q did not appear within %s; the screen:\n%s", text, timeout, s)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}

	waitFor(oscdemo.VolumeLabel, 20*time.Second)
	tmux("send-keys", "-t", session, "Enter")
	s := waitFor("Demo stick 1 (file)", 10*time.Second)
	if !highlighted(s, "Demo stick 1 (file)", "8.0 GB") {
		t.Fatalf("the 8 GB demo stick is not the highlighted row:\n%s", s)
	}
	tmux("send-keys", "-t", session, "Enter")
	waitFor("will be replaced", 10*time.Second)
	tmux("send-keys", "-t", session, "Right")
	tmux("send-keys", "-t", session, "Enter")
	waitFor("safe to remove", 60*time.Second)
	tmux("send-keys", "-t", session, "q")
	s = waitFor("osc exited 0", 10*time.Second)
	if !strings.Contains(strings.ReplaceAll(s, "\n", ""), "are in "+demoDir) { // a long line wraps
		t.Errorf("osc did not name the demo folder on exit:\n%s", s)
	}

	image, err := os.ReadFile(filepath.Join(demoDir, oscdemo.ImageName))
	if err != nil {
		t.Fatal(err)
	}
	stick, err := os.Open(filepath.Join(demoDir, "demo-stick-1.img"))
	if err != nil {
		t.Fatal(err)
	}
	defer stick.Close()
	got := make([]byte, len(image))
	if _, err := stick.ReadAt(got, 0); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, image) {
		t.Fatal("demo stick 1 does not start with the sample image")
	}

	for _, s := range seen {
		for _, r := range s {
			if strings.ContainsRune("╭╮╰╯", r) || (r >= 0x2800 && r <= 0x28FF) {
				t.Fatalf("the console screen shows %q, which the Linux console cannot draw:\n%s", r, s)
			}
		}
	}
}

// highlighted reports whether the row marked with the cursor holds every
// one of texts.
func highlighted(screen string, texts ...string) bool {
	for _, line := range strings.Split(screen, "\n") {
		if !strings.HasPrefix(strings.TrimLeft(line, "| "), ">") {
			continue
		}
		for _, t := range texts {
			if !strings.Contains(line, t) {
				return false
			}
		}
		return true
	}
	return false
}
