package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onramp-os/onramp/internal/testutil"
)

func run(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := Run(context.Background(), strings.NewReader(""), &out, &errb, args)
	return code, out.String(), errb.String()
}

// TestSaveThenLoad saves what the real setup assistant wrote and lays it
// back into an empty root, as a reinstalled device's boot does.
func TestSaveThenLoad(t *testing.T) {
	testutil.RequireRoot(t)
	root := testutil.SetupRoot(t, "answers-otp-hidden-wlan.yaml")
	data := t.TempDir()
	code, out, errOut := run("save", "--root", root, "--data", data)
	if code != 0 || !strings.Contains(out, "saved 15 settings") {
		t.Fatalf("save: %d %q %q", code, out, errOut)
	}
	if code, out, _ := run("save", "--root", root, "--data", data); code != 0 || !strings.Contains(out, "already holds the 15 settings") {
		t.Errorf("save again: %d %q", code, out)
	}
	os.WriteFile(filepath.Join(data, "settings/etc/shadow"), []byte("x"), 0o600)
	fresh := t.TempDir()
	code, out, errOut = run("load", "--root", fresh, "--data", data)
	if code != 0 || !strings.Contains(out, "laid back 15 settings") || !strings.Contains(errOut, "/etc/shadow") {
		t.Fatalf("load: %d %q %q", code, out, errOut)
	}
	for _, p := range []string{"etc/locale.conf", "etc/onramp/ums/device.key", "var/lib/onramp/setup.done"} {
		a, _ := os.ReadFile(filepath.Join(root, p))
		b, err := os.ReadFile(filepath.Join(fresh, p))
		if err != nil || !bytes.Equal(a, b) {
			t.Errorf("%s after load: %v", p, err)
		}
	}
	if fi, err := os.Stat(filepath.Join(fresh, "etc/onramp/ums/device.key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("device.key after load: %v %v", fi, err)
	}
}

func TestUsageAndList(t *testing.T) {
	if code, _, errOut := run("load", "--data", t.TempDir()); code != 2 || !strings.Contains(errOut, "root") {
		t.Errorf("load without --root: %d %q", code, errOut)
	}
	if code, _, errOut := run("save", "--root", filepath.Join(t.TempDir(), "nope"), "--data", t.TempDir()); code != 1 || !strings.Contains(errOut, "nope") {
		t.Errorf("save from a missing root: %d %q", code, errOut)
	}
	code, out, _ := run("list", "--json")
	var list []struct{ Path, Kind string }
	if code != 0 || json.Unmarshal([]byte(out), &list) != nil || len(list) < 10 || list[0].Path != "/etc/locale.conf" {
		t.Errorf("list --json: %d %s", code, out)
	}
	if code, out, _ := run("list"); code != 0 || !strings.Contains(out, "/etc/onramp/**") {
		t.Errorf("list: %d %s", code, out)
	}
}
