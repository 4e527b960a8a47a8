//go:build !linux

package images

import (
	"errors"
	"os"
)

// errNoZeroing: only Linux has the ioctls and hole punching behind the
// cheap zeroing methods; elsewhere ranges not written are scanned, and
// zeros written where they are not zero yet.
var errNoZeroing = errors.New("no cheap zeroing on this system")

// blockZeroMethod: a disk is scanned (see the Linux version).
func blockZeroMethod(*os.File) zeroMethod { return zeroScan }

func punchHole(*os.File, int64, int64) error    { return errNoZeroing }
func discardRange(*os.File, int64, int64) error { return errNoZeroing }
func zeroOutRange(*os.File, int64, int64) error { return errNoZeroing }

func unsupported(err error) bool { return errors.Is(err, errNoZeroing) }
