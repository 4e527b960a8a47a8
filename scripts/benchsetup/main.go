// Command benchsetup measures setup-assistant --demo on a pseudo terminal
// of 80x24: the time from process start to the first complete frame (the
// help line of the language screen drawn), and the peak RSS of a run that
// walks to the network screen (license accepted, WLAN scan shown) before it
// is stopped with Ctrl+C. The pty answers the cursor-position report
// like the Linux console. It prints "first_frame_ms N" and "peak_rss_kib N".
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

func main() {
	bin := flag.String("bin", "bin/setup-assistant", "the setup-assistant binary")
	runs := flag.Int("runs", 5, "runs; the median first frame is reported")
	flag.Parse()
	var frames []time.Duration
	var peak int64
	for i := 0; i < *runs; i++ {
		d, rss, err := once(*bin)
		if err != nil {
			fmt.Fprintln(os.Stderr, "benchsetup:", err)
			os.Exit(1)
		}
		frames = append(frames, d)
		peak = max(peak, rss)
	}
	for i := range frames { // insertion sort: a handful of values
		for j := i; j > 0 && frames[j] < frames[j-1]; j-- {
			frames[j], frames[j-1] = frames[j-1], frames[j]
		}
	}
	fmt.Printf("first_frame_ms %.1f\n", float64(frames[len(frames)/2].Microseconds())/1000)
	fmt.Printf("peak_rss_kib %d\n", peak)
}

// openPTY opens a pseudo terminal pair sized 80x24.
func openPTY() (master, slave *os.File, err error) {
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, nil, err
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		m.Close()
		return nil, nil, err
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		m.Close()
		return nil, nil, err
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		m.Close()
		return nil, nil, err
	}
	if err := unix.IoctlSetWinsize(int(s.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 24, Col: 80}); err != nil {
		m.Close()
		s.Close()
		return nil, nil, err
	}
	return m, s, nil
}

// csi matches the terminal's control sequences, which split the text.
var csi = regexp.MustCompile(`\x1b\[[0-9;?]*[ -/]*[@-~]`)

func once(bin string) (time.Duration, int64, error) {
	master, slave, err := openPTY()
	if err != nil {
		return 0, 0, err
	}
	defer master.Close()
	root, err := os.MkdirTemp("", "bench-setup-")
	if err != nil {
		return 0, 0, err
	}
	defer os.RemoveAll(root)
	cmd := exec.Command(bin, "--demo", "--demo-step", "0", "--root", root)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.Env = append(os.Environ(), "TERM=linux")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, 0, err
	}
	slave.Close()
	out := make(chan []byte, 64)
	go func() {
		buf := make([]byte, 64<<10)
		for {
			n, err := master.Read(buf)
			if n > 0 && bytes.Contains(buf[:n], []byte("\x1b[6n")) {
				// Answer the cursor-position report as the Linux console
				// does (it ignores the OSC 11 colour query before it), so
				// termenv's probe ends at once instead of timing out.
				_, _ = master.WriteString("\x1b[1;1R")
			}
			if n > 0 {
				out <- append([]byte(nil), buf[:n]...)
			}
			if err != nil {
				close(out)
				return
			}
		}
	}()
	var seen bytes.Buffer
	waitFor := func(text string) (time.Duration, error) {
		deadline := time.After(10 * time.Second)
		for !strings.Contains(csi.ReplaceAllString(seen.String(), ""), text) {
			select {
			case b, ok := <-out:
				if !ok {
					return 0, fmt.Errorf("the assistant ended before %q", text)
				}
				seen.Write(b)
			case <-deadline:
				return 0, fmt.Errorf("%q did not appear", text)
			}
		}
		seen.Reset()
		return time.Since(start), nil
	}
	// The help line is the last line of a frame: the frame is complete.
	first, err := waitFor("F1 Device info")
	if err != nil {
		_ = cmd.Process.Kill()
		return 0, 0, err
	}
	for _, step := range []struct{ keys, want string }{
		{"\r", "Try your keyboard"}, {"\r", "I accept the license terms"}, {" \r", "Home-5G"},
	} {
		if _, err := master.WriteString(step.keys); err != nil {
			return 0, 0, err
		}
		if _, err := waitFor(step.want); err != nil {
			_ = cmd.Process.Kill()
			return 0, 0, err
		}
	}
	_, _ = master.WriteString("\x03")
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	go func() {
		for range out {
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
	ru, _ := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if ru == nil {
		return first, 0, nil
	}
	return first, ru.Maxrss, nil
}
