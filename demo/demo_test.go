package demo

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/onramp-os/onramp/onboard"
)

func code(err error) onboard.Code {
	var oe *onboard.Error
	if errors.As(err, &oe) {
		return oe.Code
	}
	return 0
}

func newDevice(t *testing.T, o Options) *Device {
	t.Helper()
	d, err := New(t.TempDir(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	return d
}

// The token users and the examples rely on comes from the fixed root the
// lab now serves.
func TestTokenIsFixedAndServed(t *testing.T) {
	if Token() != "0439081D3038DE77" {
		t.Errorf("demo token %s", Token())
	}
	d := newDevice(t, Options{})
	if !strings.EqualFold(d.UMS.Token(), Token()) {
		t.Errorf("the lab serves token %s, the demo says %s", d.UMS.Token(), Token())
	}
}

func TestDemoOnboardingByServer(t *testing.T) {
	ctx := context.Background()
	d := newDevice(t, Options{})
	root := d.Root
	if d.UnitID != "005056938D22" {
		t.Errorf("Unit ID %q", d.UnitID)
	}
	ob := d.Onboarder
	req := onboard.ServerRequest{Server: Server, Port: Port, OTP: OneTimeKey(1), Token: Token()}
	bad := req
	bad.Token = "0000000000000000"
	if _, err := ob.ByServer(ctx, bad); code(err) != onboard.CodeVerifyChain {
		t.Errorf("wrong token: %v", err)
	}
	bad = req
	bad.Port = 9443
	if _, err := ob.ByServer(ctx, bad); code(err) != onboard.CodeTCPConnect {
		t.Errorf("wrong port: %v", err)
	}
	bad = req
	bad.Server = "ums.example.org"
	if _, err := ob.ByServer(ctx, bad); code(err) != onboard.CodeTCPConnect {
		t.Errorf("unknown server: %v", err)
	}
	bad = req
	bad.OTP = "nope"
	if _, err := ob.ByServer(ctx, bad); code(err) != onboard.CodeEnroll {
		t.Errorf("unknown key: %v", err)
	}
	res, err := ob.ByServer(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if res.Server != Server || res.Port != Port || res.UnitID != d.UnitID {
		t.Errorf("result %+v", res)
	}
	crt, err := os.ReadFile(res.CertPath)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := os.ReadFile(filepath.Join(root, "etc/onramp/ums/ca.crt"))
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	blk, _ := pem.Decode(crt)
	cert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: d.UMS.RootPool(), Intermediates: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("certificate does not chain to the demo root: %v", err)
	}
	if cert.Subject.CommonName != d.UnitID {
		t.Errorf("CN %q", cert.Subject.CommonName)
	}
	if st, _ := os.Stat(filepath.Join(root, "etc/onramp/ums/device.key")); st.Mode().Perm() != 0o600 {
		t.Errorf("device.key mode %v", st.Mode().Perm())
	}
	devs, err := d.UMS.Devices(ctx)
	if err != nil || len(devs) != 1 || devs[0].UnitID != d.UnitID {
		t.Errorf("registry %+v %v", devs, err)
	}
	if _, err := ob.ByServer(ctx, req); code(err) != onboard.CodeEnroll {
		t.Errorf("the same key again: %v", err)
	}
	req.OTP = OneTimeKey(2)
	if _, err := ob.ByServer(ctx, req); code(err) != onboard.CodeEnroll {
		t.Errorf("same Unit ID again: %v", err)
	}
}

func TestDemoOnboardingByEmail(t *testing.T) {
	ctx := context.Background()
	d := newDevice(t, Options{})
	if _, err := d.Onboarder.ByEmail(ctx, "bob@elsewhere.org", nil); code(err) != onboard.CodeInvalidArguments {
		t.Errorf("unmapped domain: %v", err)
	}
	var shown onboard.DeviceCode
	res, err := d.Onboarder.ByEmail(ctx, "Alice.Smith@example.com", func(c onboard.DeviceCode) { shown = c })
	if err != nil {
		t.Fatal(err)
	}
	if shown.UserCode == "" || !strings.HasPrefix(shown.VerificationURIComplete, "https://"+Server+":8443/") {
		t.Errorf("device code %+v", shown)
	}
	if res.Server != Server || res.Port != Port {
		t.Errorf("result %+v", res)
	}
	var info onboard.ServerInfo
	js, _ := os.ReadFile(filepath.Join(d.Root, "etc/onramp/ums/server.json"))
	if err := json.Unmarshal(js, &info); err != nil {
		t.Fatal(err)
	}
	if info.Method != onboard.MethodService || info.OnboardedBy != "Alice.Smith@example.com" || info.Server != Server {
		t.Errorf("server.json %+v", info)
	}
}

// The demo's steps are real waits, and cancellable.
func TestDemoStepIsCancellable(t *testing.T) {
	d := newDevice(t, Options{Step: time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req := onboard.ServerRequest{Server: Server, Port: Port, OTP: OneTimeKey(1), Token: Token()}
	if _, err := d.Onboarder.ByServer(ctx, req); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("cancelled onboarding: %v", err)
	}
}

// Close stops the lab and removes its state; the root stays.
func TestCloseRemovesTheLabState(t *testing.T) {
	d, err := New(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := d.ums.dir
	if _, err := os.Stat(dir); err != nil {
		t.Fatal(err)
	}
	d.Close()
	d.Close()
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("lab state after Close: %v", err)
	}
	if _, err := os.Stat(filepath.Join(d.Root, "etc/os-release")); err != nil {
		t.Errorf("root after Close: %v", err)
	}
}
