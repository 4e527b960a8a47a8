package agent_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onramp-os/onramp/agent"
	"github.com/onramp-os/onramp/internal/testutil"
	"github.com/onramp-os/onramp/license"
	"github.com/onramp-os/onramp/onboard"
	"github.com/onramp-os/onramp/onboard/lab"
)

const unit = "005056938D22"

// env is a real ums-lab serving TLS 1.3 on 127.0.0.1 and a device root
// enrolled with it by the real onboarding client.
type env struct {
	srv    *lab.Server
	addr   string
	root   string
	cancel context.CancelFunc
	logs   *testutil.SyncBuffer
}

func enrolled(t *testing.T, cfg lab.Config) *env {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	srv, addr, err := lab.StartInProcess(ctx, t.TempDir(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		<-srv.Done()
	})
	_, otp, err := srv.CreateKey(ctx, lab.KeySpec{Kind: lab.KindOneTime})
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "etc/os-release"), []byte("NAME=\"Onramp OS\"\nVERSION=\"12.2\"\nPRETTY_NAME=\"Onramp OS 12.2\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(addr)
	p, _ := strconv.Atoi(port)
	if _, err := onboard.NewClient(root, onboard.WithUnitID(unit)).ByServer(ctx,
		onboard.ServerRequest{Server: host, Port: p, OTP: otp, Token: srv.Token()}); err != nil {
		t.Fatal(err)
	}
	return &env{srv: srv, addr: addr, root: root, cancel: cancel, logs: &testutil.SyncBuffer{}}
}

func (e *env) config() agent.Config {
	return agent.Config{Root: e.root, Version: "test", Log: slog.New(slog.NewTextHandler(e.logs, nil))}
}

func (e *env) noSecretInLogs(t *testing.T) {
	t.Helper()
	key, err := os.ReadFile(filepath.Join(e.root, onboard.UMSDir, onboard.KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pem.Decode(key)
	body := string(key[strings.Index(string(key), "\n")+1:])
	if b == nil || strings.Contains(e.logs.String(), body[:40]) || strings.Contains(e.logs.String(), "PRIVATE KEY") {
		t.Fatal("the device key reached the log")
	}
	fi, _ := os.Stat(filepath.Join(e.root, onboard.UMSDir, onboard.KeyFile))
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("device.key mode %v", fi.Mode().Perm())
	}
}

func TestCheckInReceivesAssignedLicenses(t *testing.T) {
	e := enrolled(t, lab.Config{})
	ctx := context.Background()
	kiosk, err := e.srv.AssignLicense(ctx, unit, "Kiosk", 90)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.srv.AssignLicense(ctx, "0050569300AA", "Other", 90); err != nil {
		t.Fatal(err)
	}
	// A Starter license written when onboarding was skipped earlier stays.
	if _, err := license.WriteStarter(e.root, unit, time.Now()); err != nil {
		t.Fatal(err)
	}
	res, err := agent.Once(ctx, e.config())
	if err != nil {
		t.Fatalf("check-in: %v\n%s", err, e.logs.String())
	}
	if res.UnitID != unit || res.Received != 1 || res.Reenrolled || len(res.Licenses) != 2 || license.Count(res.Licenses) != 2 {
		t.Fatalf("%+v", res)
	}
	got := res.Licenses[1]
	if got.File != "ums-"+kiosk.ID+".lic" || got.License.Product != "Kiosk" || got.License.Issuer != lab.SignerName || got.DaysLeft != 90 {
		t.Fatalf("%+v", got)
	}
	stored, err := os.ReadFile(filepath.Join(e.root, license.Dir, got.File))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, p, err := license.Parse(stored); err != nil || p.ID != kiosk.ID {
		t.Fatalf("stored %v %v", p, err)
	}
	recs, err := e.srv.DeviceRecords(ctx)
	if err != nil || len(recs) != 1 {
		t.Fatalf("%v %v", recs, err)
	}
	r := recs[0]
	if r.UnitID != unit || time.Since(r.LastSeen) > time.Minute || r.OSVersion != "Onramp OS 12.2" || r.Revoked {
		t.Fatalf("%+v", r)
	}
	e.noSecretInLogs(t)
}

func TestRevokedCertificateIsRefused(t *testing.T) {
	e := enrolled(t, lab.Config{})
	ctx := context.Background()
	if _, err := agent.Once(ctx, e.config()); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.RevokeDevice(ctx, unit); err != nil {
		t.Fatal(err)
	}
	_, err := agent.Once(ctx, e.config())
	if !errors.Is(err, onboard.ErrRefused) || !strings.Contains(err.Error(), "revoked") {
		t.Fatalf("revoked: %v", err)
	}
	recs, _ := e.srv.DeviceRecords(ctx)
	if len(recs) != 1 || !recs[0].Revoked {
		t.Fatalf("%+v", recs)
	}
}

func TestDeletedDeviceIsRefused(t *testing.T) {
	e := enrolled(t, lab.Config{})
	ctx := context.Background()
	if err := e.srv.DeleteDevice(ctx, unit); err != nil {
		t.Fatal(err)
	}
	if _, err := agent.Once(ctx, e.config()); !errors.Is(err, onboard.ErrRefused) || !strings.Contains(err.Error(), "no registered device") {
		t.Fatalf("deleted: %v", err)
	}
}

// A certificate that is not from the UMS's CA fails the TLS handshake.
func TestForeignCertificateIsRefused(t *testing.T) {
	e := enrolled(t, lab.Config{})
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: unit},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(1, 0, 0),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kd, _ := x509.MarshalPKCS8PrivateKey(key)
	dir := filepath.Join(e.root, onboard.UMSDir)
	if err := os.WriteFile(filepath.Join(dir, onboard.KeyFile), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, onboard.CertFile), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := agent.Once(context.Background(), e.config()); !errors.Is(err, onboard.ErrRefused) || !strings.Contains(err.Error(), "TLS") {
		t.Fatalf("foreign certificate: %v", err)
	}
}

func TestUnreachableServer(t *testing.T) {
	e := enrolled(t, lab.Config{})
	e.cancel()
	<-e.srv.Done()
	_, err := agent.Once(context.Background(), e.config())
	var ae *agent.Error
	if !errors.As(err, &ae) || ae.Code != onboard.CodeTCPConnect || !strings.Contains(err.Error(), "connect to "+e.addr) {
		t.Fatalf("%v", err)
	}
	if errors.Is(err, onboard.ErrRefused) {
		t.Fatal("an unreachable server counted as a refusal")
	}
}

func TestNotOnboarded(t *testing.T) {
	if _, err := agent.Once(context.Background(), agent.Config{Root: t.TempDir()}); !errors.Is(err, agent.ErrNotOnboarded) {
		t.Fatalf("%v", err)
	}
}

// A certificate with less than a third of its validity left is renewed
// with simplereenroll before the check-in, which then uses the new one.
func TestReenrollsShortLivedCertificate(t *testing.T) {
	e := enrolled(t, lab.Config{DeviceCertValidity: 2 * time.Minute}) // valid 7 min (5 min back-dated), 2 left
	ctx := context.Background()
	old, err := onboard.LoadEnrollment(e.root)
	if err != nil {
		t.Fatal(err)
	}
	res, err := agent.Once(ctx, e.config())
	if err != nil {
		t.Fatalf("%v\n%s", err, e.logs.String())
	}
	now, err := onboard.LoadEnrollment(e.root)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Reenrolled || now.Leaf.SerialNumber.Cmp(old.Leaf.SerialNumber) == 0 || !res.CertExpiry.Equal(now.Leaf.NotAfter) {
		t.Fatalf("reenrolled %v, serial %x → %x", res.Reenrolled, old.Leaf.SerialNumber, now.Leaf.SerialNumber)
	}
	recs, _ := e.srv.DeviceRecords(ctx)
	if len(recs) != 1 || recs[0].Serial != now.Leaf.SerialNumber.Text(16) || recs[0].LastSeen.IsZero() {
		t.Fatalf("%+v", recs)
	}
	if fi, _ := os.Stat(filepath.Join(e.root, onboard.UMSDir, onboard.KeyFile)); fi.Mode().Perm() != 0o600 {
		t.Fatalf("new key mode %v", fi.Mode().Perm())
	}
	// The replaced certificate is no longer the device's.
	if err := e.srv.RevokeDevice(ctx, unit); err != nil {
		t.Fatal(err)
	}
	if _, err := onboard.NewClient(e.root, onboard.WithUnitID(unit)).Reenroll(ctx); err == nil {
		t.Fatal("a revoked certificate re-enrolled")
	}
	e.noSecretInLogs(t)
}

func TestRenewBefore(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	end := start.AddDate(0, 0, 300)
	for _, tc := range []struct {
		day  int
		want bool
	}{{0, false}, {199, false}, {201, true}, {299, true}, {400, true}} {
		if got := agent.RenewBefore(start, end, start.AddDate(0, 0, tc.day)); got != tc.want {
			t.Errorf("day %d: %v", tc.day, got)
		}
	}
}

func TestRunChecksInPeriodically(t *testing.T) {
	e := enrolled(t, lab.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	var ok int
	done := make(chan error)
	go func() {
		done <- agent.Run(ctx, e.config(), agent.Schedule{Interval: 50 * time.Millisecond}, func(_ agent.Result, err error) {
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				ok++
			}
			if ok == 3 {
				cancel()
			}
		})
	}()
	select {
	case err := <-done:
		if err != nil || ok < 3 {
			t.Fatalf("%v after %d check-ins", err, ok)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("3 check-ins did not happen: %s", e.logs.String())
	}
}

func TestRunBacksOffWhileUnreachable(t *testing.T) {
	e := enrolled(t, lab.Config{})
	e.cancel()
	<-e.srv.Done()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var attempts []time.Time
	done := make(chan error)
	go func() {
		done <- agent.Run(ctx, e.config(), agent.Schedule{Interval: time.Second, MinBackoff: 40 * time.Millisecond, Jitter: 0.01},
			func(_ agent.Result, err error) {
				if err == nil {
					t.Error("checked in with a stopped server")
				}
				attempts = append(attempts, time.Now())
				if len(attempts) == 4 {
					cancel()
				}
			})
	}()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// Waits double: 40, 80, 160 ms (at least, with 1 % jitter).
	for i, want := range []time.Duration{39, 79, 158} {
		if gap := attempts[i+1].Sub(attempts[i]); gap < want*time.Millisecond {
			t.Errorf("wait %d: %v, want at least %d ms", i, gap, want)
		}
	}
}

// A device onboarded while the loop runs is checked in shortly after.
func TestRunWaitsForOnboarding(t *testing.T) {
	e := enrolled(t, lab.Config{})
	dir := filepath.Join(e.root, onboard.UMSDir)
	if err := os.Rename(dir, dir+".later"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	results := make(chan error, 100)
	go func() {
		_ = agent.Run(ctx, e.config(), agent.Schedule{Interval: time.Hour, MinBackoff: 30 * time.Millisecond}, func(_ agent.Result, err error) {
			results <- err
		})
	}()
	if err := <-results; !errors.Is(err, agent.ErrNotOnboarded) {
		t.Fatalf("first attempt: %v", err)
	}
	if err := os.Rename(dir+".later", dir); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(20 * time.Second)
	for {
		select {
		case err := <-results:
			if err == nil {
				if n := strings.Count(e.logs.String(), "not onboarded yet"); n != 1 {
					t.Errorf("logged %d times that the device is not onboarded", n)
				}
				return
			}
			if !errors.Is(err, agent.ErrNotOnboarded) {
				t.Fatal(err)
			}
		case <-deadline:
			t.Fatal("no check-in after onboarding")
		}
	}
}

// The check-in endpoint, spoken to directly with the device's certificate:
// a body over 64 KiB is refused unread, one naming another Unit ID too,
// and without a certificate there is no check-in.
func TestCheckInEndpointRefusals(t *testing.T) {
	e := enrolled(t, lab.Config{})
	en, err := onboard.LoadEnrollment(e.root)
	if err != nil {
		t.Fatal(err)
	}
	post := func(withCert bool, body string) int {
		t.Helper()
		cfg := &tls.Config{RootCAs: e.srv.RootPool(), MinVersion: tls.VersionTLS13}
		if withCert {
			cfg.Certificates = []tls.Certificate{en.Cert}
		}
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}
		defer c.CloseIdleConnections()
		resp, err := c.Post("https://"+e.addr+onboard.CheckInPath, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := post(true, `{"unit_id":"`+unit+`","facts":{"hostname":"`+strings.Repeat("x", 70<<10)+`"}}`); got != http.StatusRequestEntityTooLarge {
		t.Errorf("70 KiB: %d", got)
	}
	if got := post(true, `{"unit_id":"0050569300AA"}`); got != http.StatusBadRequest {
		t.Errorf("another Unit ID: %d", got)
	}
	if got := post(false, `{"unit_id":"`+unit+`"}`); got != http.StatusUnauthorized {
		t.Errorf("no certificate: %d", got)
	}
	if got := post(true, `{"unit_id":"`+unit+`"}`); got != http.StatusOK {
		t.Errorf("a good check-in: %d", got)
	}
}
