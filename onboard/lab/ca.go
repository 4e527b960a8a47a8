package lab

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/onramp-os/onramp/internal/atomicfile"
)

// Files of the lab CA in the state directory; keys are 0600.
const (
	rootCertFile   = "root.crt"
	rootKeyFile    = "root.key"
	issuerCertFile = "issuer.crt"
	issuerKeyFile  = "issuer.key"
)

// CA is the lab's two-level CA: a root (whose fingerprint part 3 is the
// communication token) and an intermediate that issues server and device
// certificates.
type CA struct {
	Root      *x509.Certificate
	Issuer    *x509.Certificate
	issuerKey *ecdsa.PrivateKey
	// DeviceValidity is how long device certificates are valid (zero:
	// one year).
	DeviceValidity time.Duration
}

// loadOrCreateCA reads the CA from dir, creating root and intermediate on
// first use. A given root (certificate and ECDSA key) is the root of a new
// CA; an existing CA must have it.
func loadOrCreateCA(dir string, fixed *tls.Certificate) (*CA, error) {
	if _, err := os.Stat(filepath.Join(dir, rootCertFile)); errors.Is(err, os.ErrNotExist) {
		if err := createCA(dir, fixed); err != nil {
			return nil, fmt.Errorf("create the lab CA: %w", err)
		}
	}
	root, _, err := readPair(dir, rootCertFile, "")
	if err != nil {
		return nil, err
	}
	if fixed != nil && len(fixed.Certificate) > 0 && !bytes.Equal(root.Raw, fixed.Certificate[0]) {
		return nil, fmt.Errorf("the lab CA in %s has another root than the one given", dir)
	}
	issuer, key, err := readPair(dir, issuerCertFile, issuerKeyFile)
	if err != nil {
		return nil, err
	}
	return &CA{Root: root, Issuer: issuer, issuerKey: key}, nil
}

// fixedRoot checks a given root: a self-signed CA certificate with its
// ECDSA key.
func fixedRoot(fixed *tls.Certificate) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	if len(fixed.Certificate) == 0 {
		return nil, nil, errors.New("the given root has no certificate")
	}
	root, err := x509.ParseCertificate(fixed.Certificate[0])
	if err != nil {
		return nil, nil, fmt.Errorf("the given root: %w", err)
	}
	key, ok := fixed.PrivateKey.(*ecdsa.PrivateKey)
	if !ok {
		return nil, nil, errors.New("the given root's key is not an ECDSA key")
	}
	if !root.IsCA || root.CheckSignatureFrom(root) != nil {
		return nil, nil, errors.New("the given root is not a self-signed CA certificate")
	}
	if !key.PublicKey.Equal(root.PublicKey) {
		return nil, nil, errors.New("the given root's key does not belong to its certificate")
	}
	return root, key, nil
}

// newRoot makes a fresh self-signed root CA.
func newRoot(now time.Time) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	rootKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	rootTmpl := &x509.Certificate{
		SerialNumber:          newSerial(),
		Subject:               pkix.Name{Organization: []string{"ums-lab"}, CommonName: "ums-lab Root CA " + randomHex(4)},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(20, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	rootDER, err := x509.CreateCertificate(rand.Reader, rootTmpl, rootTmpl, &rootKey.PublicKey, rootKey)
	if err != nil {
		return nil, nil, err
	}
	root, err := x509.ParseCertificate(rootDER)
	if err != nil {
		return nil, nil, err
	}
	return root, rootKey, nil
}

func createCA(dir string, fixed *tls.Certificate) error {
	now := time.Now()
	var root *x509.Certificate
	var rootKey *ecdsa.PrivateKey
	var err error
	if fixed != nil {
		root, rootKey, err = fixedRoot(fixed)
	} else {
		root, rootKey, err = newRoot(now)
	}
	if err != nil {
		return err
	}
	issKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	issTmpl := &x509.Certificate{
		SerialNumber:          newSerial(),
		Subject:               pkix.Name{Organization: []string{"ums-lab"}, CommonName: "ums-lab Issuing CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	issDER, err := x509.CreateCertificate(rand.Reader, issTmpl, root, &issKey.PublicKey, rootKey)
	if err != nil {
		return err
	}
	// Keys first, the root certificate last: its presence means a complete CA.
	for _, f := range []struct {
		name string
		typ  string
		der  []byte
		perm os.FileMode
	}{
		{rootKeyFile, "PRIVATE KEY", mustPKCS8(rootKey), 0o600},
		{issuerKeyFile, "PRIVATE KEY", mustPKCS8(issKey), 0o600},
		{issuerCertFile, "CERTIFICATE", issDER, 0o644},
		{rootCertFile, "CERTIFICATE", root.Raw, 0o644},
	} {
		if f.der == nil {
			return errors.New("encode a CA key")
		}
		data := pem.EncodeToMemory(&pem.Block{Type: f.typ, Bytes: f.der})
		if err := atomicfile.WriteFile(filepath.Join(dir, f.name), data, f.perm); err != nil {
			return err
		}
	}
	return nil
}

func mustPKCS8(k *ecdsa.PrivateKey) []byte {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil
	}
	return der
}

// readPair reads a PEM certificate and, if keyName is set, its ECDSA key.
func readPair(dir, certName, keyName string) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	certPEM, err := os.ReadFile(filepath.Join(dir, certName))
	if err != nil {
		return nil, nil, fmt.Errorf("read the lab CA: %w", err)
	}
	b, _ := pem.Decode(certPEM)
	if b == nil {
		return nil, nil, fmt.Errorf("%s: no PEM certificate", certName)
	}
	cert, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", certName, err)
	}
	if keyName == "" {
		return cert, nil, nil
	}
	keyPEM, err := os.ReadFile(filepath.Join(dir, keyName))
	if err != nil {
		return nil, nil, fmt.Errorf("read the lab CA: %w", err)
	}
	kb, _ := pem.Decode(keyPEM)
	if kb == nil {
		return nil, nil, fmt.Errorf("%s: no PEM key", keyName)
	}
	k, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", keyName, err)
	}
	ek, ok := k.(*ecdsa.PrivateKey)
	if !ok {
		return nil, nil, fmt.Errorf("%s: not an ECDSA key", keyName)
	}
	return cert, ek, nil
}

// Chain is the CA chain as served by cacerts: intermediate, then root.
func (ca *CA) Chain() []*x509.Certificate { return []*x509.Certificate{ca.Issuer, ca.Root} }

// ChainPEM is Chain in PEM.
func (ca *CA) ChainPEM() []byte {
	var out []byte
	for _, c := range ca.Chain() {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return out
}

// ServerCertificate issues a TLS server certificate for hosts (names and IP
// addresses), valid for a year; the lab makes a fresh one at every start.
func (ca *CA) ServerCertificate(hosts []string) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: newSerial(),
		Subject:      pkix.Name{Organization: []string{"ums-lab"}, CommonName: hosts[0]},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().AddDate(1, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Issuer, &key.PublicKey, ca.issuerKey)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("issue the server certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der, ca.Issuer.Raw}, PrivateKey: key, Leaf: leaf}, nil
}

// IssueDevice signs a device certificate (client authentication, CN = Unit
// ID, valid DeviceValidity) for the CSR's key with the given serial.
func (ca *CA) IssueDevice(csr *x509.CertificateRequest, unitID string, serial *big.Int) (*x509.Certificate, error) {
	notAfter := time.Now().AddDate(1, 0, 0)
	if ca.DeviceValidity > 0 {
		notAfter = time.Now().Add(ca.DeviceValidity)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{Organization: []string{"ums-lab"}, CommonName: unitID},
		NotBefore:    time.Now().Add(-5 * time.Minute),
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Issuer, csr.PublicKey, ca.issuerKey)
	if err != nil {
		return nil, fmt.Errorf("issue the device certificate: %w", err)
	}
	return x509.ParseCertificate(der)
}

// newSerial is a random positive 127-bit serial number.
func newSerial() *big.Int {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[0] &= 0x7f
	b[0] |= 0x40 // never a short serial
	return new(big.Int).SetBytes(b)
}
