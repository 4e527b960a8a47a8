package sysconf

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
)

// Keymaps applies a console keymap to the running system at once, so the
// chosen layout already works in the next field.
type Keymaps interface {
	Load(ctx context.Context, keymap string) error
}

// NoKeymaps is the Keymaps of an offline root, a demo or a terminal
// emulator (which has its own keyboard settings): it changes nothing.
type NoKeymaps struct{}

// Load does nothing.
func (NoKeymaps) Load(context.Context, string) error { return nil }

// ConsoleKeymaps loads keymaps with kbd's loadkeys on the Linux console the
// assistant runs on.
type ConsoleKeymaps struct {
	Program string // default "loadkeys"
}

// Load runs loadkeys for the keymap.
func (c ConsoleKeymaps) Load(ctx context.Context, keymap string) error {
	prog := c.Program
	if prog == "" {
		prog = "loadkeys"
	}
	out, err := exec.CommandContext(ctx, prog, "-q", keymap).CombinedOutput()
	if err != nil {
		return fmt.Errorf("loadkeys %s: %v: %s", keymap, err, strings.TrimSpace(string(out)))
	}
	return nil
}
