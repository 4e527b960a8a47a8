package license

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"time"
)

// State is the verdict on one license file. Only Valid counts.
type State int

// States, from counting to the reasons for not counting.
const (
	Valid        State = iota
	Expired            // the expiry time has passed
	NotYetValid        // issued in the future (the device clock lags)
	OtherUnit          // bound to another Unit ID
	BadSignature       // the signature does not match the payload
	Untrusted          // not signed by a certificate of the device's UMS
	Malformed          // not a license document, or one breaking its rules
)

var stateNames = []string{"valid", "expired", "not-yet-valid", "other-unit", "bad-signature", "untrusted", "malformed"}

func (s State) String() string {
	if s < 0 || int(s) >= len(stateNames) {
		return fmt.Sprintf("state(%d)", int(s))
	}
	return stateNames[s]
}

// MarshalText writes the state's name (JSON).
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a state's name.
func (s *State) UnmarshalText(b []byte) error {
	for i, n := range stateNames {
		if n == string(b) {
			*s = State(i)
			return nil
		}
	}
	return fmt.Errorf("unknown license state %q", b)
}

// Status is one license file with its verdict.
type Status struct {
	File    string  `json:"file"`
	License Payload `json:"license"` // zero when Malformed
	State   State   `json:"state"`
	Reason  string  `json:"reason,omitempty"` // why it does not count
	// DaysLeft is the whole days until expiry (rounded up) for a valid
	// license.
	DaysLeft int `json:"days_left,omitempty"`
}

// Valid reports whether the license counts.
func (s Status) Valid() bool { return s.State == Valid }

// Summary is one English line for CLIs and logs: "Starter, 12 days left",
// "Kiosk: expired 2026-01-02".
func (s Status) Summary() string {
	name := s.License.Product
	if name == "" {
		name = s.File
	}
	switch s.State {
	case Valid:
		return fmt.Sprintf("%s, %d days left (until %s)", name, s.DaysLeft, s.License.ExpiresAt.Format(time.DateOnly))
	case Expired:
		return fmt.Sprintf("%s: expired %s", name, s.License.ExpiresAt.Format(time.DateOnly))
	}
	return fmt.Sprintf("%s: %s (%s)", name, s.State, s.Reason)
}

// Verifier checks licenses for one device.
type Verifier struct {
	// Roots are the UMS CAs whose signing certificates are trusted; nil
	// (a device that never onboarded) leaves every UMS license Untrusted.
	Roots *x509.CertPool
	// UnitID is the device's Unit ID; a license for another is OtherUnit.
	UnitID string
	// Now is the time to check against (zero: time.Now).
	Now time.Time
}

// Verify checks the license file name with content data. Checks go from
// the document to the signature to the binding to the time, so the state
// names the first problem.
func (v Verifier) Verify(name string, data []byte) Status {
	st := Status{File: name}
	d, body, p, err := Parse(data)
	if err != nil {
		st.State, st.Reason = Malformed, err.Error()
		return st
	}
	st.License = p
	if p.Issuer == IssuerDevice {
		if d.Signature != "" || len(d.Chain) > 0 {
			st.State, st.Reason = Malformed, "a Starter license carries no signature"
			return st
		}
		if p.Product != ProductStarter || p.ExpiresAt.After(p.IssuedAt.AddDate(0, 0, StarterDays)) {
			st.State, st.Reason = Untrusted, fmt.Sprintf("the device may only issue itself a %s license of at most %d days", ProductStarter, StarterDays)
			return st
		}
	} else if state, reason := v.checkSignature(d, body, p); state != Valid {
		st.State, st.Reason = state, reason
		return st
	}
	now := v.Now
	if now.IsZero() {
		now = time.Now()
	}
	switch {
	case p.UnitID != v.UnitID:
		st.State = OtherUnit
		if v.UnitID == "" {
			st.Reason = fmt.Sprintf("bound to %s; this device has no Unit ID", p.UnitID)
		} else {
			st.Reason = fmt.Sprintf("bound to %s, this device is %s", p.UnitID, v.UnitID)
		}
	case !now.Before(p.ExpiresAt):
		st.State, st.Reason = Expired, "expired "+p.ExpiresAt.UTC().Format(time.RFC3339)
	case now.Add(skew).Before(p.IssuedAt):
		st.State, st.Reason = NotYetValid, "issued "+p.IssuedAt.UTC().Format(time.RFC3339)+", after this device's clock"
	default:
		st.DaysLeft = int((p.ExpiresAt.Sub(now) + 24*time.Hour - 1) / (24 * time.Hour))
	}
	return st
}

func (v Verifier) checkSignature(d Document, body []byte, p Payload) (State, string) {
	if d.Signature == "" || len(d.Chain) == 0 {
		return Untrusted, "unsigned, and only the Starter license may be"
	}
	sig, err := b64.DecodeString(d.Signature)
	if err != nil {
		return Malformed, "signature: " + err.Error()
	}
	certs := make([]*x509.Certificate, 0, len(d.Chain))
	for i, c := range d.Chain {
		der, err := base64.StdEncoding.DecodeString(c)
		if err != nil {
			return Malformed, fmt.Sprintf("chain[%d]: %v", i, err)
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return Malformed, fmt.Sprintf("chain[%d]: %v", i, err)
		}
		certs = append(certs, cert)
	}
	signer := certs[0]
	pub, ok := signer.PublicKey.(*ecdsa.PublicKey)
	if !ok {
		return Untrusted, "the signing certificate has no ECDSA key"
	}
	sum := sha256.Sum256(body)
	if !ecdsa.VerifyASN1(pub, sum[:], sig) {
		return BadSignature, "the signature does not match the content"
	}
	if signer.Subject.CommonName != p.Issuer {
		return Untrusted, fmt.Sprintf("issuer %q is not the signer %q", p.Issuer, signer.Subject.CommonName)
	}
	if v.Roots == nil {
		return Untrusted, "this device trusts no management server (not onboarded)"
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	// The signer must have been valid when it issued the license; the
	// license's own expiry rules the rest.
	if _, err := signer.Verify(x509.VerifyOptions{Roots: v.Roots, Intermediates: inter, CurrentTime: p.IssuedAt,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		return Untrusted, "not signed by this device's management server: " + err.Error()
	}
	if signer.IsCA || signer.KeyUsage&x509.KeyUsageDigitalSignature == 0 {
		return Untrusted, "the signing certificate is not a signing certificate"
	}
	return Valid, ""
}

// Count is the number of valid licenses among st.
func Count(st []Status) int {
	n := 0
	for _, s := range st {
		if s.Valid() {
			n++
		}
	}
	return n
}

// ErrNoRoots is returned by RootsFromPEM for data without a certificate.
var ErrNoRoots = errors.New("no CA certificate")

// RootsFromPEM is the pool of the self-signed CA certificates in a PEM
// chain (ca.crt: intermediates first, root last).
func RootsFromPEM(data []byte) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	n := 0
	for _, c := range parsePEM(data) {
		if c.IsCA && c.CheckSignatureFrom(c) == nil {
			pool.AddCert(c)
			n++
		}
	}
	if n == 0 {
		return nil, ErrNoRoots
	}
	return pool, nil
}
