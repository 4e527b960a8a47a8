package main

import (
	"context"
	"errors"
)

// connectSavedModem is --connect-saved-modem (onramp-modem.service on later
// boots): the saved mobile broadband connection of --root, kept connected
// until the service stops. Its lines go to stderr, the journal.
func connectSavedModem(ctx context.Context, s streams, o options) error {
	if keepSavedModem == nil {
		return errors.New("mobile broadband needs ModemManager on Linux")
	}
	root := o.root
	if root == "" {
		root = "/"
	}
	return keepSavedModem(ctx, root, s.err)
}
