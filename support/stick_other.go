//go:build !linux

package support

import (
	"fmt"
	"runtime"

	"github.com/onramp-os/onramp/blockdev"
)

// errStickLinuxOnly: saving to a stick mounts its partition, which osc
// does on Linux only; elsewhere the bundle is saved to a folder (ToDir).
var errStickLinuxOnly = fmt.Errorf("saving the support information to a stick runs on Linux only, not on %s", runtime.GOOS)

func writableMount([]string) (string, bool) { return "", false }
func mount(stick) (string, error)           { return "", errStickLinuxOnly }
func unmount(string) error                  { return errStickLinuxOnly }
func syncFS(string)                         {}
func noFSDriver(error) bool                 { return false }

func nodeOf(p blockdev.Partition) (string, func(), error) { return "", nil, errStickLinuxOnly }
