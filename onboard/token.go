package onboard

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"strings"
)

// Fingerprint is the SHA-256 of a DER certificate. The UMS shows it in four
// parts of 16 hex characters; part 3 is the communication token.
type Fingerprint [sha256.Size]byte

// FingerprintOf hashes a DER certificate.
func FingerprintOf(der []byte) Fingerprint { return sha256.Sum256(der) }

// Part returns part n (1–4) in lower-case hex; other n give "".
func (f Fingerprint) Part(n int) string {
	if n < 1 || n > 4 {
		return ""
	}
	return hex.EncodeToString(f[(n-1)*8 : n*8])
}

// Parts returns the four parts.
func (f Fingerprint) Parts() [4]string {
	return [4]string{f.Part(1), f.Part(2), f.Part(3), f.Part(4)}
}

// String is the whole fingerprint in lower-case hex.
func (f Fingerprint) String() string { return hex.EncodeToString(f[:]) }

// CommunicationToken is part 3 of a root certificate's fingerprint, in the
// canonical form: 16 lower-case hex characters.
type CommunicationToken string

// ParseToken reads what a user typed: case does not matter, ':' and spaces
// are ignored, and exactly 16 hex characters must remain.
func ParseToken(s string) (CommunicationToken, error) {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == ':' || r == ' ' || r == '\t':
			continue
		case r >= '0' && r <= '9', r >= 'a' && r <= 'f':
			b.WriteRune(r)
		case r >= 'A' && r <= 'F':
			b.WriteRune(r + ('a' - 'A'))
		default:
			return "", fmt.Errorf("communication token: %q is not a hexadecimal character", r)
		}
		if b.Len() > 16 {
			return "", fmt.Errorf("communication token: more than 16 hexadecimal characters")
		}
	}
	if b.Len() != 16 {
		return "", fmt.Errorf("communication token: %d hexadecimal characters, want 16", b.Len())
	}
	return CommunicationToken(b.String()), nil
}

// Matches reports whether the token is part 3 of fingerprint f. The
// comparison takes the same time wherever the first difference is.
func (t CommunicationToken) Matches(f Fingerprint) bool {
	return subtle.ConstantTimeCompare([]byte(t), []byte(f.Part(3))) == 1
}
