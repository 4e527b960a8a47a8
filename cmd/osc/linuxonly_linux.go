package main

import "github.com/spf13/cobra"

// installsHere: the base system is installed from Linux (the installer
// stick), so "Install base system" is offered here.
const installsHere = true

// linuxOnly marks a command that runs on Linux only; here it runs.
func linuxOnly(c *cobra.Command) *cobra.Command { return c }
