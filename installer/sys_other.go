//go:build !linux

package installer

import (
	"fmt"
	"runtime"
)

// errLinuxOnly is what installing says off Linux: the base system is
// installed from the installer stick, which runs Linux; osc on Windows and
// macOS writes sticks.
var errLinuxOnly = fmt.Errorf("installing the base system runs on Linux only (boot the installer stick), not on %s", runtime.GOOS)

// UnmountMedium: nothing is mounted for the medium off Linux.
func UnmountMedium() {}

// InMemory: off Linux no backup directory is chosen.
func InMemory(string) bool { return false }

func writableDir(string) bool                        { return false }
func partNode(string) (string, bool)                 { return "", false }
func blockOfPath(string) (dev, disk string, ok bool) { return "", "", false }

func (t *Target) open() error { return errLinuxOnly }

func (t *Target) rereadPartitions() error {
	if !t.Block {
		return nil
	}
	return errLinuxOnly
}

func (t *Target) dropCache() {}
