package sysconf

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"
)

// EULADir holds the license texts, one per language: <code>.txt.
const EULADir = "/usr/share/onramp/eula"

// EULA is the license text shown for a language.
type EULA struct {
	Language string // the language of the text (en when it fell back)
	Text     string
}

// SHA256 is the hex SHA-256 of the text, what an acceptance records.
func (e EULA) SHA256() string {
	sum := sha256.Sum256([]byte(e.Text))
	return hex.EncodeToString(sum[:])
}

// EULA reads the license text for the language code, falling back to
// English.
func (r Root) EULA(lang string) (EULA, error) {
	for _, l := range []string{lang, "en"} {
		data, err := r.read(EULADir + "/" + l + ".txt")
		if err == nil {
			return EULA{Language: l, Text: string(data)}, nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return EULA{}, err
		}
	}
	return EULA{}, fmt.Errorf("no license text in %s", r.Path(EULADir))
}

// EULAAcceptance is the record of /var/lib/onramp/eula-accepted.json.
type EULAAcceptance struct {
	SHA256   string    `json:"sha256"`
	Language string    `json:"language"`
	Accepted time.Time `json:"accepted"`
}

// RecordEULA writes the acceptance of the text at time at.
func (r Root) RecordEULA(e EULA, at time.Time) error {
	data, err := json.MarshalIndent(EULAAcceptance{SHA256: e.SHA256(), Language: e.Language, Accepted: at.UTC()}, "", "  ")
	if err != nil {
		return err
	}
	return r.write("/var/lib/onramp/eula-accepted.json", append(data, '\n'), 0o644)
}
