package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onramp-os/onramp/netcfg"
)

// TestConnectSavedModemWithoutUsableFile: onramp-modem.service's command
// exits 2 (which the unit does not restart) when nothing usable is saved,
// naming the file and the field, and never prints the saved PIN; the flag
// stays out of --help.
func TestConnectSavedModemWithoutUsableFile(t *testing.T) {
	root := t.TempDir()
	code, _, stderr := runCLI(t, "--root", root, "--connect-saved-modem")
	if code != 2 || !strings.Contains(stderr, netcfg.ModemFile(root)) {
		t.Errorf("without modem.json: exit %d, %q; want 2 naming the file", code, stderr)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Dir(netcfg.ModemFile(root)), 0o755))
	must(os.WriteFile(netcfg.ModemFile(root), []byte(`{"apn": "internet.telekom", "pin": "12345a"}`), 0o600))
	code, _, stderr = runCLI(t, "--root", root, "--connect-saved-modem")
	if code != 2 || !strings.Contains(stderr, "pin") || strings.Contains(stderr, "12345a") {
		t.Errorf("a PIN with a letter: exit %d, %q; want 2 naming the field, without the value", code, stderr)
	}
	if _, out, _ := runCLI(t, "--help"); strings.Contains(out, "connect-saved-modem") {
		t.Errorf("--help shows the service's flag:\n%s", out)
	}
}
