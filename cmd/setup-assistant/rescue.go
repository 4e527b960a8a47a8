package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"syscall"

	"github.com/onramp-os/onramp/rescue"
	"github.com/onramp-os/onramp/sysconf"
)

// rescueLogin is --rescue-login TTY, agetty's login program on the rescue
// consoles: rescue.Login decides, and the command it names replaces this
// process on the console.
func rescueLogin(ctx context.Context, s streams, o options) error {
	root := o.root
	if root == "" {
		root = "/"
	}
	var keymaps sysconf.Keymaps = sysconf.NoKeymaps{}
	if root == "/" && os.Getenv("TERM") == "linux" {
		keymaps = sysconf.ConsoleKeymaps{}
	}
	argv, err := rescue.Login(ctx, s.in, s.out, rescue.Options{Root: root, TTY: o.rescueTTY, Keymaps: keymaps})
	if err != nil {
		return err
	}
	path, err := exec.LookPath(argv[0])
	if err != nil {
		return fmt.Errorf("rescue console: %w", err)
	}
	env := append(os.Environ(), "HOME=/root", "USER=root", "LOGNAME=root", "SHELL="+path)
	return syscall.Exec(path, argv, env)
}
