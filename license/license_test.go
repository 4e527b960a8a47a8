package license

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const unit = "005056938D22"

// testCA makes a root and a signing certificate issued by it.
func testCA(t testing.TB, name string) (*x509.CertPool, Signer) {
	t.Helper()
	rootKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rt := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name + " Root"},
		NotBefore: time.Now().AddDate(-1, 0, 0), NotAfter: time.Now().AddDate(5, 0, 0),
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true, IsCA: true}
	der, err := x509.CreateCertificate(rand.Reader, rt, rt, &rootKey.PublicKey, rootKey)
	if err != nil {
		t.Fatal(err)
	}
	root, _ := x509.ParseCertificate(der)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	st := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: name + " License Signer"},
		NotBefore: time.Now().AddDate(-1, 0, 0), NotAfter: time.Now().AddDate(2, 0, 0), KeyUsage: x509.KeyUsageDigitalSignature}
	der, err = x509.CreateCertificate(rand.Reader, st, root, &key.PublicKey, rootKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(root)
	return pool, Signer{Key: key, Chain: []*x509.Certificate{cert}}
}

func issue(t testing.TB, s Signer, unitID string, from time.Time, days int) []byte {
	t.Helper()
	data, err := s.Issue(Payload{ID: NewID(), Product: "Kiosk", UnitID: unitID, IssuedAt: from, ExpiresAt: from.AddDate(0, 0, days)})
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestVerifyStates(t *testing.T) {
	roots, signer := testCA(t, "ums-a")
	otherRoots, otherSigner := testCA(t, "ums-b")
	now := time.Now()
	good := issue(t, signer, unit, now.Add(-time.Hour), 10)

	tampered := func() []byte {
		var d Document
		_ = json.Unmarshal(good, &d)
		body, _ := b64.DecodeString(d.Payload)
		body = []byte(strings.Replace(string(body), `"Kiosk"`, `"Kiosk Pro"`, 1))
		d.Payload = b64.EncodeToString(body)
		out, _ := json.Marshal(d)
		return out
	}()
	starter, _ := Starter(unit, now.Add(-24*time.Hour))
	longStarter := func() []byte {
		body, _ := json.Marshal(Payload{ID: "starter", Product: ProductStarter, UnitID: unit, IssuedAt: now, ExpiresAt: now.AddDate(1, 0, 0), Issuer: IssuerDevice})
		out, _ := json.Marshal(Document{Format: Format, Payload: b64.EncodeToString(body)})
		return out
	}()
	v := Verifier{Roots: roots, UnitID: unit, Now: now}
	for _, tc := range []struct {
		name string
		v    Verifier
		data []byte
		want State
		why  string
	}{
		{"valid", v, good, Valid, ""},
		{"other unit", v, issue(t, signer, "0050569300AA", now, 10), OtherUnit, "bound to 0050569300AA, this device is " + unit},
		{"expired", v, issue(t, signer, unit, now.AddDate(0, 0, -20), 10), Expired, "expired"},
		{"future", v, issue(t, signer, unit, now.Add(time.Hour), 10), NotYetValid, "after this device's clock"},
		{"bad signature", v, tampered, BadSignature, "does not match"},
		{"other UMS", v, issue(t, otherSigner, unit, now, 10), Untrusted, "not signed by this device's management server"},
		{"not onboarded", Verifier{UnitID: unit, Now: now}, good, Untrusted, "trusts no management server"},
		{"trusted by the other", Verifier{Roots: otherRoots, UnitID: unit, Now: now}, good, Untrusted, "not signed"},
		{"garbage", v, []byte("LICENSE-OPAQUE-1234"), Malformed, "not a license document"},
		{"wrong format", v, []byte(`{"format":"x","payload":""}`), Malformed, "format"},
		{"starter", v, starter, Valid, ""},
		{"starter without UMS", Verifier{UnitID: unit, Now: now}, starter, Valid, ""},
		{"starter expired", Verifier{UnitID: unit, Now: now.AddDate(0, 0, 30)}, starter, Expired, "expired"},
		{"starter of another device", Verifier{UnitID: "0050569300AA", Now: now}, starter, OtherUnit, "bound to " + unit},
		{"starter of a year", v, longStarter, Untrusted, "at most 30 days"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := tc.v.Verify("x.lic", tc.data)
			if st.State != tc.want || !strings.Contains(st.Reason, tc.why) {
				t.Fatalf("state %s (%s), want %s (%q)", st.State, st.Reason, tc.want, tc.why)
			}
			if st.Valid() != (tc.want == Valid) {
				t.Fatalf("Valid() = %v for %s", st.Valid(), st.State)
			}
		})
	}
	if st := v.Verify("s.lic", starter); st.DaysLeft != 29 || st.Summary() != "Starter, 29 days left (until "+st.License.ExpiresAt.Format(time.DateOnly)+")" {
		t.Fatalf("starter: %d days left, %q", st.DaysLeft, st.Summary())
	}
}

func TestStatusJSON(t *testing.T) {
	in := Status{File: "a.lic", State: BadSignature, Reason: "r"}
	js, _ := json.Marshal(in)
	if !strings.Contains(string(js), `"state":"bad-signature"`) {
		t.Fatalf("%s", js)
	}
	var out Status
	if err := json.Unmarshal(js, &out); err != nil || out.State != BadSignature {
		t.Fatalf("%v %v", out.State, err)
	}
}

func TestWriteStarterKeepsTheFirst(t *testing.T) {
	root := t.TempDir()
	first := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	if wrote, err := WriteStarter(root, unit, first); err != nil || !wrote {
		t.Fatalf("wrote %v, %v", wrote, err)
	}
	if wrote, err := WriteStarter(root, unit, first.AddDate(0, 0, 20)); err != nil || wrote {
		t.Fatalf("second run wrote %v, %v", wrote, err)
	}
	if fi, err := os.Stat(filepath.Join(root, Dir, StarterFile)); err != nil || fi.Mode().Perm() != 0o644 {
		t.Fatalf("%v %v", fi, err)
	}
	st, err := Verifier{UnitID: unit, Now: first.AddDate(0, 0, 25)}.ReadRoot(root)
	if err != nil || len(st) != 1 || st[0].State != Valid || st[0].DaysLeft != 5 || !st[0].License.ExpiresAt.Equal(first.AddDate(0, 0, 30)) {
		t.Fatalf("%+v %v", st, err)
	}
}

func TestReplaceKeepsStarterAndDropsUnassigned(t *testing.T) {
	roots, signer := testCA(t, "ums")
	root := t.TempDir()
	dir := filepath.Join(root, Dir)
	if _, err := WriteStarter(root, unit, time.Now()); err != nil {
		t.Fatal(err)
	}
	a, b := issue(t, signer, unit, time.Now(), 5), issue(t, signer, unit, time.Now(), 50)
	if err := Replace(root, [][]byte{a, b}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Replace(root, [][]byte{b}); err != nil {
		t.Fatal(err)
	}
	st, err := Verifier{Roots: roots, UnitID: unit}.ReadRoot(root)
	if err != nil || len(st) != 2 || Count(st) != 2 {
		t.Fatalf("%+v %v", st, err)
	}
	_, _, pb, _ := Parse(b)
	if st[1].File != FileName(pb) || st[0].File != StarterFile {
		t.Fatalf("files %s, %s", st[0].File, st[1].File)
	}
	if _, err := os.Stat(filepath.Join(dir, "notes.txt")); err != nil {
		t.Fatal("Replace removed a file that is not a UMS license")
	}
	starter, _ := Starter(unit, time.Now())
	if err := Replace(root, [][]byte{starter}); err == nil {
		t.Fatal("a Starter license from the server was stored")
	}
}

func TestReadRootBoundsAndMissing(t *testing.T) {
	root := t.TempDir()
	st, err := Verifier{}.ReadRoot(root)
	if err != nil || st != nil {
		t.Fatalf("%v %v", st, err)
	}
	dir := filepath.Join(root, Dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "big.lic"), make([]byte, MaxSize+1), 0o644); err != nil {
		t.Fatal(err)
	}
	st, err = Verifier{}.ReadRoot(root)
	if err != nil || len(st) != 1 || st[0].State != Malformed || !strings.Contains(st[0].Reason, "larger") {
		t.Fatalf("%+v %v", st, err)
	}
}

func FuzzVerify(f *testing.F) {
	roots, signer := testCA(f, "fuzz")
	f.Add(issue(f, signer, unit, time.Now(), 3))
	s, _ := Starter(unit, time.Now())
	f.Add(s)
	f.Add([]byte(`{"format":"onramp-license/1","payload":"e30","signature":"AA","chain":["AA=="]}`))
	f.Add([]byte("{}"))
	v := Verifier{Roots: roots, UnitID: unit}
	f.Fuzz(func(t *testing.T, data []byte) {
		st := v.Verify("f.lic", data)
		if st.Valid() && st.License.UnitID != unit {
			t.Fatalf("valid license for %s", st.License.UnitID)
		}
	})
}

// A root whose data directory links outside it: nothing is written or
// read through the link.
func TestConfinedToTheRoot(t *testing.T) {
	root, outside := t.TempDir(), t.TempDir()
	if err := os.Symlink(outside, filepath.Join(root, "data")); err != nil {
		t.Fatal(err)
	}
	if _, err := WriteStarter(root, unit, time.Now()); err == nil {
		t.Fatal("the Starter license was written through a link out of the root")
	}
	if err := Replace(root, nil); err == nil {
		t.Fatal("the licenses were listed through a link out of the root")
	}
	if ents, _ := os.ReadDir(outside); len(ents) != 0 {
		t.Fatalf("written outside the root: %v", ents)
	}
	if _, err := (Verifier{}).ReadRoot(root); err == nil {
		t.Fatal("licenses were read through a link out of the root")
	}
}
