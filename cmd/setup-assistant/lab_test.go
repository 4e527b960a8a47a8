package main

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onramp-os/onramp/onboard/lab"
)

// TestUnattendedAgainstTheLab is issue 5's check through this command: an
// offline root, network skipped, onboarding by server against an ums-lab
// on 127.0.0.1 with the real client: enrolled with a certificate the lab's
// CA verifies; the same key again fails with (38); a wrong token with (46).
func TestUnattendedAgainstTheLab(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, err := lab.OpenState(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := lab.NewServer(st, lab.Config{})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ctx, ln) }()
	port := ln.Addr().(*net.TCPAddr).Port
	_, key, err := st.CreateKey(ctx, lab.KeySpec{Kind: lab.KindOneTime})
	if err != nil {
		t.Fatal(err)
	}
	answers := func(token string) string {
		f := filepath.Join(t.TempDir(), "a.yaml")
		body := fmt.Sprintf("language: en\neula: accept\nnetwork: skip\ntimezone: UTC\nonboarding: {server: 127.0.0.1, port: %d, otp: %q, token: %q}\n", port, key, token)
		if err := os.WriteFile(f, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return f
	}
	eula := func(root string) {
		_ = os.MkdirAll(filepath.Join(root, "usr/share/onramp/eula"), 0o755)
		_ = os.WriteFile(filepath.Join(root, "usr/share/onramp/eula/en.txt"), []byte("terms"), 0o644)
	}
	run := func(token string) (string, int, string) {
		root := t.TempDir()
		eula(root)
		code, _, errOut := runCLI(t, "--root", root, "--non-interactive", "--answers", answers(token))
		return root, code, errOut
	}

	wrong := "0000000000000000"
	if _, code, errOut := run(wrong); code != 1 || !strings.Contains(errOut, "(46)") {
		t.Fatalf("wrong token: %d %s", code, errOut)
	}
	root, code, errOut := run(st.Token())
	if code != 0 {
		t.Fatalf("enroll: %d %s", code, errOut)
	}
	crt, err := os.ReadFile(filepath.Join(root, "etc/onramp/ums/device.crt"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pem.Decode(crt)
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Verify(x509.VerifyOptions{Roots: st.RootPool(), Intermediates: intermediates(t, root), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		t.Errorf("the lab's CA does not verify the device certificate: %v", err)
	}
	if _, code, errOut := run(st.Token()); code != 1 || !strings.Contains(errOut, "(38)") {
		t.Errorf("the same key again: %d %s", code, errOut)
	}
}

func intermediates(t *testing.T, root string) *x509.CertPool {
	t.Helper()
	pool := x509.NewCertPool()
	if data, err := os.ReadFile(filepath.Join(root, "etc/onramp/ums/ca.crt")); err == nil {
		pool.AppendCertsFromPEM(data)
	}
	return pool
}
