// Package rescue is the login of the rescue consoles (tty11 and tty12) a
// technician uses to troubleshoot a device, as the product guide describes
// for error 38: agetty opens the console and runs it as its login program.
// It shows which console this is, waits for RETURN, loads the keyboard
// layout the user chose, and then says what to run: a root shell while
// the first-boot setup is not done (and on the installer stick, which
// never finishes one), login(1) asking for root's password once it is, or
// nothing when no root password is set, since then the console is
// disabled. It does not start shells itself: its caller execs the command.
package rescue

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/onramp-os/onramp/sysconf"
)

// Options say where the system is and how to reach its programs.
type Options struct {
	Root    string          // the system's root; "" is "/"
	TTY     string          // "tty11", for the banner
	Keymaps sysconf.Keymaps // loads the console keymap; nil does nothing
	Shell   []string        // the root shell; default /bin/bash --login
	Login   []string        // asks for root's password; default /bin/login root
}

// ErrDisabled is returned once setup is done and root has no password:
// there is nothing to log in with.
var ErrDisabled = errors.New("the rescue shell is disabled: no root password is set")

// Login talks to the console on in and out and returns the command its
// caller execs (with the console as its standard streams).
func Login(ctx context.Context, in io.Reader, out io.Writer, o Options) ([]string, error) {
	if o.Root == "" {
		o.Root = "/"
	}
	if o.Shell == nil {
		o.Shell = []string{"/bin/bash", "--login"}
	}
	if o.Login == nil {
		o.Login = []string{"/bin/login", "root"}
	}
	fmt.Fprintf(out, "\r\n--- rescue shell %s ---\r\n\r\nPress <RETURN> to login: ", o.TTY)
	if err := readLine(ctx, in); err != nil {
		return nil, fmt.Errorf("console %s: %w", o.TTY, err)
	}
	if km := keymap(filepath.Join(o.Root, "etc/vconsole.conf")); km != "" && o.Keymaps != nil {
		kctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := o.Keymaps.Load(kctx, km)
		cancel()
		if err != nil {
			fmt.Fprintf(out, "\r\nThe keyboard layout %s could not be loaded (%v); the console keeps US English.\r\n", km, err)
		}
	}
	root := sysconf.Root{Dir: o.Root}
	if !root.Done() {
		fmt.Fprintf(out, "\r\nRoot shell (the first-boot setup is not finished). Ctrl+Alt+F1 returns to the setup.\r\n\r\n")
		return o.Shell, nil
	}
	set, err := rootPasswordSet(filepath.Join(o.Root, "etc/shadow"))
	if err != nil {
		return nil, err
	}
	if !set {
		fmt.Fprintf(out, "\r\n%s.\r\nSet one in the answers file or from the UMS to use it.\r\n", capitalize(ErrDisabled.Error()))
		// Wait before the console starts over, so the message stays
		// readable and nobody can make it spin.
		_ = readLine(ctx, in)
		return nil, ErrDisabled
	}
	return o.Login, nil
}

// readLine reads up to a newline one byte at a time: what follows it stays
// unread for the program the caller execs on the same console. It gives up
// when ctx ends (SIGTERM or SIGHUP as systemd stops the console): a read
// from a terminal cannot be interrupted, so it waits in a goroutine that
// ends with the process.
func readLine(ctx context.Context, in io.Reader) error {
	done := make(chan error, 1)
	go func() {
		b := make([]byte, 1)
		for {
			if _, err := io.ReadFull(in, b); err != nil {
				done <- err
				return
			}
			if b[0] == '\n' || b[0] == '\r' {
				done <- nil
				return
			}
		}
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// keymap is KEYMAP= of a vconsole.conf, "" when it has none.
func keymap(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "KEYMAP="); ok {
			return strings.Trim(strings.TrimSpace(v), `"'`)
		}
	}
	return ""
}

// rootPasswordSet reports whether root has a password to log in with:
// not empty (which would let anyone in), not locked ("!", "*").
func rootPasswordSet(shadow string) (bool, error) {
	f, err := os.Open(shadow)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read %s: %w", shadow, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.SplitN(sc.Text(), ":", 3)
		if len(fields) >= 2 && fields[0] == "root" {
			pw := fields[1]
			return pw != "" && !strings.HasPrefix(pw, "!") && !strings.HasPrefix(pw, "*"), nil
		}
	}
	return false, sc.Err()
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
