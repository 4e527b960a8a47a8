package lab

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/onramp-os/onramp/license"
)

func TestStateFilesAndStableToken(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	st, err := OpenState(dir)
	if err != nil {
		t.Fatal(err)
	}
	tok := st.Token()
	st.Close()
	for name, mode := range map[string]os.FileMode{".": 0o700, rootKeyFile: 0o600, issuerKeyFile: 0o600, dbFile: 0o600, rootCertFile: 0o644} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != mode {
			t.Errorf("%s: mode %v, want %v", name, fi.Mode().Perm(), mode)
		}
	}
	st, err = OpenState(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if st.Token() != tok || len(tok) != 16 {
		t.Fatalf("token %q after reopening, was %q", st.Token(), tok)
	}
	if err := st.CA.Issuer.CheckSignatureFrom(st.CA.Root); err != nil {
		t.Fatal(err)
	}
}

// Two handles on one state (serve and a CLI command are two processes)
// race for the same one-time key: exactly one wins.
func TestOneTimeKeyOnceAcrossHandles(t *testing.T) {
	dir := t.TempDir()
	a, err := OpenState(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := OpenState(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx := context.Background()
	for round := 0; round < 20; round++ {
		_, secret, err := a.CreateKey(ctx, KeySpec{Kind: KindOneTime})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for i := range errs {
			st := a
			if i%2 == 1 {
				st = b
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = enrollOnce(ctx, st, unit(round*10+i), secret)
			}()
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, ErrKeyUsed):
				t.Fatalf("round %d: %v", round, err)
			}
		}
		if won != 1 {
			t.Fatalf("round %d: %d winners", round, won)
		}
	}
}

func unit(n int) string {
	const hex = "0123456789ABCDEF"
	b := []byte("00A0B0000000")
	for i := len(b) - 1; n > 0; i-- {
		b[i] = hex[n%16]
		n /= 16
	}
	return string(b)
}

func TestKeyRules(t *testing.T) {
	st, err := OpenState(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	if _, _, err := st.CreateKey(ctx, KeySpec{Kind: KindBound, UnitID: "nope"}); err == nil {
		t.Error("bound key for an invalid Unit ID")
	}
	if _, _, err := st.CreateKey(ctx, KeySpec{Kind: KindMass, Password: "short"}); err == nil {
		t.Error("a 5-character mass password")
	}
	_, bound, _ := st.CreateKey(ctx, KeySpec{Kind: KindBound, UnitID: unit(1)})
	if err := enrollOnce(ctx, st, unit(2), bound); !errors.Is(err, ErrKeyBound) {
		t.Errorf("bound key for another device: %v", err)
	}
	if err := enrollOnce(ctx, st, unit(1), "unknown"); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("unknown key: %v", err)
	}
	if err := enrollOnce(ctx, st, unit(1), bound); err != nil {
		t.Fatal(err)
	}
	_, mass, _ := st.CreateKey(ctx, KeySpec{Kind: KindMass})
	if err := enrollOnce(ctx, st, unit(1), mass); !errors.Is(err, ErrDeviceExists) {
		t.Errorf("existing device: %v", err)
	}
	if err := st.DisableKey(ctx, 99); !errors.Is(err, ErrNotFound) {
		t.Errorf("disable unknown: %v", err)
	}
}

func TestDeviceCodePolling(t *testing.T) {
	st, err := OpenState(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	poll := func(code string) string {
		t.Helper()
		e, _, err := st.db.pollDeviceCode(ctx, code)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	if err := st.db.addDeviceCode(ctx, "dc1", "BCDF-GHJK", "a@example.com", time.Now().Add(time.Minute), 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if e := poll("dc1"); e != "authorization_pending" {
		t.Fatalf("first poll: %s", e)
	}
	if e := poll("dc1"); e != "slow_down" {
		t.Fatalf("immediate second poll: %s", e)
	}
	if who, err := st.Decide(ctx, "bcdf ghjk", true); err != nil || who != "a@example.com" {
		t.Fatalf("approve: %q %v", who, err)
	}
	if e := poll("dc1"); e != "" {
		t.Fatalf("after approval: %s", e)
	}
	if e := poll("dc1"); e != "invalid_grant" {
		t.Fatalf("code reused: %s", e)
	}
	if e := poll("unknown"); e != "invalid_grant" {
		t.Fatalf("unknown code: %s", e)
	}
	_ = st.db.addDeviceCode(ctx, "dc2", "CCCC-DDDD", "a@example.com", time.Now().Add(-time.Second), time.Second)
	if e := poll("dc2"); e != "expired_token" {
		t.Fatalf("expired: %s", e)
	}
	if _, err := st.Decide(ctx, "CCCC-DDDD", true); err == nil {
		t.Fatal("approved an expired code")
	}
	_ = st.db.addDeviceCode(ctx, "dc3", "FFFF-GGGG", "a@example.com", time.Now().Add(time.Minute), time.Second)
	_, _ = st.Decide(ctx, "FFFF-GGGG", false)
	if e := poll("dc3"); e != "access_denied" {
		t.Fatalf("denied: %s", e)
	}
}

func TestSecretsAndUserCodes(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		s := newSecret()
		if len(s) != 23 || seen[s] {
			t.Fatalf("secret %q", s)
		}
		seen[s] = true
		u := newUserCode()
		if len(u) != 9 || u[4] != '-' || normalizeUserCode(u) != u {
			t.Fatalf("user code %q", u)
		}
	}
}

// The license signer is made once, kept 0600 with its certificate, and
// signs licenses that verify against the lab root.
func TestLicenseSigner(t *testing.T) {
	st, err := OpenState(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	a, err := st.signer()
	if err != nil {
		t.Fatal(err)
	}
	b, err := st.signer()
	if err != nil || !a.Key.Equal(b.Key) || a.Name() != SignerName {
		t.Fatalf("second load: %v", err)
	}
	if fi, err := os.Stat(filepath.Join(st.Dir, signerFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("%v %v", fi.Mode(), err)
	}
	as, err := st.AssignLicense(context.Background(), "005056938d22", "Kiosk", 3)
	if err != nil {
		t.Fatal(err)
	}
	v := license.Verifier{Roots: st.RootPool(), UnitID: "005056938D22"}
	if s := v.Verify("x.lic", as.Document); !s.Valid() || s.DaysLeft != 3 || s.License.Issuer != SignerName {
		t.Fatalf("%+v", s)
	}
}
