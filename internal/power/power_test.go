package power

import "testing"

func TestActionNames(t *testing.T) {
	if Reboot.String() != "reboot" || PowerOff.String() != "poweroff" {
		t.Fatalf("names: %s %s", Reboot, PowerOff)
	}
}
