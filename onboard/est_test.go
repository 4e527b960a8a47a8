package onboard

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"strings"
	"testing"
	"time"
)

func testCert(t testing.TB, cn string, ca bool) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour),
		BasicConstraintsValid: true, IsCA: ca, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCertsOnlyRoundTrip(t *testing.T) {
	a, b := testCert(t, "a", true), testCert(t, "b", false)
	body, err := EncodeCertsOnly(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(body), "\r\n") {
		t.Error("body not wrapped")
	}
	certs, err := ParseCertsOnly(body)
	if err != nil {
		t.Fatal(err)
	}
	if len(certs) != 2 || !certs[0].Equal(a) || !certs[1].Equal(b) {
		t.Fatalf("got %d certificates", len(certs))
	}
	roots, others := splitRoots(certs)
	if len(roots) != 1 || len(others) != 1 || !roots[0].Equal(a) {
		t.Fatalf("roots %d others %d", len(roots), len(others))
	}
	for _, bad := range []string{"", "   ", "!!!!", "aGVsbG8=", "MAA="} {
		if _, err := ParseCertsOnly([]byte(bad)); err == nil {
			t.Errorf("ParseCertsOnly(%q) succeeded", bad)
		}
	}
}

func FuzzParseCertsOnly(f *testing.F) {
	a := testCert(f, "root", true)
	body, err := EncodeCertsOnly(a)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(body)
	f.Add([]byte("MIIB"))
	f.Add([]byte("aGVsbG8gd29ybGQ=\r\n"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		certs, err := ParseCertsOnly(b)
		if err == nil && len(certs) == 0 {
			t.Fatal("no error and no certificate")
		}
		_, _ = ParseCSR(b)
	})
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"3": 3 * time.Second, "0": time.Second, "": 10 * time.Second, "soon": 10 * time.Second,
		"Wed, 01 Jan 2025 12:00:30 GMT": 30 * time.Second,
	} {
		if got := retryAfter(v, now); got != want {
			t.Errorf("retryAfter(%q) = %v, want %v", v, got, want)
		}
	}
}
