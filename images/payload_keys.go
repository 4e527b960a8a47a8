package images

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/onramp-os/onramp/internal/atomicfile"
	"github.com/onramp-os/onramp/internal/exitcode"
)

// TrustedKeys are the PEM public keys (PKIX, ed25519) osc accepts payload
// signatures from without --trust-key: the Onramp release keys. It is a
// variable so a distribution can add its own at link time or in a fork, and
// so tests can replace it.
var TrustedKeys = []string{onrampRelease2026}

// extraTrustedKey is one more built-in trusted key, set at link time as the
// base64 DER of a PKIX ed25519 public key (the body of its PEM file), so a
// build can trust its own publisher without a fork:
//
//	go build -ldflags "-X github.com/onramp-os/onramp/images.extraTrustedKey=MCowBQYDK2VwAyEA..."
//
// The sample system of `make image` links its osc with the development key
// this way (scripts/image/build.sh).
var extraTrustedKey string

// linkedKey decodes extraTrustedKey; nil when none was linked in.
func linkedKey() (ed25519.PublicKey, error) {
	s := strings.TrimSpace(extraTrustedKey)
	if s == "" {
		return nil, nil
	}
	der, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("link-time trusted key (images.extraTrustedKey): not base64: %w", err)
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("link-time trusted key (images.extraTrustedKey): %w", err)
	}
	pub, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, errors.New("link-time trusted key (images.extraTrustedKey): not an ed25519 public key")
	}
	return pub, nil
}

// onrampRelease2026 signs the Onramp release payloads.
const onrampRelease2026 = `-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEA/v9SBQusEgRHSV3SySDNy02psSCS2Vpt6FWfG39R+H4=
-----END PUBLIC KEY-----
`

// signaturePrefix starts manifest.sig: the algorithm, then the key ID, then
// the base64 signature, so a refusal can name the key it expected.
const signaturePrefix = "ed25519"

// KeyID is a short name of a public key: the first 16 hex digits of the
// SHA-256 of its raw bytes.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}

// GenerateKey writes a new signing key pair: prefix+".key" (PKCS#8 PEM, mode
// 0600) and prefix+".pub" (PKIX PEM). Existing files are not overwritten.
func GenerateKey(prefix string) (ed25519.PublicKey, error) {
	for _, p := range []string{prefix + ".key", prefix + ".pub"} {
		if _, err := os.Lstat(p); err == nil {
			return nil, exitcode.New(exitcode.Refused, "%s exists; not overwriting a key", p)
		}
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	privDER, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("encode private key: %w", err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("encode public key: %w", err)
	}
	if err := atomicfile.WriteFile(prefix+".key", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: privDER}), 0o600); err != nil {
		return nil, fmt.Errorf("write %s.key: %w", prefix, err)
	}
	if err := atomicfile.WriteFile(prefix+".pub", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o644); err != nil {
		return nil, fmt.Errorf("write %s.pub: %w", prefix, err)
	}
	return pub, nil
}

// LoadPrivateKey reads a key written by GenerateKey.
func LoadPrivateKey(path string) (ed25519.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read signing key: %w", err)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, exitcode.New(exitcode.Usage, "%s is not a PEM private key", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, exitcode.New(exitcode.Usage, "%s: %v", path, err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, exitcode.New(exitcode.Usage, "%s is not an ed25519 key", path)
	}
	return priv, nil
}

// ParsePublicKey decodes a PEM public key (PKIX, ed25519).
func ParsePublicKey(data []byte) (ed25519.PublicKey, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PUBLIC KEY" {
		return nil, errors.New("not a PEM public key")
	}
	k, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, err
	}
	pub, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, errors.New("not an ed25519 public key")
	}
	return pub, nil
}

// LoadTrustedKeys returns the built-in keys (TrustedKeys and the one linked
// in as extraTrustedKey) plus those in files (--trust-key).
func LoadTrustedKeys(files ...string) ([]ed25519.PublicKey, error) {
	var keys []ed25519.PublicKey
	for i, p := range TrustedKeys {
		k, err := ParsePublicKey([]byte(p))
		if err != nil {
			return nil, fmt.Errorf("built-in trusted key %d: %w", i, err)
		}
		keys = append(keys, k)
	}
	linked, err := linkedKey()
	if err != nil {
		return nil, err
	}
	if linked != nil {
		keys = append(keys, linked)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, exitcode.New(exitcode.Usage, "trusted key: %w", err)
		}
		k, err := ParsePublicKey(data)
		if err != nil {
			return nil, exitcode.New(exitcode.Usage, "trusted key %s: %v", f, err)
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// SignManifest returns the content of manifest.sig for manifest bytes.
func SignManifest(priv ed25519.PrivateKey, manifest []byte) []byte {
	sig := ed25519.Sign(priv, manifest)
	pub := priv.Public().(ed25519.PublicKey)
	return fmt.Appendf(nil, "%s %s %s\n", signaturePrefix, KeyID(pub), base64.StdEncoding.EncodeToString(sig))
}

// CheckSignature verifies sigFile over manifest with any of keys and returns
// the ID of the key that signed it. A malformed or wrong signature is
// ImageInvalid.
func CheckSignature(manifest, sigFile []byte, keys []ed25519.PublicKey) (string, error) {
	fields := strings.Fields(string(sigFile))
	if len(fields) != 3 || fields[0] != signaturePrefix {
		return "", invalid("%s is malformed (want %q, key ID, base64 signature)", SignatureName, signaturePrefix)
	}
	sig, err := base64.StdEncoding.DecodeString(fields[2])
	if err != nil || len(sig) != ed25519.SignatureSize {
		return "", invalid("%s: signature is not %d base64 bytes", SignatureName, ed25519.SignatureSize)
	}
	for _, k := range keys {
		if ed25519.Verify(k, manifest, sig) {
			return KeyID(k), nil
		}
	}
	return "", invalid("%s: bad signature (claims key %s; no trusted key verifies it — add the publisher's key with --trust-key)", SignatureName, fields[1])
}
