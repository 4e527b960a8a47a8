// Command onramp-agent is the device's check-in agent: after onboarding it
// reports to the UMS with the device certificate (mutual TLS 1.3),
// receives the licenses assigned to the device and re-enrolls before the
// certificate expires, at every boot and periodically. All behaviour lives
// in Run (and package agent) so tests drive it in-process.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := Run(ctx, os.Stdin, os.Stdout, os.Stderr, os.Args[1:])
	stop()
	os.Exit(code)
}
