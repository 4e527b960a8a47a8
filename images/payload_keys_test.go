package images

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"os"
	"strings"
	"testing"
)

// withLinkedKey sets extraTrustedKey as -ldflags -X would, for one test.
func withLinkedKey(t *testing.T, v string) {
	t.Helper()
	old := extraTrustedKey
	extraTrustedKey = v
	t.Cleanup(func() { extraTrustedKey = old })
}

func TestLinkedTrustedKey(t *testing.T) {
	dir, prefix, pub := samplePayload(t)
	if err := verifyPayload(dir, mustKeys(t), false); err == nil {
		t.Fatal("a payload signed by an unknown key verified with the built-in keys alone")
	}
	// The body of the .pub PEM file, as scripts/image/build.sh passes it.
	pemData, err := os.ReadFile(prefix + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	var body strings.Builder
	for _, l := range strings.Split(strings.TrimSpace(string(pemData)), "\n") {
		if !strings.HasPrefix(l, "-----") {
			body.WriteString(l)
		}
	}
	withLinkedKey(t, body.String())
	keys := mustKeys(t)
	if len(keys) != len(TrustedKeys)+1 || !keys[len(keys)-1].Equal(pub) {
		t.Fatalf("built-in keys %d, want the %d release keys plus the linked one", len(keys), len(TrustedKeys))
	}
	if err := verifyPayload(dir, keys, false); err != nil {
		t.Fatalf("payload signed by the linked key: %v", err)
	}
}

func TestLinkedTrustedKeyBad(t *testing.T) {
	// An ECDSA P-256 public key: valid PKIX, not ed25519.
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecDER, err := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]string{
		"not base64":  "not base64!",
		"not PKIX":    base64.StdEncoding.EncodeToString([]byte("garbage")),
		"not ed25519": base64.StdEncoding.EncodeToString(ecDER),
	} {
		t.Run(name, func(t *testing.T) {
			withLinkedKey(t, v)
			_, err := LoadTrustedKeys()
			if err == nil || !strings.Contains(err.Error(), "images.extraTrustedKey") {
				t.Fatalf("LoadTrustedKeys with a bad linked key: %v, want an error naming images.extraTrustedKey", err)
			}
		})
	}
}

func mustKeys(t *testing.T) []ed25519.PublicKey {
	t.Helper()
	keys, err := LoadTrustedKeys()
	if err != nil {
		t.Fatal(err)
	}
	return keys
}
