package installer

import (
	"os"
	"time"
)

// Test-only: when ONRAMP_TEST_PAUSE_AT names a phase ("write", after the
// first chunk of SYS-A is on the disk; "esp"; "data"; "verify"; "table",
// before the GPT is written; "table-mbr", after the GPT, before the
// protective MBR), the install writes the phase to the file
// ONRAMP_TEST_PAUSE_FILE as it reaches it and then sleeps, so a test can
// kill -9 the process at exactly that point. Unset, it costs one Getenv per
// phase.
const (
	pauseAtEnv   = "ONRAMP_TEST_PAUSE_AT"
	pauseFileEnv = "ONRAMP_TEST_PAUSE_FILE"
)

func pauseAt(phase string) {
	if os.Getenv(pauseAtEnv) != phase || phase == "" {
		return
	}
	if f := os.Getenv(pauseFileEnv); f != "" {
		_ = os.WriteFile(f, []byte(phase), 0o644)
	}
	for {
		time.Sleep(time.Hour)
	}
}
