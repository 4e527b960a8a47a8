// Package license reads, verifies, issues and stores device licenses: a
// signed document that grants a product to one device (Unit ID) between an
// issue and an expiry time. A management server (UMS) signs its licenses
// with a signing certificate issued by its CA; the device trusts the CA it
// enrolled with (/etc/onramp/ums/ca.crt). A device that skips onboarding
// writes itself a Starter license, which carries no signature and is
// checked by its own rules. Verification never fails: every file gets a
// Status whose State says why it does or does not count. It shows nothing.
package license

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/onramp-os/onramp/settings"
)

// Dir is where licenses live below a root: DATA's /licenses/
// (settings.LicensesDir), DATA being mounted at /data on the installed
// system. Offline roots and tests point elsewhere through the root.
var Dir = "data/" + settings.LicensesDir

// Format is the document's "format" value.
const Format = "onramp-license/1"

// The Starter license (the guide's "Licensing": a device that is not
// onboarded runs 30 days on it).
const (
	ProductStarter = "Starter"
	IssuerDevice   = "device" // the Starter license's issuer: the device itself
	StarterDays    = 30
	StarterFile    = "starter.lic"
)

// Ext is the file extension of a license.
const Ext = ".lic"

// MaxSize bounds a license file; larger ones are refused unread.
const MaxSize = 64 << 10

// skew is how far a device clock may lag the issuer's before a fresh
// license counts as not yet valid.
const skew = 5 * time.Minute

// Payload is what a license grants.
type Payload struct {
	ID        string    `json:"id"`      // unique per issuer: [a-z0-9-], 1-64 characters
	Product   string    `json:"product"` // product name, e.g. "Starter", "Kiosk"
	UnitID    string    `json:"unit_id"` // the one device it is bound to
	IssuedAt  time.Time `json:"issued_at"`
	ExpiresAt time.Time `json:"expires_at"`
	Issuer    string    `json:"issuer"` // the signing certificate's common name, or "device"
}

// Document is a license file (JSON):
//
//	format     "onramp-license/1"
//	payload    base64url (no padding) of the payload's JSON bytes
//	signature  base64url (no padding) of the ECDSA signature (ASN.1 DER)
//	           over SHA-256 of those bytes; absent on a Starter license
//	chain      the signing certificate, then intermediates, each standard
//	           base64 of DER; the root is not included (the device has it)
type Document struct {
	Format    string   `json:"format"`
	Payload   string   `json:"payload"`
	Signature string   `json:"signature,omitempty"`
	Chain     []string `json:"chain,omitempty"`
}

var idRE = regexp.MustCompile(`^[a-z0-9-]{1,64}$`)

// FileName is the file a license is stored as: ums-ID.lic for licenses of
// a UMS, starter.lic for the Starter license.
func FileName(p Payload) string {
	if p.Issuer == IssuerDevice {
		return StarterFile
	}
	return "ums-" + p.ID + Ext
}

// NewID returns a random license ID.
func NewID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (p Payload) check() error {
	switch {
	case !idRE.MatchString(p.ID):
		return errors.New("id: 1-64 characters a-z, 0-9 and - are allowed")
	case p.Product == "" || len(p.Product) > 64:
		return errors.New("product: 1-64 characters are allowed")
	case p.Issuer == "" || len(p.Issuer) > 255:
		return errors.New("issuer: 1-255 characters are allowed")
	case p.UnitID != "" && !unitRE.MatchString(p.UnitID):
		return errors.New("unit_id: 12 upper-case hexadecimal characters are allowed")
	case p.IssuedAt.IsZero() || p.ExpiresAt.IsZero():
		return errors.New("issued_at and expires_at are required")
	case !p.ExpiresAt.After(p.IssuedAt):
		return errors.New("expires_at must be after issued_at")
	}
	return nil
}

var unitRE = regexp.MustCompile(`^[0-9A-F]{12}$`)

// Signer issues licenses with an ECDSA key and its certificate chain
// (signing certificate first, root excluded).
type Signer struct {
	Key   *ecdsa.PrivateKey
	Chain []*x509.Certificate
}

// Name is the issuer recorded in the licenses: the signing certificate's
// common name.
func (s Signer) Name() string { return s.Chain[0].Subject.CommonName }

// Issue signs p (its Issuer is set to the signer's name) and returns the
// license file's content.
func (s Signer) Issue(p Payload) ([]byte, error) {
	if len(s.Chain) == 0 || s.Key == nil {
		return nil, errors.New("the signer has no key or certificate")
	}
	p.Issuer = s.Name()
	if err := p.check(); err != nil {
		return nil, fmt.Errorf("license: %w", err)
	}
	body, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(body)
	sig, err := ecdsa.SignASN1(rand.Reader, s.Key, sum[:])
	if err != nil {
		return nil, fmt.Errorf("sign the license: %w", err)
	}
	d := Document{Format: Format, Payload: b64.EncodeToString(body), Signature: b64.EncodeToString(sig)}
	for _, c := range s.Chain {
		d.Chain = append(d.Chain, base64.StdEncoding.EncodeToString(c.Raw))
	}
	return marshal(d)
}

// Starter returns the Starter license of unitID, valid StarterDays days
// from firstBoot.
func Starter(unitID string, firstBoot time.Time) ([]byte, error) {
	at := firstBoot.UTC().Truncate(time.Second)
	p := Payload{ID: "starter", Product: ProductStarter, UnitID: unitID, IssuedAt: at,
		ExpiresAt: at.AddDate(0, 0, StarterDays), Issuer: IssuerDevice}
	if err := p.check(); err != nil {
		return nil, fmt.Errorf("starter license: %w", err)
	}
	body, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	return marshal(Document{Format: Format, Payload: b64.EncodeToString(body)})
}

var b64 = base64.RawURLEncoding

func marshal(d Document) ([]byte, error) {
	out, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

// Parse decodes a license file without verifying it: the document, its
// payload bytes (as signed) and the payload.
func Parse(data []byte) (Document, []byte, Payload, error) {
	var d Document
	var p Payload
	if len(data) > MaxSize {
		return d, nil, p, fmt.Errorf("larger than %d bytes", MaxSize)
	}
	if err := json.Unmarshal(data, &d); err != nil {
		return d, nil, p, fmt.Errorf("not a license document: %w", err)
	}
	if d.Format != Format {
		return d, nil, p, fmt.Errorf("format %q is not %q", d.Format, Format)
	}
	body, err := b64.DecodeString(d.Payload)
	if err != nil {
		return d, nil, p, fmt.Errorf("payload: %w", err)
	}
	if err := json.Unmarshal(body, &p); err != nil {
		return d, nil, p, fmt.Errorf("payload: %w", err)
	}
	if err := p.check(); err != nil {
		return d, nil, p, err
	}
	return d, body, p, nil
}
