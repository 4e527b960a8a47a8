package lab

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
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
	onboarded_by TEXT NOT NULL DEFAULT ''
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
	dsn := "file:" + path + "?_txlock=immediate" +
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
	return &store{db: db}, nil
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

// enroll checks the key for unitID, consumes it and registers the device
// with serial, all in one transaction: a one-time key serves exactly one
// enrollment however many race for it.
func (s *store) enroll(ctx context.Context, unitID, secret, serial string) (Key, error) {
	var k Key
	err := s.write(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT id, kind, unit_id, email, disabled, uses FROM keys WHERE secret_sha256 = ?`, hashSecret(secret)).
			Scan(&k.ID, &k.Kind, &k.UnitID, &k.Email, &k.Disabled, &k.Uses)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return ErrUnknownKey
		case err != nil:
			return err
		case k.Disabled:
			return ErrKeyDisabled
		case k.Kind == KindBound && k.UnitID != unitID:
			return ErrKeyBound
		case k.Kind != KindMass && k.Uses > 0:
			return ErrKeyUsed
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM devices WHERE unit_id = ?`, unitID).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return ErrDeviceExists
		}
		if _, err := tx.ExecContext(ctx, `UPDATE keys SET uses = uses + 1, used_by = ? WHERE id = ?`, unitID, k.ID); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO devices (unit_id, serial, enrolled_at, key_id, onboarded_by) VALUES (?, ?, ?, ?, ?)`,
			unitID, serial, now(), k.ID, k.Email)
		return err
	})
	return k, err
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
		res, err := tx.ExecContext(ctx, `UPDATE devices SET serial = ?, enrolled_at = ? WHERE unit_id = ? AND serial = ?`,
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
