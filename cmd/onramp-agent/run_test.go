package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/onramp-os/onramp/license"
	"github.com/onramp-os/onramp/onboard"
	"github.com/onramp-os/onramp/onboard/lab"
)

const unit = "005056938D22"

func run(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := Run(context.Background(), strings.NewReader(""), &out, &errb, args)
	return code, out.String(), errb.String()
}

// The exit codes and messages of --once against a real lab, with a root
// enrolled by the real onboarding client.
func TestOnceExitCodes(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, addr, err := lab.StartInProcess(ctx, t.TempDir(), lab.Config{})
	if err != nil {
		t.Fatal(err)
	}
	_, otp, _ := srv.CreateKey(ctx, lab.KeySpec{Kind: lab.KindOneTime})
	root := t.TempDir()
	host, port, _ := net.SplitHostPort(addr)
	p, _ := strconv.Atoi(port)
	if _, err := onboard.NewClient(root, onboard.WithUnitID(unit)).ByServer(ctx, onboard.ServerRequest{Server: host, Port: p, OTP: otp, Token: srv.Token()}); err != nil {
		t.Fatal(err)
	}
	key, _ := os.ReadFile(filepath.Join(root, onboard.UMSDir, onboard.KeyFile))
	secret := strings.Split(string(key), "\n")[1]
	noSecret := func(s ...string) {
		t.Helper()
		for _, x := range s {
			if strings.Contains(x, secret) {
				t.Fatal("the device key was printed")
			}
		}
	}

	if code, _, errb := run("--once", "--root", t.TempDir()); code != 1 || !strings.Contains(errb, "not onboarded") {
		t.Fatalf("not onboarded: %d %q", code, errb)
	}
	if code, _, errb := run("--once", "--interval", "soon"); code != 2 || !strings.Contains(errb, "--interval") {
		t.Fatalf("bad flag: %d %q", code, errb)
	}

	a, err := srv.AssignLicense(ctx, unit, "Kiosk", 10)
	if err != nil {
		t.Fatal(err)
	}
	code, out, errb := run("--once", "--root", root)
	if code != 0 || !strings.Contains(out, "Checked in with "+addr+" as "+unit) || !strings.Contains(out, "ums-"+a.ID+".lic  Kiosk, 10 days left") {
		t.Fatalf("once: %d\n%s\n%s", code, out, errb)
	}
	noSecret(out, errb)
	code, out, _ = run("--once", "--json", "--root", root)
	var res struct {
		UnitID   string           `json:"unit_id"`
		Licenses []license.Status `json:"licenses"`
	}
	if err := json.Unmarshal([]byte(out), &res); code != 0 || err != nil || res.UnitID != unit || len(res.Licenses) != 1 || !res.Licenses[0].Valid() {
		t.Fatalf("--json: %d %v\n%s", code, err, out)
	}

	if err := srv.RevokeDevice(ctx, unit); err != nil {
		t.Fatal(err)
	}
	code, out, errb = run("--once", "--root", root)
	if code != 3 || !strings.Contains(errb, "refused this device's certificate: the device certificate is revoked") {
		t.Fatalf("revoked: %d\n%s\n%s", code, out, errb)
	}
	noSecret(out, errb)

	cancel()
	<-srv.Done()
	code, _, errb = run("--once", "--root", root)
	if code != 1 || !strings.Contains(errb, "connect to "+addr) || !strings.Contains(errb, "[code 44]") {
		t.Fatalf("unreachable: %d %q", code, errb)
	}
}
