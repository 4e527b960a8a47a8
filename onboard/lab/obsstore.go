package lab

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Mapping routes an e-mail address or a whole domain to a UMS. An empty
// Host (port 0) means this lab itself.
type Mapping struct {
	Kind   string // "email" or "domain"
	Value  string // lower-case
	Host   string
	Port   int
	SignIn bool // the device flow is required before an enrollment token is given
}

func (s *store) setMapping(ctx context.Context, m Mapping) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO mappings (kind, value, host, port, sign_in) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (kind, value) DO UPDATE SET host = excluded.host, port = excluded.port, sign_in = excluded.sign_in`,
			m.Kind, strings.ToLower(m.Value), m.Host, m.Port, m.SignIn)
		return err
	})
}

func (s *store) deleteMapping(ctx context.Context, kind, value string) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM mappings WHERE kind = ? AND value = ?`, kind, strings.ToLower(value))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("%s %s: %w", kind, value, ErrNotFound)
		}
		return nil
	})
}

func (s *store) mappings(ctx context.Context) ([]Mapping, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT kind, value, host, port, sign_in FROM mappings ORDER BY kind, value`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Mapping
	for rows.Next() {
		var m Mapping
		if err := rows.Scan(&m.Kind, &m.Value, &m.Host, &m.Port, &m.SignIn); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// route finds the mapping for email: the address itself first, then its
// domain.
func (s *store) route(ctx context.Context, email string) (Mapping, error) {
	email = strings.ToLower(email)
	_, domain, _ := strings.Cut(email, "@")
	for _, q := range []struct{ kind, value string }{{"email", email}, {"domain", domain}} {
		m := Mapping{Kind: q.kind, Value: q.value}
		err := s.db.QueryRowContext(ctx, `SELECT host, port, sign_in FROM mappings WHERE kind = ? AND value = ?`, q.kind, q.value).
			Scan(&m.Host, &m.Port, &m.SignIn)
		if err == nil {
			return m, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return Mapping{}, err
		}
	}
	return Mapping{}, ErrNotFound
}

// Device-code states.
const (
	codePending  = "pending"
	codeApproved = "approved"
	codeDenied   = "denied"
	codeUsed     = "used"
)

func (s *store) addDeviceCode(ctx context.Context, deviceCode, userCode, email string, expires time.Time, interval time.Duration) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO device_codes (code_sha256, user_code, email, state, expires_at, interval_s) VALUES (?, ?, ?, ?, ?, ?)`,
			hashSecret(deviceCode), userCode, email, codePending, expires.UTC().Format(time.RFC3339Nano), int(interval/time.Second))
		return err
	})
}

// decideUserCode approves or denies a pending sign-in by its user code and
// returns the e-mail it was for.
func (s *store) decideUserCode(ctx context.Context, userCode string, approve bool) (string, error) {
	state := codeDenied
	if approve {
		state = codeApproved
	}
	var email string
	err := s.write(ctx, func(tx *sql.Tx) error {
		var cur, exp string
		err := tx.QueryRowContext(ctx, `SELECT email, state, expires_at FROM device_codes WHERE user_code = ?`, userCode).Scan(&email, &cur, &exp)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("user code %s: %w", userCode, ErrNotFound)
		}
		if err != nil {
			return err
		}
		if cur != codePending || time.Now().After(parseTime(exp)) {
			return fmt.Errorf("user code %s is no longer pending (%s)", userCode, cur)
		}
		_, err = tx.ExecContext(ctx, `UPDATE device_codes SET state = ? WHERE user_code = ?`, state, userCode)
		return err
	})
	return email, err
}

// pollDeviceCode is one token request for a device code: the RFC 8628
// error code, or "" and the e-mail when approved (the code is then used
// up).
func (s *store) pollDeviceCode(ctx context.Context, deviceCode string) (errCode, email string, err error) {
	err = s.write(ctx, func(tx *sql.Tx) error {
		var state, exp, last string
		var interval int
		e := tx.QueryRowContext(ctx, `SELECT email, state, expires_at, last_poll, interval_s FROM device_codes WHERE code_sha256 = ?`, hashSecret(deviceCode)).
			Scan(&email, &state, &exp, &last, &interval)
		if errors.Is(e, sql.ErrNoRows) {
			errCode = "invalid_grant"
			return nil
		}
		if e != nil {
			return e
		}
		t := time.Now()
		if _, e := tx.ExecContext(ctx, `UPDATE device_codes SET last_poll = ? WHERE code_sha256 = ?`, t.UTC().Format(time.RFC3339Nano), hashSecret(deviceCode)); e != nil {
			return e
		}
		switch {
		case state == codeUsed:
			errCode = "invalid_grant"
		case t.After(parseTime(exp)):
			errCode = "expired_token"
		case state == codeDenied:
			errCode = "access_denied"
		case state == codeApproved:
			_, e := tx.ExecContext(ctx, `UPDATE device_codes SET state = ? WHERE code_sha256 = ?`, codeUsed, hashSecret(deviceCode))
			return e
		case last != "" && t.Sub(parseTime(last)) < time.Duration(interval)*time.Second/2:
			// Polling much faster than asked: RFC 8628 section 3.5.
			errCode = "slow_down"
		default:
			errCode = "authorization_pending"
		}
		return nil
	})
	return errCode, email, err
}

func (s *store) addAccessToken(ctx context.Context, token, email string, expires time.Time) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO access_tokens (token_sha256, email, expires_at) VALUES (?, ?, ?)`,
			hashSecret(token), email, expires.UTC().Format(time.RFC3339Nano))
		return err
	})
}

// useAccessToken spends an access token on one enrollment token and
// returns the e-mail it was issued for.
func (s *store) useAccessToken(ctx context.Context, token string) (string, error) {
	var email string
	err := s.write(ctx, func(tx *sql.Tx) error {
		var exp string
		var used bool
		err := tx.QueryRowContext(ctx, `SELECT email, expires_at, used FROM access_tokens WHERE token_sha256 = ?`, hashSecret(token)).Scan(&email, &exp, &used)
		if errors.Is(err, sql.ErrNoRows) || used || (err == nil && time.Now().After(parseTime(exp))) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE access_tokens SET used = 1 WHERE token_sha256 = ?`, hashSecret(token))
		return err
	})
	return email, err
}
