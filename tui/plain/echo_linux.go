package plain

import (
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// echoControl returns a function that turns the terminal's echo of typed
// characters off (false) and back on, so that a key or PIN typed at a
// secret's prompt never shows; nil when in is not a terminal.
func echoControl(in io.Reader) func(on bool) {
	f, ok := in.(*os.File)
	if !ok {
		return nil
	}
	fd := int(f.Fd())
	saved, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return nil // not a terminal
	}
	return func(on bool) {
		t := *saved
		if !on {
			t.Lflag &^= unix.ECHO
			t.Lflag |= unix.ECHONL // the Enter still moves to the next line
		}
		_ = unix.IoctlSetTermios(fd, unix.TCSETS, &t)
	}
}
