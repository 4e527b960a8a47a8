package osc

import (
	"github.com/onramp-os/onramp/installer"
	"github.com/onramp-os/onramp/internal/power"
)

// rebootLive restarts the machine from the live installer: the stick
// partition osc mounted for the backup is unmounted first (so it is clean
// on the next machine it is plugged into), then the disks are synced and
// the machine restarts.
func rebootLive() error {
	installer.UnmountMedium()
	return power.Do(power.Reboot)
}
