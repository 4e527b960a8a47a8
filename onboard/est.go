package onboard

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/smallstep/pkcs7"
)

// estPath is where the UMS serves EST (RFC 7030), below https://HOST:PORT.
const estPath = "/device-connector/device/.well-known/est/"

// maxESTBody bounds what is read from an EST response: a certificate chain
// is a few KiB.
const maxESTBody = 1 << 20

// ParseCertsOnly decodes an EST certs-only response: base64 (line breaks
// allowed) of a PKCS#7 SignedData that carries certificates. It never
// panics, whatever the input.
func ParseCertsOnly(body []byte) (certs []*x509.Certificate, err error) {
	der, err := decodeBase64(body)
	if err != nil {
		return nil, err
	}
	defer func() {
		// The PKCS#7 parser walks attacker-controlled ASN.1; a panic in it
		// must become an error, not take the setup assistant down.
		if r := recover(); r != nil {
			certs, err = nil, fmt.Errorf("malformed PKCS#7: %v", r)
		}
	}()
	p7, err := pkcs7.Parse(der)
	if err != nil {
		return nil, fmt.Errorf("parse PKCS#7: %w", err)
	}
	if len(p7.Certificates) == 0 {
		return nil, errors.New("PKCS#7 holds no certificate")
	}
	return p7.Certificates, nil
}

// decodeBase64 decodes standard base64, ignoring whitespace (RFC 7030
// bodies are usually wrapped at 64 or 76 characters).
func decodeBase64(body []byte) ([]byte, error) {
	clean := bytes.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\r', '\n':
			return -1
		}
		return r
	}, body)
	if len(clean) == 0 {
		return nil, errors.New("empty body")
	}
	der := make([]byte, base64.StdEncoding.DecodedLen(len(clean)))
	n, err := base64.StdEncoding.Decode(der, clean)
	if err != nil {
		return nil, fmt.Errorf("decode base64: %w", err)
	}
	return der[:n], nil
}

// encodeBase64 wraps base64 at 64 characters with CRLF, as RFC 7030 servers
// and clients commonly do.
func encodeBase64(der []byte) []byte {
	s := base64.StdEncoding.EncodeToString(der)
	var b bytes.Buffer
	for len(s) > 64 {
		b.WriteString(s[:64])
		b.WriteString("\r\n")
		s = s[64:]
	}
	b.WriteString(s)
	b.WriteString("\r\n")
	return b.Bytes()
}

// EncodeCSR is the body of simpleenroll/simplereenroll for a DER CSR.
func EncodeCSR(der []byte) []byte { return encodeBase64(der) }

// ParseCSR decodes a simpleenroll body (base64 DER PKCS#10) and checks its
// signature.
func ParseCSR(body []byte) (*x509.CertificateRequest, error) {
	der, err := decodeBase64(body)
	if err != nil {
		return nil, err
	}
	csr, err := x509.ParseCertificateRequest(der)
	if err != nil {
		return nil, fmt.Errorf("parse CSR: %w", err)
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, fmt.Errorf("CSR signature: %w", err)
	}
	return csr, nil
}

// EncodeCertsOnly is the body of a certs-only response (cacerts,
// simpleenroll) for the given certificates.
func EncodeCertsOnly(certs ...*x509.Certificate) ([]byte, error) {
	var all []byte
	for _, c := range certs {
		all = append(all, c.Raw...)
	}
	der, err := pkcs7.DegenerateCertificate(all)
	if err != nil {
		return nil, fmt.Errorf("build PKCS#7: %w", err)
	}
	return encodeBase64(der), nil
}

// splitRoots returns the self-signed CA certificates among certs and the
// others.
func splitRoots(certs []*x509.Certificate) (roots, others []*x509.Certificate) {
	for _, c := range certs {
		if c.IsCA && bytes.Equal(c.RawSubject, c.RawIssuer) && c.CheckSignatureFrom(c) == nil {
			roots = append(roots, c)
		} else {
			others = append(others, c)
		}
	}
	return roots, others
}

// chainTo returns root followed by those of others that chain to it (the
// CA chain saved as ca.crt), intermediates first.
func chainTo(root *x509.Certificate, others []*x509.Certificate) []*x509.Certificate {
	roots := x509.NewCertPool()
	roots.AddCert(root)
	inter := x509.NewCertPool()
	for _, c := range others {
		inter.AddCert(c)
	}
	var chain []*x509.Certificate
	for _, c := range others {
		if !c.IsCA {
			continue
		}
		if _, err := c.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err == nil {
			chain = append(chain, c)
		}
	}
	return append(chain, root)
}
