// Command osc (OS Creator) writes installer images to USB sticks and
// installs the base system. All behaviour lives in Run so tests drive it
// in-process. Called as get_unit_id (a link to it), it prints the Unit ID.
package main

import (
	"context"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	args := os.Args[1:]
	if filepath.Base(os.Args[0]) == unitIDCommand {
		// get_unit_id is a link to osc: the guide's name for "osc unit-id".
		args = append([]string{"unit-id"}, args...)
	}
	code := Run(ctx, os.Stdin, os.Stdout, os.Stderr, args)
	stop()
	os.Exit(code)
}
