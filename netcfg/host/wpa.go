package host

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// wpaConn is one socket of wpa_supplicant's control interface: datagrams
// to IFACE's socket in the control directory, answers to our own bound
// socket. A command connection and an attached (event) connection are
// kept apart, like wpa_cli does, so replies and events never mix.
type wpaConn struct {
	c     *net.UnixConn
	local string
}

// dialWPA connects to the control socket at path. Our end is bound in a
// private directory (0700, unpredictable name) of its own: a fixed name in
// the shared temporary directory could be squatted or swapped by another
// local user.
func dialWPA(path string) (*wpaConn, error) {
	dir, err := os.MkdirTemp("", "onramp-wpa-")
	if err != nil {
		return nil, fmt.Errorf("wpa_supplicant control socket %s: %w", path, err)
	}
	local := filepath.Join(dir, "ctrl")
	c, err := net.DialUnix("unixgram", &net.UnixAddr{Name: local, Net: "unixgram"}, &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("wpa_supplicant control socket %s: %w", path, err)
	}
	return &wpaConn{c: c, local: local}, nil
}

// attachWPA opens the two connections a configuration needs to the
// supplicant at path: mon, attached to its events, and cmd for commands.
// The caller closes both.
func attachWPA(path string) (mon, cmd *wpaConn, err error) {
	if mon, err = dialWPA(path); err != nil {
		return nil, nil, err
	}
	if err := mon.ok("ATTACH", "ATTACH"); err != nil {
		mon.close()
		return nil, nil, err
	}
	if cmd, err = dialWPA(path); err != nil {
		mon.close()
		return nil, nil, err
	}
	return mon, cmd, nil
}

// close closes the connection and removes its private directory.
func (w *wpaConn) close() error {
	err := w.c.Close()
	_ = os.RemoveAll(filepath.Dir(w.local))
	return err
}

// request sends a command and returns the reply. name is what errors call
// the command: never the command itself, which may hold a secret.
func (w *wpaConn) request(cmd, name string, timeout time.Duration) (string, error) {
	if err := w.c.SetDeadline(time.Now().Add(timeout)); err != nil {
		return "", err
	}
	if _, err := w.c.Write([]byte(cmd)); err != nil {
		return "", fmt.Errorf("wpa_supplicant %s: %w", name, err)
	}
	buf := make([]byte, 8192)
	for {
		n, err := w.c.Read(buf)
		if err != nil {
			return "", fmt.Errorf("wpa_supplicant %s: %w", name, err)
		}
		reply := string(buf[:n])
		if strings.HasPrefix(reply, "<") { // an event on an attached socket
			continue
		}
		return strings.TrimRight(reply, "\n"), nil
	}
}

// ok sends a command whose reply must be "OK".
func (w *wpaConn) ok(cmd, name string) error {
	r, err := w.request(cmd, name, 3*time.Second)
	if err != nil {
		return err
	}
	if r != "OK" {
		return fmt.Errorf("wpa_supplicant refused %s: %s", name, r)
	}
	return nil
}

// events reads the attached socket until ctx ends, handing each event
// (without its "<level>" prefix) to fn; fn returning done or an error
// ends the wait.
func (w *wpaConn) events(ctx context.Context, fn func(ev string) (done bool, err error)) error {
	buf := make([]byte, 8192)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		_ = w.c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		n, err := w.c.Read(buf)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return fmt.Errorf("wpa_supplicant events: %w", err)
		}
		ev := string(buf[:n])
		if i := strings.IndexByte(ev, '>'); strings.HasPrefix(ev, "<") && i > 0 {
			ev = ev[i+1:]
		}
		if done, err := fn(ev); done || err != nil {
			return err
		}
	}
}
