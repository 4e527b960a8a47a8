package lab

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"database/sql"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/onramp-os/onramp/internal/atomicfile"
	"github.com/onramp-os/onramp/license"
	"github.com/onramp-os/onramp/onboard"
)

// signerFile holds the license signer's key and certificate in one PEM
// file (0600), so two processes creating it at once never leave a key
// with another's certificate: the last complete file wins, and licenses
// signed by the other stay verifiable through the chain they carry.
const signerFile = "license-signer.pem"

// SignerName is the lab's license issuer: the signing certificate's
// common name.
const SignerName = "ums-lab License Signer"

// lifeSchema holds what the device's life after onboarding adds: assigned
// licenses, check-ins and revoked certificates.
const lifeSchema = `
CREATE TABLE IF NOT EXISTS licenses (
	id         TEXT PRIMARY KEY,
	unit_id    TEXT NOT NULL,
	product    TEXT NOT NULL,
	issued_at  TEXT NOT NULL,
	expires_at TEXT NOT NULL,
	document   BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS licenses_unit ON licenses (unit_id);
CREATE TABLE IF NOT EXISTS checkins (
	unit_id    TEXT PRIMARY KEY,
	serial     TEXT NOT NULL,
	last_seen  TEXT NOT NULL,
	os_version TEXT NOT NULL DEFAULT '',
	facts      TEXT NOT NULL DEFAULT '{}',
	remote     TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS revoked (
	serial     TEXT PRIMARY KEY,
	unit_id    TEXT NOT NULL,
	revoked_at TEXT NOT NULL
);`

// signer returns the license signer, creating its key and a certificate
// from the issuing CA (ten years) on first use.
func (s *State) signer() (license.Signer, error) {
	path := filepath.Join(s.Dir, signerFile)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return license.Signer{}, err
		}
		tmpl := &x509.Certificate{
			SerialNumber: newSerial(),
			Subject:      pkix.Name{Organization: []string{"ums-lab"}, CommonName: SignerName},
			NotBefore:    time.Now().Add(-time.Hour),
			NotAfter:     time.Now().AddDate(10, 0, 0),
			KeyUsage:     x509.KeyUsageDigitalSignature,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, s.CA.Issuer, &key.PublicKey, s.CA.issuerKey)
		if err != nil {
			return license.Signer{}, fmt.Errorf("issue the license signing certificate: %w", err)
		}
		keyDER := mustPKCS8(key)
		if keyDER == nil {
			return license.Signer{}, errors.New("encode the license signing key")
		}
		data := append(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
			pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
		if err := atomicfile.WriteFile(path, data, 0o600); err != nil {
			return license.Signer{}, fmt.Errorf("save the license signer: %w", err)
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return license.Signer{}, fmt.Errorf("read the license signer: %w", err)
	}
	var sg license.Signer
	for {
		var b *pem.Block
		if b, data = pem.Decode(data); b == nil {
			break
		}
		switch b.Type {
		case "PRIVATE KEY":
			k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
			if ek, ok := k.(*ecdsa.PrivateKey); err == nil && ok {
				sg.Key = ek
			}
		case "CERTIFICATE":
			if c, err := x509.ParseCertificate(b.Bytes); err == nil {
				sg.Chain = []*x509.Certificate{c, s.CA.Issuer}
			}
		}
	}
	if sg.Key == nil || len(sg.Chain) == 0 || !sg.Key.PublicKey.Equal(sg.Chain[0].PublicKey) {
		return license.Signer{}, fmt.Errorf("%s: no matching ECDSA key and certificate", signerFile)
	}
	return sg, nil
}

// ErrInvalidLicense marks a license request with a bad field.
var ErrInvalidLicense = errors.New("invalid license")

// Assignment is one license the lab has assigned.
type Assignment struct {
	ID        string    `json:"id"`
	UnitID    string    `json:"unit_id"`
	Product   string    `json:"product"`
	Issuer    string    `json:"issuer"`
	IssuedAt  time.Time `json:"issued_at"`
	ExpiresAt time.Time `json:"expires_at"`
	Document  []byte    `json:"-"` // the signed license file
}

// AssignLicense signs a license of product for unitID, valid days days
// from now, and keeps it for the device's next check-in. The device need
// not be registered yet.
func (s *State) AssignLicense(ctx context.Context, unitID, product string, days int) (Assignment, error) {
	unitID = strings.ToUpper(unitID)
	switch {
	case !onboard.ValidUnitID(unitID):
		return Assignment{}, fmt.Errorf("%w: unit %q is not a Unit ID (12 hexadecimal characters)", ErrInvalidLicense, unitID)
	case strings.TrimSpace(product) == "" || len(product) > 64:
		return Assignment{}, fmt.Errorf("%w: the product must have 1-64 characters", ErrInvalidLicense)
	case strings.EqualFold(product, license.ProductStarter):
		return Assignment{}, fmt.Errorf("%w: Starter is the device's own license; a UMS assigns other products", ErrInvalidLicense)
	case days < 1 || days > 3660:
		return Assignment{}, fmt.Errorf("%w: %d days; 1 to 3660 are allowed", ErrInvalidLicense, days)
	}
	sg, err := s.signer()
	if err != nil {
		return Assignment{}, err
	}
	at := time.Now().UTC().Truncate(time.Second)
	a := Assignment{ID: license.NewID(), UnitID: unitID, Product: product, Issuer: sg.Name(), IssuedAt: at, ExpiresAt: at.AddDate(0, 0, days)}
	a.Document, err = sg.Issue(license.Payload{ID: a.ID, Product: product, UnitID: unitID, IssuedAt: a.IssuedAt, ExpiresAt: a.ExpiresAt})
	if err != nil {
		return Assignment{}, err
	}
	err = s.db.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO licenses (id, unit_id, product, issued_at, expires_at, document) VALUES (?, ?, ?, ?, ?, ?)`,
			a.ID, a.UnitID, a.Product, a.IssuedAt.Format(time.RFC3339Nano), a.ExpiresAt.Format(time.RFC3339Nano), a.Document)
		return err
	})
	if err != nil {
		return Assignment{}, fmt.Errorf("store the license: %w", err)
	}
	return a, nil
}

// Licenses lists the assigned licenses, of one Unit ID when unitID is set.
func (s *State) Licenses(ctx context.Context, unitID string) ([]Assignment, error) {
	q := `SELECT id, unit_id, product, issued_at, expires_at, document FROM licenses`
	var args []any
	if unitID != "" {
		q += ` WHERE unit_id = ?`
		args = append(args, strings.ToUpper(unitID))
	}
	rows, err := s.db.db.QueryContext(ctx, q+` ORDER BY unit_id, issued_at, id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Assignment
	for rows.Next() {
		var a Assignment
		var issued, expires string
		if err := rows.Scan(&a.ID, &a.UnitID, &a.Product, &issued, &expires, &a.Document); err != nil {
			return nil, err
		}
		a.IssuedAt, a.ExpiresAt, a.Issuer = parseTime(issued), parseTime(expires), SignerName
		out = append(out, a)
	}
	return out, rows.Err()
}

// DeviceRecord is a registered device with what its check-ins told.
type DeviceRecord struct {
	Device
	LastSeen  time.Time     `json:"last_seen"` // zero: never checked in
	OSVersion string        `json:"os_version,omitempty"`
	Facts     onboard.Facts `json:"facts"`
	Revoked   bool          `json:"revoked"`
}

// DeviceRecords lists the registry with the last check-in of each device.
func (s *State) DeviceRecords(ctx context.Context) ([]DeviceRecord, error) {
	devs, err := s.db.devices(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]DeviceRecord, 0, len(devs))
	for _, d := range devs {
		r := DeviceRecord{Device: d}
		var seen, facts string
		err := s.db.db.QueryRowContext(ctx, `SELECT last_seen, os_version, facts FROM checkins WHERE unit_id = ?`, d.UnitID).Scan(&seen, &r.OSVersion, &facts)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return nil, err
		default:
			r.LastSeen = parseTime(seen)
			_ = json.Unmarshal([]byte(facts), &r.Facts)
		}
		var n int
		if err := s.db.db.QueryRowContext(ctx, `SELECT count(*) FROM revoked WHERE serial = ?`, d.Serial).Scan(&n); err != nil {
			return nil, err
		}
		r.Revoked = n > 0
		out = append(out, r)
	}
	return out, nil
}

// Why a device's certificate is refused at check-in and re-enrollment.
var (
	ErrRevoked       = errors.New("the device certificate is revoked")
	ErrUnknownDevice = errors.New("the certificate belongs to no registered device")
)

// RevokeDevice revokes the current certificate of a registered device: its
// check-ins and re-enrollments are refused from now on. It may onboard
// again after `devices delete`.
func (s *State) RevokeDevice(ctx context.Context, unitID string) error {
	unitID = strings.ToUpper(unitID)
	return s.db.write(ctx, func(tx *sql.Tx) error {
		var serial string
		err := tx.QueryRowContext(ctx, `SELECT serial FROM devices WHERE unit_id = ?`, unitID).Scan(&serial)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("device %s: %w", unitID, ErrNotFound)
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT OR IGNORE INTO revoked (serial, unit_id, revoked_at) VALUES (?, ?, ?)`, serial, unitID, now())
		return err
	})
}

// certStatus says whether the certificate with serial (hex) is the current,
// unrevoked one of unitID.
func (s *store) certStatus(ctx context.Context, unitID, serial string) error {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM revoked WHERE serial = ?`, serial).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return ErrRevoked
	}
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM devices WHERE unit_id = ? AND serial = ?`, unitID, serial).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return ErrUnknownDevice
	}
	return nil
}

// recordCheckIn keeps the device's last check-in.
func (s *store) recordCheckIn(ctx context.Context, unitID, serial, osVersion, facts, remote string) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO checkins (unit_id, serial, last_seen, os_version, facts, remote) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (unit_id) DO UPDATE SET serial = excluded.serial, last_seen = excluded.last_seen,
			os_version = excluded.os_version, facts = excluded.facts, remote = excluded.remote`,
			unitID, serial, now(), osVersion, facts, remote)
		return err
	})
}
