package onboard_test

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onramp-os/onramp/internal/testutil"
	"github.com/onramp-os/onramp/onboard"
	"github.com/onramp-os/onramp/onboard/lab"
)

// labEnv is a ums-lab on 127.0.0.1 with a request counter and hooks.
type labEnv struct {
	srv     *lab.Server
	addr    string
	port    int
	dir     string
	enrolls atomic.Int32 // simpleenroll requests that reached the server
}

// labHooks change what the lab serves, to provoke failures.
type labHooks struct {
	wrap func(http.Handler) http.Handler // around the lab's handler
	cert *tls.Certificate                // server certificate instead of the lab's
	// certFor, when set, makes the server certificate one the lab's own
	// CA issues for these names and addresses only.
	certFor []string
}

func newLab(t *testing.T, cfg lab.Config, hooks labHooks) *labEnv {
	t.Helper()
	dir := t.TempDir()
	st, err := lab.OpenState(dir)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := lab.NewServer(st, cfg)
	if err != nil {
		t.Fatal(err)
	}
	env := &labEnv{srv: srv, dir: dir}
	var h http.Handler = srv.Handler()
	if hooks.wrap != nil {
		h = hooks.wrap(h)
	}
	inner := h
	h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/simpleenroll") {
			env.enrolls.Add(1)
		}
		inner.ServeHTTP(w, r)
	})
	tc := srv.TLSConfig()
	if hooks.cert != nil {
		tc.Certificates = []tls.Certificate{*hooks.cert}
	}
	if hooks.certFor != nil {
		c, err := st.CA.ServerCertificate(hooks.certFor)
		if err != nil {
			t.Fatal(err)
		}
		tc.Certificates = []tls.Certificate{c}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: h, TLSConfig: tc, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(tls.NewListener(ln, tc)) }()
	t.Cleanup(func() {
		_ = hs.Close()
		_ = st.Close()
	})
	env.addr = ln.Addr().String()
	env.port = ln.Addr().(*net.TCPAddr).Port
	return env
}

// key creates a first-authentication key.
func (e *labEnv) key(t *testing.T, spec lab.KeySpec) string {
	t.Helper()
	_, secret, err := e.srv.CreateKey(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	return secret
}

func (e *labEnv) request(otp string) onboard.ServerRequest {
	return onboard.ServerRequest{Server: "127.0.0.1", Port: e.port, OTP: otp, Token: e.srv.Token()}
}

// unitID is a distinct Unit ID for device n.
func unitID(n int) string {
	s := strconv.FormatInt(int64(0x00A0B0000000+n), 16)
	return strings.ToUpper(strings.Repeat("0", 12-len(s)) + s)
}

func newClient(t *testing.T, n int, opts ...onboard.Option) (*onboard.Client, string) {
	t.Helper()
	root := t.TempDir()
	return onboard.NewClient(root, append([]onboard.Option{onboard.WithUnitID(unitID(n))}, opts...)...), root
}

// wantCode fails unless err is an *onboard.Error with code.
func wantCode(t *testing.T, err error, code onboard.Code) *onboard.Error {
	t.Helper()
	var e *onboard.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T), want code %d", err, err, code)
	}
	if e.Code != code {
		t.Fatalf("code %d (%s), want %d", e.Code, e.Reason, code)
	}
	want := "Could not manage your device because of an internal error (" + strconv.Itoa(int(code)) + ")"
	if e.Error() != want {
		t.Fatalf("screen text %q, want %q", e.Error(), want)
	}
	return e
}

// opensslVerify checks cert against the lab CA with openssl, an
// independent judge.
func opensslVerify(t *testing.T, labDir, cert string) {
	t.Helper()
	testutil.RequireTools(t, "openssl")
	out, err := exec.Command("openssl", "verify", "-purpose", "sslclient",
		"-CAfile", filepath.Join(labDir, "root.crt"),
		"-untrusted", filepath.Join(labDir, "issuer.crt"), cert).CombinedOutput()
	if err != nil || !strings.Contains(string(out), ": OK") {
		t.Fatalf("openssl verify: %v\n%s", err, out)
	}
}
