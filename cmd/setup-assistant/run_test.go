package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/onramp-os/onramp/demo"
)

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Run(context.Background(), strings.NewReader(""), &out, &errb, args)
	return code, out.String(), errb.String()
}

// TestExamplesRunOnTheDemoDevice runs every answers file of examples/
// unattended on the simulated device and checks the files written.
func TestExamplesRunOnTheDemoDevice(t *testing.T) {
	files, err := filepath.Glob("../../examples/answers-*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			root := t.TempDir()
			code, out, errOut := runCLI(t, "--demo", "--demo-step", "0", "--root", root, "--non-interactive", "--answers", f)
			if code != 0 {
				t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
			}
			for _, p := range []string{"etc/locale.conf", "etc/vconsole.conf", "etc/X11/xorg.conf.d/00-keyboard.conf",
				"etc/localtime", "etc/adjtime", "var/lib/onramp/eula-accepted.json", "var/lib/onramp/setup.done"} {
				if _, err := os.Lstat(filepath.Join(root, p)); err != nil {
					t.Errorf("%s missing: %v", p, err)
				}
			}
			data, _ := os.ReadFile(f)
			onboarded := !strings.Contains(string(data), "onboarding: skip")
			if _, err := os.Stat(filepath.Join(root, "etc/onramp/ums/device.crt")); (err == nil) != onboarded {
				t.Errorf("device.crt present: %v, onboarded: %v\n%s", err == nil, onboarded, out)
			}
			if !strings.Contains(errOut, root) {
				t.Errorf("the demo root is not named at the end: %q", errOut)
			}
		})
	}
}

func TestOTPExampleWritesWhatItSays(t *testing.T) {
	root := t.TempDir()
	code, out, errOut := runCLI(t, "--demo", "--demo-step", "0", "--root", root, "--non-interactive", "--answers", "../../examples/answers-otp-hidden-wlan.yaml")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	for p, want := range map[string]string{
		"etc/locale.conf":   "LANG=de_DE.UTF-8",
		"etc/vconsole.conf": "KEYMAP=de-nodeadkeys",
		"etc/wpa_supplicant/wpa_supplicant-wlan0.conf": "scan_ssid=1",
		"etc/onramp/ums/server.json":                   demo.Server,
	} {
		data, err := os.ReadFile(filepath.Join(root, p))
		if err != nil || !strings.Contains(string(data), want) {
			t.Errorf("%s: %q %v, want %q", p, data, err, want)
		}
	}
	if l, _ := os.Readlink(filepath.Join(root, "etc/localtime")); l != "../usr/share/zoneinfo/Europe/Berlin" {
		t.Errorf("localtime -> %q", l)
	}
	// Done: a second start does nothing, --force runs again.
	code, out, _ = runCLI(t, "--demo", "--demo-step", "0", "--root", root, "--non-interactive", "--answers", "../../examples/answers-offline-root.yaml")
	if code != 0 || !strings.Contains(out, "completed before") {
		t.Errorf("second run: %d %q", code, out)
	}
	code, out, errOut = runCLI(t, "--demo", "--demo-step", "0", "--root", root, "--force", "--non-interactive", "--answers", "../../examples/answers-offline-root.yaml")
	if code != 0 {
		t.Fatalf("--force: %d %s %s", code, out, errOut)
	}
	if data, _ := os.ReadFile(filepath.Join(root, "etc/locale.conf")); string(data) != "LANG=fr_FR.UTF-8\n" {
		t.Errorf("--force did not run again: %q", data)
	}
}

// TestRootPasswordHashIsKeptForTheRescueConsoles: the offline example's
// root_password_hash lands in /etc/onramp/root-password, 0600, and is
// never printed; a value that is not a crypt hash (a password typed in
// plain) is refused naming the field, and nothing is written.
func TestRootPasswordHashIsKeptForTheRescueConsoles(t *testing.T) {
	root := t.TempDir()
	code, out, errOut := runCLI(t, "--demo", "--demo-step", "0", "--root", root, "--non-interactive", "--answers", "../../examples/answers-offline-root.yaml")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	p := filepath.Join(root, "etc/onramp/root-password")
	info, err := os.Stat(p)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("%s: %v %v, want mode 0600", p, info, err)
	}
	data, _ := os.ReadFile(p)
	if !strings.HasPrefix(string(data), "$6$onrampsalt$") {
		t.Errorf("%s holds %q", p, data)
	}
	if strings.Contains(out+errOut, "onrampsalt") {
		t.Errorf("the hash was printed:\n%s%s", out, errOut)
	}

	root = t.TempDir()
	answers := filepath.Join(t.TempDir(), "a.yaml")
	if err := os.WriteFile(answers, []byte("language: en_US\neula: accept\nnetwork: skip\ntimezone: UTC\nonboarding: skip\nroot_password_hash: Plain-Secret-77\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = runCLI(t, "--demo", "--demo-step", "0", "--root", root, "--non-interactive", "--answers", answers)
	if code != 2 || !strings.Contains(errOut, "root_password_hash (line 6)") || strings.Contains(out+errOut, "Plain-Secret-77") {
		t.Errorf("plain password: exit %d\n%s%s", code, out, errOut)
	}
	if _, err := os.Stat(filepath.Join(root, "etc/locale.conf")); err == nil {
		t.Error("the language was written before the refusal")
	}
}

func TestInvalidAnswersNameTheField(t *testing.T) {
	cases := map[string]string{
		"language: xx_XX\neula: accept\ntimezone: UTC\nonboarding: skip\n":                                               "language",
		"language: de_DE\nkeyboard: {layout: de, variant: nope}\neula: accept\ntimezone: UTC\nonboarding: skip\n":        "keyboard.variant",
		"language: de_DE\neula: accept\nnetwork:\n  wlan: {ssid: Office, key: short}\ntimezone: UTC\nonboarding: skip\n": "network.wlan.key",
		"language: de_DE\neula: accept\ntimezone: Mars/Olympus\nonboarding: skip\n":                                      "timezone",
		"language: de_DE\neula: accept\ntimezone: UTC\nonboarding: {server: ums.example.com, otp: x, token: abc}\n":      "onboarding.token",
		"language: de_DE\neula: accept\ntimezone: UTC\nonboarding: skip\ncolour: blue\n":                                 "colour",
		// Checked whole before the first write: values only the onboarding
		// step used to look at.
		"language: de_DE\neula: accept\ntimezone: UTC\nonboarding: {server: ums.example.com, otp: \"a\\u0001b\", token: 0439081D3038DE77}\n":                    "onboarding.otp",
		"language: de_DE\neula: accept\ntimezone: UTC\nonboarding: {server: ums.example.com, otp: " + strings.Repeat("x", 300) + ", token: 0439081D3038DE77}\n": "onboarding.otp",
		"language: de_DE\neula: accept\ntimezone: UTC\nonboarding: {server: \"ftp://ums.example.com\", otp: x, token: 0439081D3038DE77}\n":                      "onboarding.server",
		"language: de_DE\neula: accept\ntimezone: UTC\nonboarding: {server: \"https://127.0.0.1:70000\", otp: x, token: 0439081D3038DE77}\n":                    "onboarding.server",
		"language: de_DE\neula: accept\ntimezone: UTC\nonboarding: {server: ums.example.com, port: 0, otp: x, token: 0439081D3038DE77}\n":                       "onboarding.port",
	}
	for body, field := range cases {
		f := filepath.Join(t.TempDir(), "a.yaml")
		if err := os.WriteFile(f, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		root := t.TempDir()
		code, _, errOut := runCLI(t, "--demo", "--demo-step", "0", "--root", root, "--non-interactive", "--answers", f)
		if code != 2 || !strings.Contains(errOut, "answers: "+field) {
			t.Errorf("%q: exit %d, %q; want 2 naming %s", body, code, errOut, field)
		}
		if _, err := os.Stat(filepath.Join(root, "etc/locale.conf")); err == nil {
			t.Errorf("%q: the language was written before the refusal", body)
		}
	}
}

// TestAnswersFileMustBeASmallRegularFile: a FIFO (which would block), a
// device that never ends, a directory and a file over 1 MiB are refused at
// once (exit 2); so is a --root that does not exist, before anything is
// created.
func TestAnswersFileMustBeASmallRegularFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, []byte("language: en\n# "+strings.Repeat("x", 2<<20)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{fifo: "not a regular file", "/dev/zero": "not a regular file", dir: "not a regular file", big: "too large"} {
		code, _, errOut := runCLI(t, "--demo", "--demo-step", "0", "--root", t.TempDir(), "--non-interactive", "--answers", path)
		if code != 2 || !strings.Contains(errOut, want) {
			t.Errorf("--answers %s: exit %d, %q; want 2 and %q", path, code, errOut, want)
		}
	}
	missing := filepath.Join(dir, "no-such-root")
	code, _, errOut := runCLI(t, "--root", missing, "--non-interactive", "--answers", big)
	if code != 2 || !strings.Contains(errOut, "--root") {
		t.Errorf("missing root: exit %d, %q; want 2 naming --root", code, errOut)
	}
	if _, err := os.Stat(missing); err == nil {
		t.Error("the missing root was created")
	}
}

func TestFailingStepsExitNonZero(t *testing.T) {
	f := filepath.Join(t.TempDir(), "a.yaml")
	body := "language: en\neula: accept\nnetwork:\n  wlan: {ssid: Office, key: wrong-key-123}\ntimezone: UTC\nonboarding: skip\n"
	_ = os.WriteFile(f, []byte(body), 0o644)
	code, _, errOut := runCLI(t, "--demo", "--demo-step", "0", "--root", t.TempDir(), "--non-interactive", "--answers", f)
	if code != 1 || !strings.Contains(errOut, "network.wlan") || !strings.Contains(errOut, "wrong") {
		t.Errorf("wrong key: %d %q", code, errOut)
	}
	body = "language: en\neula: accept\nnetwork: skip\ntimezone: UTC\nonboarding: {server: ums.example.com, otp: DEMO-OTP-0001, token: 0000000000000000}\n"
	_ = os.WriteFile(f, []byte(body), 0o644)
	code, _, errOut = runCLI(t, "--demo", "--demo-step", "0", "--root", t.TempDir(), "--non-interactive", "--answers", f)
	if code != 1 || !strings.Contains(errOut, "internal error (46)") {
		t.Errorf("wrong token: %d %q", code, errOut)
	}
}

func TestUsage(t *testing.T) {
	if code, _, errOut := runCLI(t, "--non-interactive"); code != 2 || !strings.Contains(errOut, "--answers") {
		t.Errorf("%d %q", code, errOut)
	}
	if code, _, _ := runCLI(t, "--bogus"); code != 2 {
		t.Errorf("unknown flag: %d", code)
	}
	// Not a terminal, no --accessible: refused with the way out.
	if code, _, errOut := runCLI(t, "--demo", "--demo-step", "0", "--root", t.TempDir()); code != 2 || !strings.Contains(errOut, "--accessible") {
		t.Errorf("no terminal: %d %q", code, errOut)
	}
}

// The demo's UMS (the ums-lab in process) lives only while the assistant
// runs: its state is gone at exit, the enrollment stays in the root.
func TestDemoLeavesNoUMSState(t *testing.T) {
	root := t.TempDir()
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	code, out, errOut := runCLI(t, "--demo", "--demo-step", "0", "--root", root, "--non-interactive", "--answers", "../../examples/answers-email-static.yaml")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	if data, err := os.ReadFile(filepath.Join(root, "etc/onramp/ums/server.json")); err != nil || !strings.Contains(string(data), `"onboarded_by": "Alice.Smith@example.com"`) {
		t.Errorf("server.json %s %v", data, err)
	}
	if ents, _ := os.ReadDir(tmp); len(ents) != 0 {
		t.Errorf("left behind in TMPDIR: %v", ents)
	}
}

// TestAnswersPrefillThePrompts runs an example interactively with the
// plain prompts: Enter takes every answered value, only the license is
// accepted by hand, and the secrets never show.
func TestAnswersPrefillThePrompts(t *testing.T) {
	root := t.TempDir()
	in := "\n\n\nja\n" + strings.Repeat("\n", 40)
	var out, errb bytes.Buffer
	code := Run(context.Background(), strings.NewReader(in), &out, &errb,
		[]string{"--demo", "--demo-step", "0", "--root", root, "--accessible", "--answers", "../../examples/answers-otp-hidden-wlan.yaml"})
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out.String(), errb.String())
	}
	for _, secret := range []string{"lab-secret-2026", "DEMO-OTP-0001"} {
		if strings.Contains(out.String(), secret) {
			t.Errorf("the prompts show %q", secret)
		}
	}
	for p, want := range map[string]string{
		"etc/locale.conf": "LANG=de_DE.UTF-8", "etc/vconsole.conf": "KEYMAP=de-nodeadkeys",
		"etc/wpa_supplicant/wpa_supplicant-wlan0.conf": "scan_ssid=1", "etc/onramp/ums/server.json": "ums.example.com",
	} {
		if data, _ := os.ReadFile(filepath.Join(root, p)); !strings.Contains(string(data), want) {
			t.Errorf("%s = %q, want %q", p, data, want)
		}
	}
	if l, _ := os.Readlink(filepath.Join(root, "etc/localtime")); !strings.HasSuffix(l, "zoneinfo/Europe/Berlin") {
		t.Errorf("localtime -> %q", l)
	}
}

// TestRootConfinesWrites: with ROOT/etc a link to a directory outside the
// root (absolute or relative), the assistant writes nothing through it:
// the run fails and the directory outside stays empty.
func TestRootConfinesWrites(t *testing.T) {
	answers := filepath.Join(t.TempDir(), "a.yaml")
	if err := os.WriteFile(answers, []byte("language: en_US\neula: accept\nnetwork: skip\ntimezone: UTC\nonboarding: skip\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, rel := range []bool{false, true} {
		base := t.TempDir()
		root, outside := filepath.Join(base, "root"), filepath.Join(base, "outside")
		for _, d := range []string{root, outside} {
			if err := os.MkdirAll(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		target := outside
		if rel {
			target = "../outside"
		}
		if err := os.Symlink(target, filepath.Join(root, "etc")); err != nil {
			t.Fatal(err)
		}
		code, _, errOut := runCLI(t, "--root", root, "--non-interactive", "--answers", answers)
		if code == 0 {
			t.Errorf("link %s: exit 0", target)
		}
		if entries, _ := os.ReadDir(outside); len(entries) > 0 {
			t.Errorf("link %s: wrote %d entries outside the root (%s); stderr %q", target, len(entries), entries[0].Name(), errOut)
		}
	}
}
