package lab

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver
)

// Why a request or command was refused; the EST handlers map them to
// HTTP statuses and the CLI prints them.
var (
	ErrUnknownKey   = errors.New("unknown first-authentication key")
	ErrKeyDisabled  = errors.New("first-authentication key is disabled")
	ErrKeyUsed      = errors.New("one-time key was already used")
	ErrKeyBound     = errors.New("first-authentication key is bound to another Unit ID")
	ErrDeviceExists = errors.New("the device already exists")
	ErrDuplicateKey = errors.New("a first-authentication key with this secret exists")
	ErrNotFound     = errors.New("not found")
)

// Key kinds.
const (
	KindOneTime    = "one-time"   // any device, once
	KindBound      = "bound"      // one device (Unit ID), once
	KindMass       = "mass"       // any device, any number of times
	KindEnrollment = "enrollment" // issued by the Onboarding Service after sign-in, once
)

const schema = `
CREATE TABLE IF NOT EXISTS keys (
	id            INTEGER PRIMARY KEY AUTOINCREMENT,
	kind          TEXT NOT NULL,
	secret_sha256 BLOB NOT NULL UNIQUE,
	unit_id       TEXT NOT NULL DEFAULT '',
	email         TEXT NOT NULL DEFAULT '',
	disabled      INTEGER NOT NULL DEFAULT 0,
	used_by       TEXT NOT NULL DEFAULT '',
	uses          INTEGER NOT NULL DEFAULT 0,
	created_at    TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS devices (
	unit_id      TEXT PRIMARY KEY,
	serial       TEXT NOT NULL,
	enrolled_at  TEXT NOT NULL,
	key_id       INTEGER NOT NULL,
	onboarded_by TEXT NOT NULL DEFAULT '',
	pub_sha256   BLOB NOT NULL DEFAULT x'',
	cert         BLOB NOT NULL DEFAULT x''
);
CREATE TABLE IF NOT EXISTS mappings (
	kind    TEXT NOT NULL,
	value   TEXT NOT NULL,
	host    TEXT NOT NULL DEFAULT '',
	port    INTEGER NOT NULL DEFAULT 0,
	sign_in INTEGER NOT NULL DEFAULT 1,
	PRIMARY KEY (kind, value)
);
CREATE TABLE IF NOT EXISTS device_codes (
	code_sha256 BLOB PRIMARY KEY,
	user_code   TEXT NOT NULL UNIQUE,
	email       TEXT NOT NULL,
	state       TEXT NOT NULL,
	expires_at  TEXT NOT NULL,
	last_poll   TEXT NOT NULL DEFAULT '',
	interval_s  INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS access_tokens (
	token_sha256 BLOB PRIMARY KEY,
	email        TEXT NOT NULL,
	expires_at   TEXT NOT NULL,
	used         INTEGER NOT NULL DEFAULT 0
);`

// store is the lab's state database. SQLite in WAL mode lets the CLI
// (keys create, obs approve, ...) work while serve runs; write
// transactions are BEGIN IMMEDIATE so two writers never deadlock, and
// within a process they are serialised by mu so they never wait on
// SQLite's busy back-off.
type store struct {
	db *sql.DB
	mu sync.Mutex
}

func openStore(path string) (*store, error) {
	// The path is escaped: a '#' or '?' in it would otherwise end the
	// file name of the URI.
	dsn := (&url.URL{Scheme: "file", OmitHost: true, Path: path}).String() + "?_txlock=immediate" +
		"&_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	db.SetMaxOpenConns(8)
	if _, err := db.Exec(schema + lifeSchema); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("initialise %s: %w", path, err)
	}
	if err := upgrade(db); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("upgrade %s: %w", path, err)
	}
	return &store{db: db}, nil
}

// upgrade adds the columns a state made by an older lab lacks: the
// device's public key and certificate, which answer a retried enrollment.
func upgrade(db *sql.DB) error {
	rows, err := db.Query(`SELECT name FROM pragma_table_info('devices')`)
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return err
		}
		have[name] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, col := range []string{"pub_sha256", "cert"} {
		if !have[col] {
			if _, err := db.Exec(`ALTER TABLE devices ADD COLUMN ` + col + ` BLOB NOT NULL DEFAULT x''`); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *store) close() error { return s.db.Close() }

// write runs f in one immediate transaction.
func (s *store) write(ctx context.Context, f func(tx *sql.Tx) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := f(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func hashSecret(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

func now() string { return time.Now().UTC().Format(time.RFC3339Nano) }

func parseTime(s string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

// Key is a first-authentication key as listed; the secret itself is not
// stored, only its SHA-256.
type Key struct {
	ID        int64
	Kind      string
	UnitID    string // bound keys
	Email     string // enrollment tokens: who signed in
	Disabled  bool
	UsedBy    string // last Unit ID that used it
	Uses      int
	CreatedAt time.Time
}

// State is "active", "used" or "disabled".
func (k Key) State() string {
	switch {
	case k.Disabled:
		return "disabled"
	case k.Kind != KindMass && k.Uses > 0:
		return "used"
	}
	return "active"
}

func (s *store) addKey(ctx context.Context, kind, secret, unitID, email string) (int64, error) {
	var id int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM keys WHERE secret_sha256 = ?`, hashSecret(secret)).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return ErrDuplicateKey
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO keys (kind, secret_sha256, unit_id, email, created_at) VALUES (?, ?, ?, ?, ?)`,
			kind, hashSecret(secret), unitID, email, now())
		if err != nil {
			return err
		}
		id, err = res.LastInsertId()
		return err
	})
	return id, err
}

func (s *store) keys(ctx context.Context) ([]Key, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, kind, unit_id, email, disabled, used_by, uses, created_at FROM keys ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Key
	for rows.Next() {
		var k Key
		var created string
		if err := rows.Scan(&k.ID, &k.Kind, &k.UnitID, &k.Email, &k.Disabled, &k.UsedBy, &k.Uses, &created); err != nil {
			return nil, err
		}
		k.CreatedAt = parseTime(created)
		out = append(out, k)
	}
	return out, rows.Err()
}

func (s *store) disableKey(ctx context.Context, id int64) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE keys SET disabled = 1 WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("key %d: %w", id, ErrNotFound)
		}
		return nil
	})
}

// replayWindow is how long after its enrollment a device that lost the
// answer may ask again (same Unit ID, key and public key) and get the same
// certificate.
const replayWindow = 15 * time.Minute

// enrollResult is what enroll did.
type enrollResult struct {
	Key      Key
	Cert     []byte // DER of the device certificate
	Replayed bool   // a retry: the certificate issued before, nothing consumed
}

// enroll checks the key for unitID and only then has issue sign the
// certificate; it consumes the key and registers the device with the
// certificate, all in one transaction: a one-time key serves exactly one
// enrollment however many race for it. A retry of an enrollment whose
// answer was lost (same Unit ID, key and public key, pub being the SHA-256
// of the CSR's SubjectPublicKeyInfo, within replayWindow) gets the stored
// certificate back and consumes nothing.
func (s *store) enroll(ctx context.Context, unitID, secret string, pub []byte, issue func() (*x509.Certificate, error)) (enrollResult, error) {
	var res enrollResult
	err := s.write(ctx, func(tx *sql.Tx) error {
		k, replay, err := checkEnroll(ctx, tx, unitID, secret, pub)
		if err != nil {
			return err
		}
		res.Key = k
		if replay != nil {
			res.Cert, res.Replayed = replay, true
			return nil
		}
		cert, err := issue()
		if err != nil {
			return err
		}
		res.Cert = cert.Raw
		if _, err := tx.ExecContext(ctx, `UPDATE keys SET uses = uses + 1, used_by = ? WHERE id = ?`, unitID, k.ID); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO devices (unit_id, serial, enrolled_at, key_id, onboarded_by, pub_sha256, cert) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			unitID, cert.SerialNumber.Text(16), now(), k.ID, k.Email, pub, cert.Raw)
		return err
	})
	return res, err
}

// checkKey tells whether enroll would accept (or replay) the request,
// without consuming or signing anything.
func (s *store) checkKey(ctx context.Context, unitID, secret string, pub []byte) error {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	_, _, err = checkEnroll(ctx, tx, unitID, secret, pub)
	return err
}

// checkEnroll is the decision of enroll: the key, and the certificate to
// replay when the request repeats a recent enrollment.
func checkEnroll(ctx context.Context, tx *sql.Tx, unitID, secret string, pub []byte) (Key, []byte, error) {
	var k Key
	err := tx.QueryRowContext(ctx, `SELECT id, kind, unit_id, email, disabled, uses FROM keys WHERE secret_sha256 = ?`, hashSecret(secret)).
		Scan(&k.ID, &k.Kind, &k.UnitID, &k.Email, &k.Disabled, &k.Uses)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return k, nil, ErrUnknownKey
	case err != nil:
		return k, nil, err
	case k.Disabled:
		return k, nil, ErrKeyDisabled
	case k.Kind == KindBound && k.UnitID != unitID:
		return k, nil, ErrKeyBound
	}
	var keyID int64
	var at string
	var devPub, cert []byte
	err = tx.QueryRowContext(ctx, `SELECT key_id, enrolled_at, pub_sha256, cert FROM devices WHERE unit_id = ?`, unitID).
		Scan(&keyID, &at, &devPub, &cert)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return k, nil, err
	case keyID == k.ID && len(cert) > 0 && bytes.Equal(devPub, pub) && time.Since(parseTime(at)) < replayWindow:
		return k, cert, nil
	}
	if k.Kind != KindMass && k.Uses > 0 {
		return k, nil, ErrKeyUsed
	}
	if err == nil {
		return k, nil, ErrDeviceExists
	}
	return k, nil, nil
}

// Device is one registry entry.
type Device struct {
	UnitID      string
	Serial      string // hex
	EnrolledAt  time.Time
	KeyID       int64
	OnboardedBy string
}

func (s *store) devices(ctx context.Context) ([]Device, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT unit_id, serial, enrolled_at, key_id, onboarded_by FROM devices ORDER BY unit_id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Device
	for rows.Next() {
		var d Device
		var at string
		if err := rows.Scan(&d.UnitID, &d.Serial, &at, &d.KeyID, &d.OnboardedBy); err != nil {
			return nil, err
		}
		d.EnrolledAt = parseTime(at)
		out = append(out, d)
	}
	return out, rows.Err()
}

func (s *store) deleteDevice(ctx context.Context, unitID string) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM devices WHERE unit_id = ?`, unitID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("device %s: %w", unitID, ErrNotFound)
		}
		return nil
	})
}

// renew replaces the serial of a registered device whose current
// certificate has oldSerial.
func (s *store) renew(ctx context.Context, unitID, oldSerial, newSerial string) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		// A renewed device has a new key: nothing of the first
		// enrollment is replayed any more.
		res, err := tx.ExecContext(ctx, `UPDATE devices SET serial = ?, enrolled_at = ?, pub_sha256 = x'', cert = x'' WHERE unit_id = ? AND serial = ?`,
			newSerial, now(), unitID, oldSerial)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("device %s with certificate %s: %w", unitID, oldSerial, ErrNotFound)
		}
		return nil
	})
}
