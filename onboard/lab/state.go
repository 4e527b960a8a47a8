// Package lab is ums-lab, a small but real reference server for the
// management side of onboarding: an EST server (RFC 7030: cacerts,
// simpleenroll with first-authentication keys, simplereenroll with mutual
// TLS) backed by its own two-level CA, a device registry with check-ins
// (mutual TLS), revocation and signed licenses, and an Onboarding Service (e-mail and domain routing, device-flow sign-in with a
// built-in test identity provider). Tests, demos and technicians use it; it
// is not a production UMS. State lives in one directory: the CA files and
// an SQLite database that the CLI may use while the server runs.
package lab

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/onramp-os/onramp/onboard"
)

const dbFile = "state.db"

// State is an opened state directory.
type State struct {
	Dir string
	CA  *CA
	db  *store
}

// OpenState opens (creating on first use) the state in dir.
func OpenState(dir string) (*State, error) { return openState(dir, nil) }

// openState opens the state in dir; a new one gets root as its root CA
// when root is set (Config.RootCA).
func openState(dir string, root *tls.Certificate) (*State, error) {
	if dir == "" {
		return nil, errors.New("no state directory given")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create state directory: %w", err)
	}
	ca, err := loadOrCreateCA(dir, root)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, dbFile)
	// Created 0600 before SQLite opens it; its -wal and -shm files take
	// the same mode.
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open state database: %w", err)
	}
	_ = f.Close()
	db, err := openStore(path)
	if err != nil {
		return nil, err
	}
	return &State{Dir: dir, CA: ca, db: db}, nil
}

// Close closes the database.
func (s *State) Close() error { return s.db.close() }

// Fingerprint is the root certificate's SHA-256; part 3 is the
// communication token.
func (s *State) Fingerprint() onboard.Fingerprint { return onboard.FingerprintOf(s.CA.Root.Raw) }

// RootPool holds the lab root: what a client of the Onboarding Service or
// of EST trusts.
func (s *State) RootPool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(s.CA.Root)
	return pool
}

// Token is the communication token.
func (s *State) Token() string { return s.Fingerprint().Part(3) }

// KeySpec describes a first-authentication key to create.
type KeySpec struct {
	Kind   string // KindOneTime, KindBound, KindMass
	UnitID string // KindBound: the only device that may use it
	// Password is a chosen secret instead of a generated one (at least 8
	// characters): for a mass-deployment key, or a fixed one-time key as
	// the demo's DEMO-OTP-0001.
	Password string
}

// CreateKey stores a new key and returns its secret, which is shown once
// and kept only as a hash.
func (s *State) CreateKey(ctx context.Context, spec KeySpec) (id int64, secret string, err error) {
	switch spec.Kind {
	case KindOneTime, KindMass:
	case KindBound:
		if !onboard.ValidUnitID(spec.UnitID) {
			return 0, "", fmt.Errorf("%q is not a Unit ID (12 upper-case hexadecimal characters)", spec.UnitID)
		}
	default:
		return 0, "", fmt.Errorf("unknown key kind %q", spec.Kind)
	}
	secret = spec.Password
	switch {
	case secret == "":
		secret = newSecret()
	case spec.Kind == KindMass:
		if err := strongMassPassword(secret); err != nil {
			return 0, "", err
		}
	case len(secret) < 8:
		return 0, "", errors.New("a chosen password needs at least 8 characters")
	}
	id, err = s.db.addKey(ctx, spec.Kind, secret, spec.UnitID, "")
	return id, secret, err
}

// Keys lists the keys (without secrets).
func (s *State) Keys(ctx context.Context) ([]Key, error) { return s.db.keys(ctx) }

// DisableKey makes a key unusable.
func (s *State) DisableKey(ctx context.Context, id int64) error { return s.db.disableKey(ctx, id) }

// Devices lists the registry.
func (s *State) Devices(ctx context.Context) ([]Device, error) { return s.db.devices(ctx) }

// DeleteDevice removes a device from the registry so its Unit ID may enroll
// again.
func (s *State) DeleteDevice(ctx context.Context, unitID string) error {
	return s.db.deleteDevice(ctx, strings.ToUpper(unitID))
}

// Map routes an e-mail address or domain to a UMS.
func (s *State) Map(ctx context.Context, m Mapping) error {
	if m.Kind != "email" && m.Kind != "domain" {
		return fmt.Errorf("unknown mapping kind %q", m.Kind)
	}
	if m.Value == "" || (m.Kind == "email") != strings.Contains(m.Value, "@") {
		return fmt.Errorf("%q is not an %s", m.Value, map[string]string{"email": "e-mail address", "domain": "e-mail domain"}[m.Kind])
	}
	return s.db.setMapping(ctx, m)
}

// Unmap removes a mapping.
func (s *State) Unmap(ctx context.Context, kind, value string) error {
	return s.db.deleteMapping(ctx, kind, value)
}

// Mappings lists the routes.
func (s *State) Mappings(ctx context.Context) ([]Mapping, error) { return s.db.mappings(ctx) }

// Decide approves (or denies) the pending sign-in with userCode as the
// built-in test identity, and returns the e-mail signed in.
func (s *State) Decide(ctx context.Context, userCode string, approve bool) (string, error) {
	return s.db.decideUserCode(ctx, normalizeUserCode(userCode), approve)
}

// strongMassPassword checks a chosen mass-deployment password, which
// enrolls any number of devices and so is worth guessing: at least 12
// characters, of at least three kinds (lower case, upper case, digits,
// others) and at least 8 different ones. The error never shows it.
func strongMassPassword(p string) error {
	const rule = "a mass-deployment password needs at least 12 characters, three of lower case, upper case, digits and other characters, and at least 8 different characters"
	kinds := map[string]bool{}
	distinct := map[rune]bool{}
	for _, r := range p {
		distinct[r] = true
		switch {
		case unicode.IsLower(r):
			kinds["lower"] = true
		case unicode.IsUpper(r):
			kinds["upper"] = true
		case unicode.IsDigit(r):
			kinds["digit"] = true
		default:
			kinds["other"] = true
		}
	}
	if utf8.RuneCountInString(p) < 12 || len(kinds) < 3 || len(distinct) < 8 {
		return errors.New(rule)
	}
	return nil
}

// secretAlphabet has no 0/O or 1/I so a key can be typed from paper.
const secretAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// newSecret is a generated key: 20 characters (100 bits) in groups of 5.
func newSecret() string {
	b := make([]byte, 20)
	_, _ = rand.Read(b)
	var sb strings.Builder
	for i, v := range b {
		if i > 0 && i%5 == 0 {
			sb.WriteByte('-')
		}
		sb.WriteByte(secretAlphabet[int(v)%len(secretAlphabet)])
	}
	return sb.String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
