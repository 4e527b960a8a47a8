//go:build !linux

package fakesys

import "os"

// devNumber: osc looks up file systems by device number on Linux only.
func devNumber(os.FileInfo) (string, bool) { return "", false }
