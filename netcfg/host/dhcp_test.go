package host

import (
	"errors"
	"fmt"
	"syscall"
	"testing"
)

// TestTransientSend: a full queue or a link not yet running is retried,
// wrapped or only in the text (as nclient4 reports it); anything else is
// not.
func TestTransientSend(t *testing.T) {
	for err, want := range map[error]bool{
		fmt.Errorf("write packet: %w", syscall.ENOBUFS): true,
		errors.New("unable to receive an offer: got an error while the discovery request: error writing packet to connection: write packet 0a:4f:d0:ee:7f:a9: sendto: no buffer space available"): true,
		fmt.Errorf("sendto: %w", syscall.ENETDOWN):                        true,
		errors.New("got an error while the discovery request: timed out"): false,
		fmt.Errorf("bind: %w", syscall.EPERM):                             false,
	} {
		if got := transientSend(err); got != want {
			t.Errorf("transientSend(%v) = %v, want %v", err, got, want)
		}
	}
}
