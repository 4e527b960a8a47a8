package demo

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/onramp-os/onramp/onboard"
)

func code(err error) onboard.Code {
	var oe *onboard.Error
	if errors.As(err, &oe) {
		return oe.Code
	}
	return 0
}

func TestDemoOnboardingByServer(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	d, err := New(root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if d.UnitID != "005056938D22" {
		t.Errorf("Unit ID %q", d.UnitID)
	}
	ob := d.Onboarder
	req := onboard.ServerRequest{Server: Server, Port: Port, OTP: OneTimeKey(1), Token: ob.Token()}
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
	bad.OTP = "nope"
	if _, err := ob.ByServer(ctx, bad); code(err) != onboard.CodeEnroll {
		t.Errorf("unknown key: %v", err)
	}
	res, err := ob.ByServer(ctx, req)
	if err != nil {
		t.Fatal(err)
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
	if _, err := cert.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("certificate does not chain to the CA: %v", err)
	}
	if cert.Subject.CommonName != d.UnitID {
		t.Errorf("CN %q", cert.Subject.CommonName)
	}
	if st, _ := os.Stat(filepath.Join(root, "etc/onramp/ums/device.key")); st.Mode().Perm() != 0o600 {
		t.Errorf("device.key mode %v", st.Mode().Perm())
	}
	req.OTP = OneTimeKey(2)
	if _, err := ob.ByServer(ctx, req); code(err) != onboard.CodeEnroll {
		t.Errorf("same Unit ID again: %v", err)
	}
}

func TestDemoOnboardingByEmail(t *testing.T) {
	ctx := context.Background()
	d, err := New(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Onboarder.ByEmail(ctx, "bob@elsewhere.org", nil); code(err) != onboard.CodeInvalidArguments {
		t.Errorf("unmapped domain: %v", err)
	}
	var shown onboard.DeviceCode
	if _, err := d.Onboarder.ByEmail(ctx, "Alice.Smith@example.com", func(c onboard.DeviceCode) { shown = c }); err != nil {
		t.Fatal(err)
	}
	if shown.UserCode != UserCode {
		t.Errorf("device code %+v", shown)
	}
}
