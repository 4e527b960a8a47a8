package main

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/onramp-os/onramp/agent"
	"github.com/onramp-os/onramp/license"
	"github.com/onramp-os/onramp/onboard"
)

// After onboarding through serve: licenses assigned with the CLI reach the
// device at its check-in, devices list shows when it was last seen, and a
// revoked device is refused.
func TestServeLicensesCheckInAndRevoke(t *testing.T) {
	const unit = "005056938D22"
	state := t.TempDir()
	addr, _ := serve(t, state)
	_, out, _ := run(t, "", "keys", "create", "--one-time", "--state", state)
	_, tok, _ := run(t, "", "token", "--part", "3", "--state", state)
	host, port := splitAddr(t, addr)
	root := t.TempDir()
	ctx := context.Background()
	if _, err := onboard.NewClient(root, onboard.WithUnitID(unit)).ByServer(ctx,
		onboard.ServerRequest{Server: host, Port: port, OTP: strings.TrimSpace(out), Token: strings.TrimSpace(tok)}); err != nil {
		t.Fatal(err)
	}

	var devs []map[string]any
	_, out, _ = run(t, "", "devices", "list", "--json", "--state", state)
	if err := json.Unmarshal([]byte(out), &devs); err != nil || len(devs) != 1 || devs[0]["unit_id"] != unit || devs[0]["last_seen"] != nil {
		t.Fatalf("before the check-in: %v\n%s", err, out)
	}

	code, out, errb := run(t, "", "licenses", "assign", "--unit", strings.ToLower(unit), "--product", "Kiosk", "--days", "30", "--state", state)
	if code != 0 || len(strings.TrimSpace(out)) != 16 || !strings.Contains(errb, "Kiosk for "+unit) {
		t.Fatalf("assign: %d %q %q", code, out, errb)
	}
	id := strings.TrimSpace(out)
	for _, bad := range [][]string{
		{"--unit", "XYZ", "--product", "Kiosk"},
		{"--unit", unit, "--product", "Kiosk", "--days", "0"},
		{"--unit", unit, "--product", "Starter"},
		{"--unit", unit},
	} {
		if code, _, errb := run(t, "", append([]string{"licenses", "assign", "--state", state}, bad...)...); code != 2 || errb == "" {
			t.Errorf("assign %q: exit %d, %q", bad, code, errb)
		}
	}
	var lics []map[string]any
	_, out, _ = run(t, "", "licenses", "list", "--json", "--state", state)
	if err := json.Unmarshal([]byte(out), &lics); err != nil || len(lics) != 1 || lics[0]["id"] != id || lics[0]["unit_id"] != unit || lics[0]["product"] != "Kiosk" {
		t.Fatalf("licenses list --json: %v\n%s", err, out)
	}
	if _, out, _ = run(t, "", "licenses", "list", "--state", state); !strings.Contains(out, id) || !strings.Contains(out, "valid") {
		t.Fatalf("licenses list:\n%s", out)
	}

	res, err := agent.Once(ctx, agent.Config{Root: root})
	if err != nil || res.Received != 1 || len(res.Licenses) != 1 || res.Licenses[0].State != license.Valid || res.Licenses[0].License.ID != id {
		t.Fatalf("check-in: %+v %v", res, err)
	}
	_, out, _ = run(t, "", "devices", "list", "--json", "--state", state)
	devs = nil
	if err := json.Unmarshal([]byte(out), &devs); err != nil || len(devs) != 1 {
		t.Fatalf("%v\n%s", err, out)
	}
	seen, err := time.Parse(time.RFC3339Nano, devs[0]["last_seen"].(string))
	if err != nil || time.Since(seen) > time.Minute || devs[0]["revoked"] != false {
		t.Fatalf("after the check-in: %v\n%s", err, out)
	}
	if _, out, _ = run(t, "", "devices", "list", "--state", state); !strings.Contains(out, "LAST SEEN") || !strings.Contains(out, "active") {
		t.Fatalf("devices list:\n%s", out)
	}

	if code, _, _ := run(t, "", "devices", "revoke", unit, "--state", state); code != 0 {
		t.Fatal("devices revoke")
	}
	if _, err := agent.Once(ctx, agent.Config{Root: root}); !errors.Is(err, onboard.ErrRefused) || !strings.Contains(err.Error(), "revoked") {
		t.Fatalf("revoked device: %v", err)
	}
	if _, out, _ = run(t, "", "devices", "list", "--state", state); !strings.Contains(out, "revoked") {
		t.Fatalf("devices list:\n%s", out)
	}
	if code, _, errb := run(t, "", "devices", "revoke", "0050569300AA", "--state", state); code != 1 || !strings.Contains(errb, "not found") {
		t.Fatalf("revoke unknown: %d %q", code, errb)
	}
}
