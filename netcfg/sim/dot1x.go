package sim

import (
	"context"
	"fmt"

	"github.com/onramp-os/onramp/netcfg"
)

// authenticate8021X is the simulated 802.1X port of eth0: its
// authentication server knows CorpUser with CorpPassword (PEAP) and
// accepts any device certificate that is a readable PEM certificate with
// its key (EAP-TLS).
func (n *Net) authenticate8021X(ctx context.Context, c netcfg.Dot1XConfig, p netcfg.Progress) error {
	if err := netcfg.ValidateDot1X(c); err != nil {
		return err
	}
	if err := netcfg.CheckDot1XFiles(c); err != nil {
		return err
	}
	n.record("wired:802.1x " + string(c.EAP))
	if err := n.step(ctx, p, netcfg.StageAuthenticate); err != nil {
		return err
	}
	if c.EAP == netcfg.EAPPEAP && (c.Identity != CorpUser || c.Password != CorpPassword) {
		return fmt.Errorf("eth0: 802.1X (PEAP, identity %q): %w", c.Identity, netcfg.ErrDot1XAuth)
	}
	return nil
}
