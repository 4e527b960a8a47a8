package onboard

import (
	"strings"
	"testing"
	"time"

	"github.com/onramp-os/onramp/internal/testutil"
)

func TestCertsOnlyRoundTrip(t *testing.T) {
	a, b := testutil.SelfSigned(t, "a", true).Leaf, testutil.SelfSigned(t, "b", false).Leaf
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
	a := testutil.SelfSigned(f, "root", true).Leaf
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
