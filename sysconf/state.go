package sysconf

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"
)

// Where the setup assistant keeps its progress.
const (
	StatePath = "/var/lib/onramp/setup-state.json"
	DonePath  = "/var/lib/onramp/setup.done"
)

// SetupState is the setup assistant's progress: the step to resume at and
// the choices made so far. It never holds a secret (no network key, PIN,
// one-time password or token).
type SetupState struct {
	Version  int       `json:"version"`
	Step     string    `json:"step"` // the first step not yet done
	Language string    `json:"language,omitempty"`
	Layout   string    `json:"keyboard_layout,omitempty"`
	Variant  string    `json:"keyboard_variant,omitempty"`
	EULA     string    `json:"eula_sha256,omitempty"`
	Network  string    `json:"network,omitempty"` // how the device got online: "wired", "wlan:SSID", "mobile", "present"
	TimeZone string    `json:"timezone,omitempty"`
	Server   string    `json:"server,omitempty"` // where onboarding last went (no secrets)
	Port     int       `json:"port,omitempty"`
	Email    string    `json:"email,omitempty"`
	Saved    time.Time `json:"saved"`
}

// stateVersion is bumped when a field changes meaning; an unknown version
// starts over instead of resuming wrongly.
const stateVersion = 1

// LoadState reads the saved state; ok is false when there is none (or it
// is from another version), which means starting at the beginning.
func (r Root) LoadState() (st SetupState, ok bool, err error) {
	data, err := r.read(StatePath)
	if errors.Is(err, os.ErrNotExist) {
		return SetupState{}, false, nil
	}
	if err != nil {
		return SetupState{}, false, err
	}
	if err := json.Unmarshal(data, &st); err != nil {
		return SetupState{}, false, fmt.Errorf("%s: %w", StatePath, err)
	}
	if st.Version != stateVersion {
		return SetupState{}, false, nil
	}
	return st, true, nil
}

// SaveState writes the state.
func (r Root) SaveState(st SetupState) error {
	st.Version = stateVersion
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	return r.write(StatePath, append(data, '\n'), 0o644)
}

// MarkDone writes setup.done: the assistant does not start again.
func (r Root) MarkDone(at time.Time) error {
	return r.write(DonePath, []byte(at.UTC().Format(time.RFC3339)+"\n"), 0o644)
}

// Done reports whether setup.done exists.
func (r Root) Done() bool {
	_, err := os.Stat(r.Path(DonePath))
	return err == nil
}
