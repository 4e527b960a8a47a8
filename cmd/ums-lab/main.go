// Command ums-lab is a small reference server for the management side of
// onboarding (EST enrollment with first-authentication keys, a device
// registry, the Onboarding Service) and its administration CLI. All
// behaviour lives in Run so tests drive it in-process; the server itself
// is package onboard/lab.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	code := Run(ctx, os.Stdin, os.Stdout, os.Stderr, os.Args[1:])
	stop()
	os.Exit(code)
}
