package onboard_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/onramp-os/onramp/internal/testutil"
	"github.com/onramp-os/onramp/onboard"
	"github.com/onramp-os/onramp/onboard/lab"
)

func TestByServerEnrollsAndSaves(t *testing.T) {
	testutil.RequireTools(t, "openssl")
	env := newLab(t, lab.Config{}, labHooks{})
	key := env.key(t, lab.KeySpec{Kind: lab.KindOneTime})
	c, root := newClient(t, 1)
	// The token as a user might type it: upper case, with colons.
	req := env.request(key)
	req.Token = "  " + upperColons(req.Token)
	res, err := c.ByServer(context.Background(), req)
	if err != nil {
		t.Fatalf("ByServer: %v", err)
	}
	dir := filepath.Join(root, "etc/onramp/ums")
	if res.UnitID != unitID(1) || res.Server != "127.0.0.1" || res.Port != env.port || res.CertPath != filepath.Join(dir, "device.crt") {
		t.Fatalf("result %+v", res)
	}
	for name, mode := range map[string]os.FileMode{"device.key": 0o600, "device.crt": 0o644, "ca.crt": 0o644, "server.json": 0o644} {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != mode {
			t.Errorf("%s mode %v, want %v", name, st.Mode().Perm(), mode)
		}
	}
	opensslVerify(t, env.dir, res.CertPath)
	var info onboard.ServerInfo
	js, _ := os.ReadFile(filepath.Join(dir, "server.json"))
	if err := json.Unmarshal(js, &info); err != nil {
		t.Fatal(err)
	}
	if info.UnitID != unitID(1) || info.Method != onboard.MethodOTP || info.RootSHA256 != env.srv.Fingerprint().String() {
		t.Errorf("server.json %+v", info)
	}
	devs, _ := env.srv.Devices(context.Background())
	if len(devs) != 1 || devs[0].UnitID != unitID(1) || devs[0].Serial != info.Serial {
		t.Fatalf("registry %+v, want %s serial %s", devs, unitID(1), info.Serial)
	}

	// Re-enrollment authenticates with the saved certificate (mutual TLS).
	if _, err := c.Reenroll(context.Background()); err != nil {
		t.Fatalf("Reenroll: %v", err)
	}
	en, err := onboard.LoadEnrollment(root)
	if err != nil {
		t.Fatal(err)
	}
	devs, _ = env.srv.Devices(context.Background())
	if en.Info.Serial == info.Serial || devs[0].Serial != en.Info.Serial {
		t.Fatalf("after re-enrollment: saved serial %s, registry %s, old %s", en.Info.Serial, devs[0].Serial, info.Serial)
	}
	opensslVerify(t, env.dir, res.CertPath)
	// The old certificate no longer re-enrolls once the registry moved on.
	if err := env.srv.DeleteDevice(context.Background(), unitID(1)); err != nil {
		t.Fatal(err)
	}
	_, err = c.Reenroll(context.Background())
	wantCode(t, err, onboard.CodeEnroll)
}

func upperColons(tok string) string {
	var out []byte
	for i := 0; i < len(tok); i++ {
		if i > 0 && i%2 == 0 {
			out = append(out, ':')
		}
		c := tok[i]
		if c >= 'a' && c <= 'f' {
			c -= 'a' - 'A'
		}
		out = append(out, c)
	}
	return string(out)
}

func TestByServerKeyKinds(t *testing.T) {
	env := newLab(t, lab.Config{}, labHooks{})
	ctx := context.Background()

	bound := env.key(t, lab.KeySpec{Kind: lab.KindBound, UnitID: unitID(2)})
	c3, _ := newClient(t, 3)
	_, err := c3.ByServer(ctx, env.request(bound))
	wantCode(t, err, onboard.CodeEnroll)
	c2, _ := newClient(t, 2)
	if _, err := c2.ByServer(ctx, env.request(bound)); err != nil {
		t.Fatalf("bound key for its own Unit ID: %v", err)
	}

	mass := env.key(t, lab.KeySpec{Kind: lab.KindMass, Password: "Chosen-Passw0rd"})
	for n := 10; n < 15; n++ {
		c, _ := newClient(t, n)
		if _, err := c.ByServer(ctx, env.request(mass)); err != nil {
			t.Fatalf("mass key, device %d: %v", n, err)
		}
	}
	if _, _, err := env.srv.CreateKey(ctx, lab.KeySpec{Kind: lab.KindMass, Password: "Chosen-Passw0rd"}); err == nil {
		t.Fatal("a duplicate mass-deployment password was accepted")
	}

	keys, _ := env.srv.Keys(ctx)
	for _, k := range keys {
		if k.Kind == lab.KindMass {
			if err := env.srv.DisableKey(ctx, k.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	c20, _ := newClient(t, 20)
	e := wantCode(t, mustFail(c20.ByServer(ctx, env.request(mass))), onboard.CodeEnroll)
	if e.Hint == "" {
		t.Error("code 38 without a hint")
	}
}

func mustFail(_ onboard.Result, err error) error { return err }

func TestByServerExistingDeviceUntilDeleted(t *testing.T) {
	env := newLab(t, lab.Config{}, labHooks{})
	ctx := context.Background()
	c, _ := newClient(t, 4)
	if _, err := c.ByServer(ctx, env.request(env.key(t, lab.KeySpec{Kind: lab.KindOneTime}))); err != nil {
		t.Fatal(err)
	}
	// Same key again: used.
	fresh := env.key(t, lab.KeySpec{Kind: lab.KindOneTime})
	// A fresh key for an existing Unit ID: "the device already exists".
	e := wantCode(t, mustFail(c.ByServer(ctx, env.request(fresh))), onboard.CodeEnroll)
	if want := "409"; !strings.Contains(e.Reason, want) || !strings.Contains(e.Reason, "already exists") {
		t.Errorf("reason %q lacks the server's cause", e.Reason)
	}
	if !strings.Contains(e.Hint, "Unit ID "+unitID(4)) {
		t.Errorf("hint %q does not name the Unit ID", e.Hint)
	}
	keys, _ := env.srv.Keys(ctx)
	if keys[1].Uses != 0 {
		t.Fatal("a refused enrollment consumed the key")
	}
	if err := env.srv.DeleteDevice(ctx, unitID(4)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ByServer(ctx, env.request(fresh)); err != nil {
		t.Fatalf("after devices delete: %v", err)
	}
}

// A damaged enrollment cannot be renewed, each file with its own code.
func TestReenrollDamagedFiles(t *testing.T) {
	env := newLab(t, lab.Config{}, labHooks{})
	mass := env.key(t, lab.KeySpec{Kind: lab.KindMass})
	other, otherRoot := newClient(t, 8)
	if _, err := other.ByServer(context.Background(), env.request(mass)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		file   string
		damage func(dir string) []byte
		code   onboard.Code
	}{
		{"ca.crt", func(string) []byte { return []byte("not a certificate") }, onboard.CodeTrustChain},
		{"device.key", func(string) []byte { return []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n") }, onboard.CodePrivateKey},
		{"device.key", func(string) []byte { // another device's key: not a pair with the certificate
			b, _ := os.ReadFile(filepath.Join(otherRoot, "etc/onramp/ums/device.key"))
			return b
		}, onboard.CodeKeyPair},
	} {
		t.Run(tc.file, func(t *testing.T) {
			c, root := newClient(t, 9)
			_ = env.srv.DeleteDevice(context.Background(), unitID(9))
			if _, err := c.ByServer(context.Background(), env.request(mass)); err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join(root, "etc/onramp/ums")
			if err := os.WriteFile(filepath.Join(dir, tc.file), tc.damage(dir), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := c.Reenroll(context.Background())
			wantCode(t, err, tc.code)
		})
	}
}

// The connection is cut after the lab has committed the enrollment and
// before its answer leaves: the client asks again with the same key and
// CSR, gets the same certificate, and the one-time key serves once.
func TestEnrollmentAnswerLostIsRetried(t *testing.T) {
	var cut atomic.Bool
	var committed []byte
	env := newLab(t, lab.Config{}, labHooks{wrap: func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "/simpleenroll") && cut.CompareAndSwap(false, true) {
				rec := httptest.NewRecorder()
				next.ServeHTTP(rec, r)
				committed = rec.Body.Bytes()
				panic(http.ErrAbortHandler) // the answer never leaves
			}
			next.ServeHTTP(w, r)
		})
	}})
	key := env.key(t, lab.KeySpec{Kind: lab.KindOneTime})
	c, root := newClient(t, 1)
	if _, err := c.ByServer(context.Background(), env.request(key)); err != nil {
		t.Fatalf("ByServer after a lost answer: %v", err)
	}
	if n := env.enrolls.Load(); n != 2 {
		t.Fatalf("%d enrollment requests, want the lost one and its retry", n)
	}
	certs, err := onboard.ParseCertsOnly(committed)
	if err != nil {
		t.Fatalf("the committed answer: %v", err)
	}
	saved, err := os.ReadFile(filepath.Join(root, "etc/onramp/ums/device.crt"))
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := pem.Decode(saved); b == nil || !bytes.Equal(b.Bytes, certs[0].Raw) {
		t.Fatal("the saved certificate is not the one committed before the cut")
	}
	keys, _ := env.srv.Keys(context.Background())
	devs, _ := env.srv.Devices(context.Background())
	if keys[0].Uses != 1 || len(devs) != 1 {
		t.Fatalf("key uses %d, devices %d", keys[0].Uses, len(devs))
	}
}
