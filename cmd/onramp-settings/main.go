// Command onramp-settings keeps the device's settings on ONRAMP-DATA: the
// installed system's boot lays them back into the new root (load), and the
// running system saves them whenever one changes and at shutdown (save).
// What the settings are is package settings' set. All behaviour lives in
// Run so tests drive it in-process.
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
