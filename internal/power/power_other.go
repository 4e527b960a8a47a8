//go:build !linux

package power

import "fmt"

// Do is only implemented on Linux.
func Do(a Action) error { return fmt.Errorf("%s: not supported on this system", a) }
