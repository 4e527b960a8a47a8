// Package testutil holds helpers for tests that need the real system: root,
// loop devices, external tools. Where a requirement is missing the test is
// skipped with the reason — unless ONRAMP_STRICT=1 (make test as root, CI),
// where a skip would hide a test that must run, so it fails instead.
package testutil

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Skip skips t with reason, or fails it in strict mode.
func Skip(t testing.TB, reason string) {
	t.Helper()
	if os.Getenv("ONRAMP_STRICT") == "1" {
		t.Fatalf("required test cannot run (ONRAMP_STRICT=1): %s", reason)
	}
	t.Skip(reason)
}

// RequireRoot skips (or fails, in strict mode) unless running as root.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		Skip(t, "needs root (loop devices, block-device ioctls)")
	}
}

// RequireTools skips (or fails) unless every named program is on PATH.
func RequireTools(t testing.TB, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			Skip(t, tool+" not installed (scripts/deps.sh installs it)")
		}
	}
}

// Run runs a command and fails the test with its output on error.
func Run(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// LoopDevice attaches file (a regular file or a device) to a loop device
// with losetup's extra options, and detaches it when the test ends. A
// regular file on a disk-backed file system (where t.TempDir() is) is
// first moved to a tmpfs and replaced by a symbolic link to its new place
// (offSystemDisk): osc refuses a loop device over a file on the system
// disk as a system disk, so a loop a test writes must not be one.
func LoopDevice(t testing.TB, file string, extra ...string) string {
	t.Helper()
	RequireRoot(t)
	RequireTools(t, "losetup")
	file = offSystemDisk(t, file)
	args := append([]string{"--find", "--show"}, extra...)
	dev := strings.TrimSpace(Run(t, "losetup", append(args, file)...))
	t.Cleanup(func() { _ = exec.Command("losetup", "-d", dev).Run() })
	return dev
}

// Binary returns the path of a built program (make test builds them into
// ONRAMP_BIN), or skips when it is not built.
func Binary(t testing.TB, name string) string {
	t.Helper()
	dir := os.Getenv("ONRAMP_BIN")
	if dir == "" {
		Skip(t, "ONRAMP_BIN not set: run through make test, which builds the binaries")
	}
	p := filepath.Join(dir, name)
	if _, err := os.Stat(p); err != nil {
		Skip(t, p+" not built")
	}
	return p
}

// SetupRoot runs the built setup assistant unattended on the simulated
// device (--demo, no delays) with the answers file into a new root and
// returns it: the files a first boot really writes, for tests that must
// not seed their own. answers is relative to the repository's examples/
// ("answers-otp-hidden-wlan.yaml"); the test's package sits one or two
// levels below the repository.
func SetupRoot(t testing.TB, answers string) string {
	t.Helper()
	bin := Binary(t, "setup-assistant")
	file := ""
	for _, up := range []string{"..", "../.."} {
		p := filepath.Join(up, "examples", answers)
		if _, err := os.Stat(p); err == nil {
			file = p
			break
		}
	}
	if file == "" {
		t.Fatalf("examples/%s not found", answers)
	}
	root := t.TempDir()
	out, err := exec.Command(bin, "--demo", "--demo-step", "0", "--root", root, "--non-interactive", "--answers", file).CombinedOutput()
	if err != nil {
		t.Fatalf("setup-assistant --answers %s: %v\n%s", answers, err, out)
	}
	return root
}
