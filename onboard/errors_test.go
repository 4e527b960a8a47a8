package onboard_test

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/onramp-os/onramp/onboard"
	"github.com/onramp-os/onramp/onboard/lab"
)

func TestClosedPortIs44(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	c, _ := newClient(t, 1)
	_, err = c.ByServer(context.Background(), onboard.ServerRequest{Server: "127.0.0.1", Port: port, OTP: "x", Token: strings.Repeat("ab", 8)})
	wantCode(t, err, onboard.CodeTCPConnect)
}

func TestPlainHTTPIs45(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	c, _ := newClient(t, 1)
	_, err := c.ByServer(context.Background(), onboard.ServerRequest{Server: "127.0.0.1", Port: portOf(srv.URL), OTP: "x", Token: strings.Repeat("ab", 8)})
	wantCode(t, err, onboard.CodeTLSConnect)
}

func TestTLS12OnlyIs45(t *testing.T) {
	env := newLab(t, lab.Config{}, labHooks{})
	srv := httptest.NewUnstartedServer(env.srv.Handler())
	srv.TLS = env.srv.TLSConfig()
	srv.TLS.MinVersion, srv.TLS.MaxVersion = tls.VersionTLS12, tls.VersionTLS12
	srv.StartTLS()
	defer srv.Close()
	c, _ := newClient(t, 1)
	req := env.request(env.key(t, lab.KeySpec{Kind: lab.KindOneTime}))
	req.Port = portOf(srv.URL)
	_, err := c.ByServer(context.Background(), req)
	wantCode(t, err, onboard.CodeTLSConnect)
}

func portOf(raw string) int {
	u, err := url.Parse(raw)
	if err != nil {
		return 0
	}
	p, _ := strconv.Atoi(u.Port())
	return p
}

func TestWrongTokenIs46AndSendsNothing(t *testing.T) {
	env := newLab(t, lab.Config{}, labHooks{})
	key := env.key(t, lab.KeySpec{Kind: lab.KindOneTime})
	c, root := newClient(t, 1)
	req := env.request(key)
	req.Token = env.srv.Fingerprint().Part(2) // a real part, the wrong one
	_, err := c.ByServer(context.Background(), req)
	wantCode(t, err, onboard.CodeVerifyChain)
	if n := env.enrolls.Load(); n != 0 {
		t.Fatalf("the lab saw %d enrollment requests", n)
	}
	keys, _ := env.srv.Keys(context.Background())
	if keys[0].Uses != 0 {
		t.Fatal("the key was used")
	}
	if _, err := os.Stat(filepath.Join(root, "etc/onramp/ums/device.key")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a key was saved: %v", err)
	}
}

func TestServerCertNotChainingIs46(t *testing.T) {
	other, err := lab.OpenState(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	foreign, err := other.CA.ServerCertificate([]string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	// cacerts answers with this lab's chain (so the token matches), but
	// the TLS certificate comes from another CA.
	env := newLab(t, lab.Config{}, labHooks{cert: &foreign})
	c, _ := newClient(t, 1)
	_, err = c.ByServer(context.Background(), env.request(env.key(t, lab.KeySpec{Kind: lab.KindOneTime})))
	wantCode(t, err, onboard.CodeVerifyChain)
	if n := env.enrolls.Load(); n != 0 {
		t.Fatalf("the lab saw %d enrollment requests", n)
	}
}

func TestCACertsFailingIs37(t *testing.T) {
	cases := map[string]http.HandlerFunc{
		"server error": func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "boom", http.StatusInternalServerError) },
		"not base64":   func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("<html>proxy login</html>")) },
		"not PKCS#7":   func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("aGVsbG8gd29ybGQ=")) },
	}
	for name, h := range cases {
		t.Run(name, func(t *testing.T) {
			env := newLab(t, lab.Config{}, labHooks{wrap: overrideCACerts(h)})
			c, _ := newClient(t, 1)
			_, err := c.ByServer(context.Background(), env.request(env.key(t, lab.KeySpec{Kind: lab.KindOneTime})))
			e := wantCode(t, err, onboard.CodeCACerts)
			if !strings.Contains(e.Hint, "curl --tlsv1.3 --insecure https://"+env.addr+"/device-connector/") {
				t.Errorf("hint %q lacks the guide's check", e.Hint)
			}
		})
	}
	t.Run("incomplete chain", func(t *testing.T) {
		var env *labEnv
		env = newLab(t, lab.Config{}, labHooks{wrap: overrideCACerts(func(w http.ResponseWriter, _ *http.Request) {
			body, _ := onboard.EncodeCertsOnly(env.srv.CA.Issuer) // no root
			_, _ = w.Write(body)
		})})
		c, _ := newClient(t, 1)
		_, err := c.ByServer(context.Background(), env.request(env.key(t, lab.KeySpec{Kind: lab.KindOneTime})))
		wantCode(t, err, onboard.CodeCACerts)
	})
}

func overrideCACerts(h http.HandlerFunc) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "/cacerts") {
				h(w, r)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

func TestBadKeyIs38(t *testing.T) {
	env := newLab(t, lab.Config{}, labHooks{})
	c, _ := newClient(t, 1)
	e := wantCode(t, mustFail(c.ByServer(context.Background(), env.request("NOT-A-KEY"))), onboard.CodeEnroll)
	if !strings.Contains(e.Reason, "401") {
		t.Errorf("reason %q", e.Reason)
	}
	if strings.Contains(e.Reason, "NOT-A-KEY") || strings.Contains(e.Error(), "NOT-A-KEY") {
		t.Error("the password appears in the error")
	}
}

func TestUnwritableRootIs41BeforeEnrolling(t *testing.T) {
	env := newLab(t, lab.Config{}, labHooks{})
	root := filepath.Join(t.TempDir(), "root")
	if err := os.WriteFile(root, nil, 0o644); err != nil { // a file: nothing can be created below it
		t.Fatal(err)
	}
	c := onboard.NewClient(root, onboard.WithUnitID(unitID(1)))
	_, err := c.ByServer(context.Background(), env.request(env.key(t, lab.KeySpec{Kind: lab.KindOneTime})))
	wantCode(t, err, onboard.CodeSaveCert)
	if n := env.enrolls.Load(); n != 0 {
		t.Fatalf("enrolled although the result could not be saved (%d requests)", n)
	}
}

func TestInvalidInputIs32(t *testing.T) {
	tok := strings.Repeat("0a", 8)
	for name, req := range map[string]onboard.ServerRequest{
		"empty server":   {Server: "", Port: 8443, OTP: "k", Token: tok},
		"bad host":       {Server: "ums example.com", Port: 8443, OTP: "k", Token: tok},
		"long host":      {Server: strings.Repeat("a.", 130) + "com", Port: 8443, OTP: "k", Token: tok},
		"port too large": {Server: "ums.example.com", Port: 70000, OTP: "k", Token: tok},
		"empty otp":      {Server: "ums.example.com", Port: 8443, OTP: "", Token: tok},
		"short token":    {Server: "ums.example.com", Port: 8443, OTP: "k", Token: "abcd"},
		"non-hex token":  {Server: "ums.example.com", Port: 8443, OTP: "k", Token: strings.Repeat("zz", 8)},
	} {
		t.Run(name, func(t *testing.T) {
			c, _ := newClient(t, 1)
			_, err := c.ByServer(context.Background(), req)
			wantCode(t, err, onboard.CodeInvalidArguments)
		})
	}
	c, _ := newClient(t, 1)
	_, err := c.ByEmail(context.Background(), "not an address", nil)
	wantCode(t, err, onboard.CodeInvalidArguments)
}

func TestPendingIsWaitedOut(t *testing.T) {
	env := newLab(t, lab.Config{PendingEnrolls: 2, RetryAfter: time.Second}, labHooks{})
	c, _ := newClient(t, 1)
	start := time.Now()
	if _, err := c.ByServer(context.Background(), env.request(env.key(t, lab.KeySpec{Kind: lab.KindOneTime}))); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 2*time.Second {
		t.Fatalf("two Retry-After: 1 answers waited out in %v", d)
	}
	if n := env.enrolls.Load(); n != 3 {
		t.Fatalf("%d enrollment requests, want 3", n)
	}

	// Bounded: more waiting than allowed is code 39.
	c2, _ := newClient(t, 2, onboard.WithMaxPending(500*time.Millisecond))
	_, err := c2.ByServer(context.Background(), env.request(env.key(t, lab.KeySpec{Kind: lab.KindOneTime})))
	wantCode(t, err, onboard.CodeRetrieveCert)

	// Cancellable: the wait ends with the context.
	c3, _ := newClient(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err = c3.ByServer(ctx, env.request(env.key(t, lab.KeySpec{Kind: lab.KindOneTime})))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v, want the context's", err)
	}
}

// A server reached by IP address must have that address among its
// certificate's IP SANs: a certificate the pinned root issued for another
// address (or only for names) is refused (46) before anything is sent.
func TestIPServerWithCertificateForAnotherAddressIs46(t *testing.T) {
	for name, hosts := range map[string][]string{
		"another IP":    {"192.0.2.7"},
		"IP as a name":  {"ums.corp.test", "localhost"},
		"IPv6 for IPv4": {"::1"},
	} {
		t.Run(name, func(t *testing.T) {
			env := newLab(t, lab.Config{}, labHooks{certFor: hosts})
			key := env.key(t, lab.KeySpec{Kind: lab.KindOneTime})
			c, root := newClient(t, 1)
			_, err := c.ByServer(context.Background(), env.request(key))
			wantCode(t, err, onboard.CodeVerifyChain)
			if n := env.enrolls.Load(); n != 0 {
				t.Fatalf("the lab saw %d enrollment requests over a connection to the wrong address", n)
			}
			if _, err := os.Stat(filepath.Join(root, "etc/onramp/ums/device.key")); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("a key was saved: %v", err)
			}
		})
	}
	// The same lab with the address in its certificate enrolls.
	env := newLab(t, lab.Config{}, labHooks{certFor: []string{"192.0.2.7", "127.0.0.1"}})
	c, _ := newClient(t, 2)
	if _, err := c.ByServer(context.Background(), env.request(env.key(t, lab.KeySpec{Kind: lab.KindOneTime}))); err != nil {
		t.Fatalf("ByServer with 127.0.0.1 in the certificate: %v", err)
	}
}

// A wrong token says only that the root does not match: the server's own
// fingerprint part would tell a man in the middle what token to aim for
// and teach the user to copy whatever the screen shows.
func TestWrongTokenDoesNotEchoTheServersFingerprint(t *testing.T) {
	env := newLab(t, lab.Config{}, labHooks{})
	c, _ := newClient(t, 1)
	req := env.request(env.key(t, lab.KeySpec{Kind: lab.KindOneTime}))
	req.Token = env.srv.Fingerprint().Part(2)
	_, err := c.ByServer(context.Background(), req)
	e := wantCode(t, err, onboard.CodeVerifyChain)
	text := e.Detail() + " " + e.Reason + " " + e.Hint
	for i, part := range env.srv.Fingerprint().Parts() {
		if part != req.Token && strings.Contains(strings.ToLower(text), part) {
			t.Errorf("the error shows fingerprint part %d of the server: %s", i+1, text)
		}
	}
	if !strings.Contains(e.Reason, "does not match the communication token") {
		t.Errorf("reason %q does not say that the root and the token differ", e.Reason)
	}
}
