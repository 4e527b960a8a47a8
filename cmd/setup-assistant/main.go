// Command setup-assistant is the first-boot assistant: language and
// keyboard, license, network, time zone and onboarding, on the running
// system or an offline root, interactive, as plain prompts, or unattended
// from an answers file. All behaviour lives in Run so tests drive it
// in-process; the flow is in package firstboot, its front ends in tui/setup
// (screens) and tui/plain (plain prompts).
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // time zones for the local-time column when the host has no tzdata
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	code := Run(ctx, os.Stdin, os.Stdout, os.Stderr, os.Args[1:])
	stop()
	os.Exit(code)
}
