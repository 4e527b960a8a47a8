package onboard

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// estTarget is one UMS's EST endpoint and the trust in it.
type estTarget struct {
	base   string // https://HOST:PORT/device-connector/device/.well-known/est/
	client *http.Client
	root   *x509.Certificate
	chain  []*x509.Certificate // ca.crt content, root last
}

// newKeyAndCSR makes the device's ECDSA P-256 key and a CSR with CN = Unit ID.
func newKeyAndCSR(unitID string) (*ecdsa.PrivateKey, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fail(CodeKeyPair, err, "generate the device key")
	}
	csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject:            pkix.Name{CommonName: unitID},
		SignatureAlgorithm: x509.ECDSAWithSHA256,
	}, key)
	if err != nil {
		return nil, nil, fail(CodePrivateKey, err, "sign the certificate request")
	}
	return key, csr, nil
}

// lostAnswerRetries is how often a request whose answer was lost is
// sent again, after 1, 2, 4 and 8 seconds.
const lostAnswerRetries = 4

// enroll posts the CSR to op ("simpleenroll" or "simplereenroll") and
// returns the issued certificate, checked against key, Unit ID and root.
// "202 Accepted" is waited out as the server's Retry-After says, within
// c.maxPending in total. When the connection breaks after the request may
// have reached the server (the server may have consumed the one-time key
// and lost only its answer), the same request, with the same key and CSR,
// is sent again, which the server answers with the certificate it
// issued; once that happened, a server not reachable for a moment (a
// restart) is tried again too.
func (c *Client) enroll(ctx context.Context, t *estTarget, op, unitID, password string, key *ecdsa.PrivateKey, csr []byte) (*x509.Certificate, error) {
	deadline := c.now().Add(c.maxPending)
	retries, backoff := 0, time.Second
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.base+op, bytes.NewReader(EncodeCSR(csr)))
		if err != nil {
			return nil, fail(CodeESTInit, err, "build the %s request", op)
		}
		req.Header.Set("Content-Type", "application/pkcs10")
		req.Header.Set("Content-Transfer-Encoding", "base64")
		if password != "" {
			req.SetBasicAuth(unitID, password)
		}
		resp, err := t.client.Do(req)
		if err != nil {
			if !answerLost(err, retries > 0) || ctx.Err() != nil || retries == lostAnswerRetries || c.now().Add(backoff).After(deadline) {
				return nil, asError(ctx, err, CodeEnroll, "%s", op)
			}
			retries++
			c.log.Warn("the enrollment answer was lost; asking again with the same request", "unit_id", unitID, "attempt", retries+1, "err", err)
			if err := sleep(ctx, backoff); err != nil {
				return nil, err
			}
			backoff *= 2
			continue
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxESTBody))
		_ = resp.Body.Close()
		switch {
		case resp.StatusCode == http.StatusAccepted:
			wait := retryAfter(resp.Header.Get("Retry-After"), c.now())
			if c.now().Add(wait).After(deadline) {
				return nil, fail(CodeRetrieveCert, nil, "the server still had not issued the certificate after %s", c.maxPending)
			}
			c.log.Info("enrollment pending", "unit_id", unitID, "retry_after", wait)
			if err := sleep(ctx, wait); err != nil {
				return nil, err
			}
			continue
		case resp.StatusCode != http.StatusOK:
			e := fail(CodeEnroll, nil, "the server refused %s: %s", op, serverReason(resp, body))
			e.Hint = strings.Replace(e.Hint, "search for its Unit ID", "search for its Unit ID "+unitID, 1)
			return nil, e
		case err != nil:
			return nil, fail(CodeRetrieveCert, err, "read the %s response", op)
		}
		certs, err := ParseCertsOnly(body)
		if err != nil {
			return nil, fail(CodeRetrieveCert, err, "decode the %s response", op)
		}
		return pickIssued(certs, key, unitID, t)
	}
}

// answerLost tells whether a failed request may have reached the server:
// the connection broke after it was made. Failures to connect count only
// after such a loss (retrying), a certificate that failed verification
// never.
func answerLost(err error, retrying bool) bool {
	var e *Error
	if !errors.As(err, &e) {
		return true
	}
	return retrying && (e.Code == CodeTCPConnect || e.Code == CodeTLSConnect)
}

// pickIssued finds the certificate for key among certs and checks it.
func pickIssued(certs []*x509.Certificate, key *ecdsa.PrivateKey, unitID string, t *estTarget) (*x509.Certificate, error) {
	var leaf *x509.Certificate
	for _, cert := range certs {
		if pub, ok := cert.PublicKey.(*ecdsa.PublicKey); ok && pub.Equal(&key.PublicKey) {
			leaf = cert
		}
	}
	if leaf == nil {
		return nil, fail(CodeRetrieveCert, nil, "the response holds no certificate for the device key")
	}
	if leaf.Subject.CommonName != unitID {
		return nil, fail(CodeRetrieveCert, nil, "the certificate is for %q, not for Unit ID %s", leaf.Subject.CommonName, unitID)
	}
	roots := x509.NewCertPool()
	roots.AddCert(t.root)
	inter := x509.NewCertPool()
	for _, c := range append(certs, t.chain...) {
		inter.AddCert(c)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		return nil, fail(CodeRetrieveCert, err, "the enrolled certificate does not chain to the server's root")
	}
	return leaf, nil
}

// retryAfter reads Retry-After (seconds or an HTTP date); missing or
// unreadable values mean 10 seconds, and the wait is at least 1 second.
func retryAfter(v string, now time.Time) time.Duration {
	d := 10 * time.Second
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
		d = time.Duration(s) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	if d < time.Second {
		d = time.Second
	}
	return d
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// serverReason is the status and the first line of the server's text,
// limited and stripped of control characters.
func serverReason(resp *http.Response, body []byte) string {
	line, _, _ := strings.Cut(string(body), "\n")
	line = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, strings.TrimSpace(line))
	if len(line) > 200 {
		line = line[:200] + "…"
	}
	if line == "" {
		return resp.Status
	}
	return fmt.Sprintf("%s (%s)", resp.Status, line)
}
