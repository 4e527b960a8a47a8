package plain

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/onramp-os/onramp/firstboot"
	"github.com/onramp-os/onramp/i18n"
	"github.com/onramp-os/onramp/internal/testutil"
)

// openPTY returns a pseudo-terminal's controlling side and its terminal.
func openPTY(t *testing.T) (master, tty *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		testutil.Skip(t, "no pseudo-terminals: "+err.Error())
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close(); s.Close() })
	return m, s
}

// TestSecretsAreNotEchoed types a one-time password on a real terminal:
// what the terminal shows back has the plain answer but not the secret.
func TestSecretsAreNotEchoed(t *testing.T) {
	master, tty := openPTY(t)
	cfg := firstboot.Config{Context: context.Background()}
	a := &prompter{cfg: &cfg, in: readLines(tty), echo: echoControl(tty), out: io.Discard, tr: i18n.For("en")}
	if a.echo == nil {
		t.Fatal("a pseudo-terminal was not recognised as a terminal")
	}
	shown := make(chan string, 1)
	go func() {
		var b strings.Builder
		buf := make([]byte, 256)
		master.SetReadDeadline(time.Now().Add(10 * time.Second))
		for {
			n, err := master.Read(buf)
			b.Write(buf[:n])
			if err != nil || strings.Count(b.String(), "\n") >= 2 {
				shown <- b.String()
				return
			}
		}
	}()
	got := make(chan string, 2)
	go func() {
		v, _ := a.askValid("Server", "", nil)
		got <- v
		v, _ = a.askSecret("One-time password", "", nil)
		got <- v
	}()
	io.WriteString(master, "ums.example.com\n")
	if v := <-got; v != "ums.example.com" {
		t.Fatalf("server %q", v)
	}
	// The user types once the prompt is there: echo is off by then.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		tio, err := unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS)
		if err == nil && tio.Lflag&unix.ECHO == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the secret's prompt did not turn echo off")
		}
	}
	io.WriteString(master, "S3CRET-OTP-4711\n")
	if v := <-got; v != "S3CRET-OTP-4711" {
		t.Fatalf("otp %q", v)
	}
	out := <-shown
	if !strings.Contains(out, "ums.example.com") || strings.Contains(out, "S3CRET") {
		t.Errorf("the terminal showed %q: want the server echoed and the password not", out)
	}
}
