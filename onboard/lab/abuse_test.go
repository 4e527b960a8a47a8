package lab

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onramp-os/onramp/onboard"
)

// testLab serves a fresh state on 127.0.0.1 over TLS 1.3 until the test
// ends.
type testLab struct {
	srv  *Server
	addr string
}

func startLab(t *testing.T, cfg Config) *testLab {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	srv, addr, err := StartInProcess(ctx, t.TempDir(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); <-srv.Done() })
	return &testLab{srv: srv, addr: addr}
}

// client trusts the lab root; from, when set, is the local address the
// connections come from (any of 127.0.0.0/8 reaches the lab).
func (l *testLab) client(from string) *http.Client {
	d := &net.Dialer{}
	if from != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(from)}
	}
	return &http.Client{Transport: &http.Transport{
		DialContext:     d.DialContext,
		TLSClientConfig: &tls.Config{RootCAs: l.srv.RootPool(), MinVersion: tls.VersionTLS13},
	}}
}

// newCSR is a device key and its PEM-less base64 CSR for unitID.
func newCSR(t testing.TB, unitID string) (*ecdsa.PrivateKey, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: unitID}}, key)
	if err != nil {
		t.Fatal(err)
	}
	return key, onboard.EncodeCSR(der)
}

// enrollReq posts a simpleenroll and returns status, body and header.
func (l *testLab) enroll(t *testing.T, c *http.Client, unitID, secret string, csr []byte) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, "https://"+l.addr+estPrefix+"simpleenroll", bytes.NewReader(csr))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/pkcs10")
	req.SetBasicAuth(unitID, secret)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), resp.Header
}

// countingReader hands out n bytes of filler and counts what was read.
type countingReader struct {
	left int64
	read atomic.Int64
	fill byte
}

func (c *countingReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		return 0, io.EOF
	}
	n := int64(len(p))
	if n > c.left {
		n = c.left
	}
	for i := range p[:n] {
		p[i] = c.fill
	}
	c.left -= n
	c.read.Add(n)
	return int(n), nil
}

// Every endpoint stops reading a body at its limit (4 KiB for forms and
// JSON, 64 KiB for a CSR): 50 MB posted as a form or as multipart (whose
// file parts would otherwise spill into temporary files) cost the server
// no more than that.
func TestEveryRequestBodyIsLimited(t *testing.T) {
	st, err := OpenState(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srv, err := NewServer(st, Config{})
	if err != nil {
		t.Fatal(err)
	}
	h := srv.Handler()
	const posted = 50 << 20
	for _, path := range []string{
		idpAuthorize, idpToken, idpVerify,
		servicePrefix + onboard.ServiceRoutePath, servicePrefix + onboard.ServiceEnrollmentTokenPath,
		estPrefix + "simpleenroll", estPrefix + "simplereenroll",
	} {
		for _, kind := range []string{"form", "multipart"} {
			body := &countingReader{left: posted, fill: 'a'}
			var r io.Reader = body
			ctype := "application/x-www-form-urlencoded"
			if kind == "multipart" {
				pr, pw := io.Pipe()
				mw := multipart.NewWriter(pw)
				ctype = mw.FormDataContentType()
				go func() {
					fw, err := mw.CreateFormFile("client_id", "big.bin")
					if err == nil {
						_, err = io.Copy(fw, body)
					}
					if err == nil {
						err = mw.Close()
					}
					pw.CloseWithError(err)
				}()
				r = pr
			}
			req := httptest.NewRequest(http.MethodPost, "https://127.0.0.1"+path, r)
			req.Header.Set("Content-Type", ctype)
			req.Header.Set("Authorization", "Bearer "+strings.Repeat("0", 64))
			if strings.HasPrefix(path, estPrefix) {
				req.SetBasicAuth(unit(1), "ABCDE-FGHJK-LMNPQ-RSTUV")
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if r, ok := r.(*io.PipeReader); ok {
				r.Close()
			}
			if got := body.read.Load(); got > 64<<10+8<<10 {
				t.Errorf("POST %s (%s): the server read %d bytes of a %d-byte body (status %d)", path, kind, got, posted, rec.Code)
			}
			if rec.Code < 400 {
				t.Errorf("POST %s (%s): status %d", path, kind, rec.Code)
			}
		}
	}
}

// Every refused key gets the same answer, whether it is unknown, used,
// disabled or bound to another Unit ID: the answer must not tell an
// attacker which keys (or Unit IDs) exist.
func TestEnrollmentRefusalsLookAlike(t *testing.T) {
	l := startLab(t, Config{})
	ctx := context.Background()
	_, used, _ := l.srv.CreateKey(ctx, KeySpec{Kind: KindOneTime})
	_, csr := newCSR(t, unit(1))
	c := l.client("")
	if code, body, _ := l.enroll(t, c, unit(1), used, csr); code != http.StatusOK {
		t.Fatalf("enroll: %d %s", code, body)
	}
	id, disabled, _ := l.srv.CreateKey(ctx, KeySpec{Kind: KindOneTime})
	if err := l.srv.DisableKey(ctx, id); err != nil {
		t.Fatal(err)
	}
	_, bound, _ := l.srv.CreateKey(ctx, KeySpec{Kind: KindBound, UnitID: unit(9)})
	type answer struct {
		code int
		body string
		auth string
	}
	answers := map[string]answer{}
	for name, secret := range map[string]string{"unknown": "ABCDE-FGHJK-LMNPQ-RSTUV", "used": used, "disabled": disabled, "bound elsewhere": bound} {
		_, csr := newCSR(t, unit(2))
		code, body, h := l.enroll(t, c, unit(2), secret, csr)
		answers[name] = answer{code, body, h.Get("WWW-Authenticate")}
	}
	want := answers["unknown"]
	if want.code != http.StatusUnauthorized && want.code != http.StatusForbidden {
		t.Fatalf("unknown key: status %d", want.code)
	}
	for name, a := range answers {
		if a != want {
			t.Errorf("%s key: %+v; unknown key: %+v", name, a, want)
		}
	}
}

// Failed authentications are limited per source address and per Unit ID:
// past the budget the lab answers 429 with Retry-After without looking at
// the key, so even the right key waits and is not consumed.
func TestEnrollmentFailuresAreRateLimited(t *testing.T) {
	l := startLab(t, Config{})
	ctx := context.Background()
	_, good, _ := l.srv.CreateKey(ctx, KeySpec{Kind: KindOneTime})
	wrong := func(i int) string { return fmt.Sprintf("WRONG-%05d-KEYXX-XXXXX", i) }

	// One source guessing keys for many Unit IDs.
	c := l.client("127.0.0.2")
	limited := 0
	for i := 0; i < 3*DefaultSourceLimit.Burst; i++ {
		_, csr := newCSR(t, unit(100+i))
		code, _, h := l.enroll(t, c, unit(100+i), wrong(i), csr)
		if code == http.StatusTooManyRequests {
			limited++
			if h.Get("Retry-After") == "" {
				t.Fatal("429 without Retry-After")
			}
		}
	}
	if limited < DefaultSourceLimit.Burst {
		t.Fatalf("%d of %d wrong keys from one source were limited", limited, 3*DefaultSourceLimit.Burst)
	}
	_, csr := newCSR(t, unit(1))
	if code, _, _ := l.enroll(t, c, unit(1), good, csr); code != http.StatusTooManyRequests {
		t.Fatalf("the right key from the limited source: %d, want 429", code)
	}

	// Many sources guessing the key of one Unit ID.
	limited = 0
	for i := 0; i < 3*DefaultUnitLimit.Burst; i++ {
		c := l.client(fmt.Sprintf("127.0.1.%d", i+1))
		_, csr := newCSR(t, unit(2))
		if code, _, _ := l.enroll(t, c, unit(2), wrong(1000+i), csr); code == http.StatusTooManyRequests {
			limited++
		}
	}
	if limited < DefaultUnitLimit.Burst {
		t.Fatalf("%d of %d wrong keys for one Unit ID were limited", limited, 3*DefaultUnitLimit.Burst)
	}
	if keys, _ := l.srv.Keys(ctx); keys[0].Uses != 0 {
		t.Fatal("the key was consumed while limited")
	}
	// Another source and Unit ID are not affected.
	_, csr = newCSR(t, unit(3))
	if code, body, _ := l.enroll(t, l.client("127.0.2.1"), unit(3), good, csr); code != http.StatusOK {
		t.Fatalf("a fresh source and Unit ID: %d %s", code, body)
	}
}

// With --pending the key is checked before any 202: a wrong key is refused
// at once, and the table of held-back Unit IDs stays bounded.
func TestPendingChecksTheKeyFirst(t *testing.T) {
	l := startLab(t, Config{PendingEnrolls: 1})
	_, csr := newCSR(t, unit(1))
	if code, body, _ := l.enroll(t, l.client(""), unit(1), "ABCDE-FGHJK-LMNPQ-RSTUV", csr); code != http.StatusUnauthorized && code != http.StatusForbidden {
		t.Fatalf("wrong key with --pending: %d %s, want a refusal", code, body)
	}
	for i := 0; i < 3*maxPendingUnits; i++ {
		l.srv.holdBack(unit(i))
	}
	l.srv.mu.Lock()
	n := len(l.srv.pending)
	l.srv.mu.Unlock()
	if n > maxPendingUnits {
		t.Fatalf("%d Unit IDs held in the pending table", n)
	}
}

// A device whose answer was lost (connection cut, server killed after the
// commit) retries with the same Unit ID, key and CSR: it gets the same
// certificate, from this server or from one restarted on the same state,
// and nothing more is consumed. Another public key is still refused.
func TestEnrollmentRetryGetsTheSameCertificate(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	srv, addr, err := StartInProcess(ctx, dir, Config{})
	if err != nil {
		t.Fatal(err)
	}
	l := &testLab{srv: srv, addr: addr}
	_, secret, _ := srv.CreateKey(ctx, KeySpec{Kind: KindOneTime})
	_, csr := newCSR(t, unit(1))
	c := l.client("")
	code, first, _ := l.enroll(t, c, unit(1), secret, csr)
	if code != http.StatusOK {
		t.Fatalf("enroll: %d %s", code, first)
	}
	if code, again, _ := l.enroll(t, c, unit(1), secret, csr); code != http.StatusOK || again != first {
		t.Fatalf("retry: %d, same certificate %v", code, again == first)
	}
	cancel()
	<-srv.Done()

	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	srv, addr, err = StartInProcess(ctx, dir, Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); <-srv.Done() }()
	l = &testLab{srv: srv, addr: addr}
	c = l.client("")
	if code, again, _ := l.enroll(t, c, unit(1), secret, csr); code != http.StatusOK || again != first {
		t.Fatalf("retry after a restart: %d, same certificate %v", code, again == first)
	}
	_, other := newCSR(t, unit(1))
	if code, _, _ := l.enroll(t, c, unit(1), secret, other); code == http.StatusOK {
		t.Fatal("the used key enrolled another public key")
	}
	keys, _ := srv.Keys(ctx)
	devs, _ := srv.Devices(ctx)
	if keys[0].Uses != 1 || len(devs) != 1 {
		t.Fatalf("key uses %d, devices %d", keys[0].Uses, len(devs))
	}
}

// Stopping the server lets enrollments in flight finish (within the grace
// period) before the state closes: each gets its certificate.
func TestShutdownDrainsRequestsInFlight(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	srv, addr, err := StartInProcess(ctx, t.TempDir(), Config{})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	defer func() { cancel(); <-srv.Done() }()
	l := &testLab{srv: srv, addr: addr}
	const n = 20
	type flight struct {
		rest []byte
		w    *io.PipeWriter
		code chan int
	}
	var started sync.WaitGroup
	flights := make([]flight, n)
	for i := range flights {
		_, secret, err := srv.CreateKey(ctx, KeySpec{Kind: KindOneTime})
		if err != nil {
			t.Fatal(err)
		}
		_, csr := newCSR(t, unit(i+1))
		pr, pw := io.Pipe()
		f := flight{rest: csr[len(csr)/2:], w: pw, code: make(chan int, 1)}
		flights[i] = f
		started.Add(1)
		var once sync.Once
		trace := &httptrace.ClientTrace{Got100Continue: func() { once.Do(started.Done) }}
		req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), http.MethodPost,
			"https://"+addr+estPrefix+"simpleenroll", pr)
		req.Header.Set("Expect", "100-continue")
		req.ContentLength = int64(len(csr))
		req.SetBasicAuth(unit(i+1), secret)
		c := l.client("")
		go func() {
			resp, err := c.Do(req)
			if err != nil {
				once.Do(started.Done)
				f.code <- -1
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			f.code <- resp.StatusCode
		}()
		go func() { _, _ = pw.Write(csr[:len(csr)/2]) }()
	}
	started.Wait() // every handler is reading its body
	cancel()
	select {
	case <-srv.Done():
		t.Fatal("the server stopped with requests in flight")
	case <-time.After(200 * time.Millisecond):
	}
	for _, f := range flights {
		_, _ = f.w.Write(f.rest)
		f.w.Close()
	}
	ok := 0
	for _, f := range flights {
		if <-f.code == http.StatusOK {
			ok++
		}
	}
	<-srv.Done()
	if ok != n {
		t.Fatalf("%d of %d enrollments in flight were answered", ok, n)
	}
	st, err := OpenState(srv.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if devs, _ := st.Devices(context.Background()); len(devs) != n {
		t.Fatalf("%d devices registered", len(devs))
	}
}

// enrollOnce runs the store's enrollment for unitID with a fresh public
// key and a stand-in certificate.
func enrollOnce(ctx context.Context, st *State, unitID, secret string) error {
	pub := make([]byte, 32)
	_, _ = rand.Read(pub)
	serial := newSerial()
	_, err := st.db.enroll(ctx, unitID, secret, pub, func() (*x509.Certificate, error) {
		return &x509.Certificate{Raw: serial.Bytes(), SerialNumber: serial}, nil
	})
	return err
}

// A chosen mass-deployment password, valid for any number of devices, must
// be strong: 12 characters, three kinds of characters, 8 different ones.
func TestMassPasswordStrength(t *testing.T) {
	st, err := OpenState(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	for _, weak := range []string{"pass1234", "password1234", "chosen-password", "AAAAAAAAAAAAaaaa1111", "Aa1!Aa1!Aa1!Aa1!"} {
		if _, _, err := st.CreateKey(ctx, KeySpec{Kind: KindMass, Password: weak}); err == nil {
			t.Errorf("weak mass password %q accepted", weak)
		} else if strings.Contains(err.Error(), weak) {
			t.Errorf("the error shows the password: %v", err)
		}
	}
	for _, strong := range []string{"Kiosk-Fleet-2026", "correct horse battery 7"} {
		if _, _, err := st.CreateKey(ctx, KeySpec{Kind: KindMass, Password: strong}); err != nil {
			t.Errorf("%q: %v", strong, err)
		}
	}
}

// A state directory whose path holds URI syntax ('#', '?', '%') keeps its
// database inside it.
func TestStatePathWithURICharacters(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "lab #1?x=%41")
	st, err := OpenState(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.CreateKey(context.Background(), KeySpec{Kind: KindOneTime}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	if fi, err := os.Stat(filepath.Join(dir, dbFile)); err != nil || fi.Size() == 0 {
		t.Fatalf("the database is not in %s: %v", dir, err)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(dir), "lab ")); err == nil {
		t.Fatal("the database was created beside the state directory")
	}
	st, err = OpenState(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if keys, _ := st.Keys(context.Background()); len(keys) != 1 {
		t.Fatalf("%d keys after reopening", len(keys))
	}
}

// The certificate is signed only once the key has passed: a refused key
// costs no signature (and no CA work an attacker could drive).
func TestKeyCheckedBeforeSigning(t *testing.T) {
	st, err := OpenState(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	_, used, _ := st.CreateKey(ctx, KeySpec{Kind: KindOneTime})
	if err := enrollOnce(ctx, st, unit(1), used); err != nil {
		t.Fatal(err)
	}
	id, disabled, _ := st.CreateKey(ctx, KeySpec{Kind: KindOneTime})
	_ = st.DisableKey(ctx, id)
	_, bound, _ := st.CreateKey(ctx, KeySpec{Kind: KindBound, UnitID: unit(9)})
	_, good, _ := st.CreateKey(ctx, KeySpec{Kind: KindOneTime})
	signed := 0
	issue := func() (*x509.Certificate, error) {
		signed++
		s := newSerial()
		return &x509.Certificate{Raw: s.Bytes(), SerialNumber: s}, nil
	}
	pub := make([]byte, 32)
	for name, secret := range map[string]string{"unknown": "ABCDE-FGHJK-LMNPQ-RSTUV", "used": used, "disabled": disabled, "bound elsewhere": bound} {
		if _, err := st.db.enroll(ctx, unit(2), secret, pub, issue); !isKeyRefusal(err) {
			t.Errorf("%s key: %v, want a key refusal", name, err)
		}
	}
	if _, err := st.db.enroll(ctx, unit(1), good, pub, issue); !errors.Is(err, ErrDeviceExists) {
		t.Errorf("existing device: %v", err)
	}
	if signed != 0 {
		t.Fatalf("%d certificates signed for refused requests", signed)
	}
	if _, err := st.db.enroll(ctx, unit(2), good, pub, issue); err != nil || signed != 1 {
		t.Fatalf("good key: %v, %d signed", err, signed)
	}
}
