package onboard

import (
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/onramp-os/onramp/internal/atomicfile"
)

// Files below ROOT/etc/onramp/ums.
const (
	KeyFile    = "device.key"  // PKCS#8 PEM, mode 0600
	CertFile   = "device.crt"  // the enrolled certificate, PEM
	CAFile     = "ca.crt"      // the CA chain, intermediates first, root last
	ServerFile = "server.json" // ServerInfo; written last
)

// ServerInfo is server.json: where the device is managed and how it got
// there. It holds no secret.
type ServerInfo struct {
	Server      string    `json:"server"`
	Port        int       `json:"port"`
	UnitID      string    `json:"unit_id"`
	Serial      string    `json:"serial"`
	RootSHA256  string    `json:"root_sha256"`
	Method      string    `json:"method"` // "one-time-password" or "onboarding-service"
	OnboardedBy string    `json:"onboarded_by,omitempty"`
	EnrolledAt  time.Time `json:"enrolled_at"`
}

// Methods recorded in ServerInfo.
const (
	MethodOTP     = "one-time-password"
	MethodService = "onboarding-service"
)

// checkWritable proves the target directory can take the files before
// anything is sent to the server: a key consumed for a certificate that
// cannot be saved would leave the device registered but unmanaged.
func (c *Client) checkWritable() error {
	dir := c.Dir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fail(CodeSaveCert, err, "create %s", dir)
	}
	f, err := os.CreateTemp(dir, ".write-test-*")
	if err != nil {
		return fail(CodeSaveCert, err, "write in %s", dir)
	}
	name := f.Name()
	_ = f.Close()
	if err := os.Remove(name); err != nil {
		return fail(CodeSaveCert, err, "write in %s", dir)
	}
	return nil
}

// save writes key, certificate, chain and server.json, each atomically,
// server.json last so its presence means a complete enrollment.
func (c *Client) save(key *ecdsa.PrivateKey, leaf *x509.Certificate, chain []*x509.Certificate, info ServerInfo) (string, error) {
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", fail(CodeKeyPair, err, "encode the private key")
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leaf.Raw})
	var chainPEM []byte
	for _, ca := range chain {
		chainPEM = append(chainPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Raw})...)
	}
	if keyPEM == nil || certPEM == nil || len(chainPEM) == 0 {
		return "", fail(CodeConvertPEM, nil, "encode the enrolled certificate as PEM")
	}
	js, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return "", fail(CodeSaveCert, err, "encode %s", ServerFile)
	}
	dir := c.Dir()
	files := []struct {
		name string
		data []byte
		perm os.FileMode
	}{
		{KeyFile, keyPEM, 0o600},
		{CertFile, certPEM, 0o644},
		{CAFile, chainPEM, 0o644},
		{ServerFile, append(js, '\n'), 0o644},
	}
	for _, f := range files {
		if err := atomicfile.WriteFileIn(c.root, filepath.Join(UMSDir, f.name), f.data, f.perm); err != nil {
			return "", fail(CodeSaveCert, err, "save %s", f.name)
		}
	}
	return filepath.Join(dir, CertFile), nil
}

// Enrollment is a saved enrollment, loaded for re-enrollment.
type Enrollment struct {
	Info  ServerInfo
	Cert  tls.Certificate // key and certificate with the chain's intermediates
	Leaf  *x509.Certificate
	Chain []*x509.Certificate // as in ca.crt, root last
}

// LoadEnrollment reads the files a successful enrollment left under root.
func LoadEnrollment(root string) (*Enrollment, error) {
	dir := filepath.Join(root, UMSDir)
	js, err := os.ReadFile(filepath.Join(dir, ServerFile))
	if err != nil {
		return nil, fail(CodeESTInit, err, "read %s", ServerFile)
	}
	var info ServerInfo
	if err := json.Unmarshal(js, &info); err != nil {
		return nil, fail(CodeESTInit, err, "parse %s", ServerFile)
	}
	chainPEM, err := os.ReadFile(filepath.Join(dir, CAFile))
	if err != nil {
		return nil, fail(CodeTrustChain, err, "read %s", CAFile)
	}
	chain, err := parsePEMCerts(chainPEM)
	if err != nil {
		return nil, fail(CodeTrustChain, err, "parse %s", CAFile)
	}
	keyPEM, err := os.ReadFile(filepath.Join(dir, KeyFile))
	if err != nil {
		return nil, fail(CodePrivateKey, err, "read %s", KeyFile)
	}
	if b, _ := pem.Decode(keyPEM); b == nil {
		return nil, fail(CodePrivateKey, nil, "%s holds no PEM private key", KeyFile)
	} else if _, err := x509.ParsePKCS8PrivateKey(b.Bytes); err != nil {
		return nil, fail(CodePrivateKey, err, "parse %s", KeyFile)
	}
	certPEM, err := os.ReadFile(filepath.Join(dir, CertFile))
	if err != nil {
		return nil, fail(CodeKeyPair, err, "read %s", CertFile)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fail(CodeKeyPair, err, "%s and %s do not form a key pair", CertFile, KeyFile)
	}
	for _, ca := range chain[:len(chain)-1] {
		pair.Certificate = append(pair.Certificate, ca.Raw)
	}
	return &Enrollment{Info: info, Cert: pair, Leaf: pair.Leaf, Chain: chain}, nil
}

// parsePEMCerts reads PEM certificates; the last must be a self-signed root.
func parsePEMCerts(data []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse certificate: %w", err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, errors.New("no certificate")
	}
	roots, _ := splitRoots(certs[len(certs)-1:])
	if len(roots) == 0 {
		return nil, errors.New("the chain does not end with a self-signed root certificate")
	}
	return certs, nil
}
