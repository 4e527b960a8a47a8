package sim

import (
	"context"
)

// CaptivePortal is the simulated portal check: a network whose AP has a
// Portal holds the device behind it at the first check after joining;
// from the next check on the user has signed in (on their phone, as the
// screen asks), and the way out is open.
func (n *Net) CaptivePortal(ctx context.Context) (string, error) {
	if err := n.step(ctx, nil, ""); err != nil {
		return "", err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.status.Online {
		return "", nil
	}
	for _, ap := range n.o.APs {
		if ap.Portal == "" || n.status.Via != "wlan" || n.status.SSID != ap.SSID {
			continue
		}
		n.portalChecks++
		if n.portalChecks == 1 {
			return ap.Portal, nil
		}
	}
	return "", nil
}
