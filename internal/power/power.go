// Package power restarts or powers off the machine the way its init system
// expects: through systemd when it runs, else by syncing the disks and
// asking the kernel directly (the installer medium and the sample system
// run a shell script as PID 1, which has no shutdown protocol).
package power

// SystemdDir exists while systemd is the running init (sd_booted(3)).
var SystemdDir = "/run/systemd/system"

// Action is what the machine should do.
type Action int

const (
	// Reboot restarts the machine.
	Reboot Action = iota
	// PowerOff switches it off.
	PowerOff
)

func (a Action) String() string {
	if a == PowerOff {
		return "poweroff"
	}
	return "reboot"
}
