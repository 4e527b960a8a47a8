package main

import (
	"context"
	"fmt"

	"github.com/onramp-os/onramp/internal/cli"
	"github.com/onramp-os/onramp/onboard"
	"github.com/onramp-os/onramp/support"
)

// saveSupport is --support: the same bundle as osc support, of --root.
func saveSupport(ctx context.Context, s streams, o options) error {
	msg, err := support.Save(ctx, o.support, support.Options{Root: o.root, Tool: "setup-assistant", Version: cli.Version()})
	if err != nil {
		return err
	}
	fmt.Fprintln(s.out, msg)
	return nil
}

// printUnitID is --unit-id: the Unit ID by the onboarding NIC rules.
func printUnitID(s streams) error {
	id, err := onboard.UnitID()
	if err != nil {
		return err
	}
	fmt.Fprintln(s.out, id)
	return nil
}
