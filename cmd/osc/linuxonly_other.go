//go:build !linux

package main

import (
	"runtime"

	"github.com/spf13/cobra"

	"github.com/onramp-os/onramp/internal/exitcode"
)

// installsHere: off Linux osc writes and verifies sticks; installing runs
// from the installer stick.
const installsHere = false

// linuxOnly makes c and its subcommands say, when run, that they run on
// Linux only: installing, restoring, inspecting disks and building images
// touch Linux's disks and tools. Their flags and help stay, so scripts get
// the same usage errors everywhere.
func linuxOnly(c *cobra.Command) *cobra.Command {
	if c.RunE != nil || c.Run != nil {
		name := c.CommandPath()
		c.Run = nil
		c.RunE = func(*cobra.Command, []string) error {
			return exitcode.New(exitcode.Failure, "%s runs on Linux only (boot the installer stick); on %s osc writes, verifies and lists sticks (osc write, osc verify, osc drives)", name, runtime.GOOS)
		}
	}
	for _, sub := range c.Commands() {
		linuxOnly(sub)
	}
	return c
}
