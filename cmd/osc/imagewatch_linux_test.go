package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/onramp-os/onramp/internal/testutil"
)

// watchAction is what a fileChanger does before it lets an open or a read
// of the file go on.
type watchAction int

const (
	allow  watchAction = iota
	change             // rewrite the file's second half, then allow
	hold               // keep the reader waiting until the watch ends
)

// fileChanger is another program changing an image file while osc works
// with it. It watches the file with fanotify permission events, which hold
// every open and read of the file until it answers, and rewrites the
// file's second half (through the event's own descriptor, which raises no
// events) or holds the reader at the moment its policy picks.
type fileChanger struct {
	fd      int
	newHalf []byte
	size    int64
	// policy is called before each open (read < 0) and each read (read is
	// the number of reads since that open, from 1) is let through. closed
	// tells it that an open ended after reads reads.
	policy func(read int) watchAction
	closed func(reads int)

	mu      sync.Mutex
	changed bool
	held    []int32 // events not answered yet
	stop    chan struct{}
	done    chan struct{}
}

func watchFile(t *testing.T, path string, newHalf []byte, policy func(read int) watchAction, closed func(reads int)) *fileChanger {
	t.Helper()
	testutil.RequireRoot(t)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	fd, err := unix.FanotifyInit(unix.FAN_CLASS_CONTENT|unix.FAN_CLOEXEC|unix.FAN_NONBLOCK, unix.O_RDWR|unix.O_LARGEFILE)
	if err != nil {
		t.Fatalf("fanotify_init: %v", err)
	}
	if err := unix.FanotifyMark(fd, unix.FAN_MARK_ADD, unix.FAN_OPEN_PERM|unix.FAN_ACCESS_PERM|unix.FAN_CLOSE_NOWRITE, unix.AT_FDCWD, path); err != nil {
		unix.Close(fd)
		t.Fatalf("fanotify_mark: %v", err)
	}
	c := &fileChanger{fd: fd, newHalf: newHalf, size: fi.Size(), policy: policy, closed: closed,
		stop: make(chan struct{}), done: make(chan struct{})}
	go c.serve(t)
	t.Cleanup(c.close)
	return c
}

func (c *fileChanger) close() {
	select {
	case <-c.stop:
		return
	default:
	}
	close(c.stop)
	<-c.done
	for _, fd := range c.held {
		unix.Close(int(fd))
	}
	unix.Close(c.fd) // answers whatever is pending (held events too) with "allow"
}

func (c *fileChanger) wasChanged() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.changed
}

func (c *fileChanger) serve(t *testing.T) {
	defer close(c.done)
	buf := make([]byte, 4096)
	reads := 0
	for {
		select {
		case <-c.stop:
			return
		default:
		}
		n, err := unix.Poll([]unix.PollFd{{Fd: int32(c.fd), Events: unix.POLLIN}}, 50)
		if err != nil && err != unix.EINTR {
			t.Errorf("poll: %v", err)
			return
		}
		if n == 0 {
			continue
		}
		n, err = unix.Read(c.fd, buf)
		if err == unix.EAGAIN || err == unix.EINTR {
			continue
		}
		if err != nil {
			t.Errorf("read fanotify events: %v", err)
			return
		}
		for off := 0; off+int(unsafe.Sizeof(unix.FanotifyEventMetadata{})) <= n; {
			ev := (*unix.FanotifyEventMetadata)(unsafe.Pointer(&buf[off]))
			off += int(ev.Event_len)
			action := allow
			switch {
			case ev.Mask&unix.FAN_OPEN_PERM != 0:
				reads = 0
				action = c.policy(-1)
			case ev.Mask&unix.FAN_ACCESS_PERM != 0:
				reads++
				action = c.policy(reads)
			case ev.Mask&unix.FAN_CLOSE_NOWRITE != 0:
				c.closed(reads)
			}
			if action == change {
				c.change(int(ev.Fd))
			}
			switch {
			case action == hold:
				c.mu.Lock()
				c.held = append(c.held, ev.Fd)
				c.mu.Unlock()
				continue // answered and closed when the watch ends
			case ev.Mask&(unix.FAN_OPEN_PERM|unix.FAN_ACCESS_PERM) != 0:
				c.answer(t, ev.Fd)
			}
			if ev.Fd >= 0 {
				unix.Close(int(ev.Fd))
			}
		}
	}
}

func (c *fileChanger) answer(t *testing.T, fd int32) {
	resp := unix.FanotifyResponse{Fd: fd, Response: unix.FAN_ALLOW}
	if _, err := unix.Write(c.fd, (*[unsafe.Sizeof(resp)]byte)(unsafe.Pointer(&resp))[:]); err != nil {
		t.Errorf("answer fanotify: %v", err)
	}
}

func (c *fileChanger) change(fd int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.changed {
		return
	}
	if _, err := unix.Pwrite(fd, c.newHalf, c.size/2); err != nil {
		panic(err)
	}
	c.changed = true
}

// TestWriteImageChangedAfterCheck (issue 18 item 6): the image file is
// rewritten by another program once osc has read it through, before osc
// opens it again. Checking and writing in separate reads wrote the changed
// file under a checksum it did not match; now the file is read once, so
// what is written is what was checked (or, had the change come during that
// read, osc refuses with exit 5 and a zero first MiB).
func TestWriteImageChangedAfterCheck(t *testing.T) {
	dir := t.TempDir()
	img, data := sampleImage(t, dir, 8<<20)
	if err := os.WriteFile(img+".sha256", []byte(sha(t, img)+"  "+filepath.Base(img)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, "stick.img")
	oldStickFile(t, dst, 10<<20)
	newHalf := bytes.Repeat([]byte{0xC3}, 4<<20)

	// An open that read the file through (more reads than the few that
	// look at its header) arms the change; the next open gets the changed
	// file.
	var armed, sawFullRead bool
	var mu sync.Mutex
	c := watchFile(t, img, newHalf, func(read int) watchAction {
		mu.Lock()
		defer mu.Unlock()
		if read < 0 && armed {
			return change
		}
		return allow
	}, func(reads int) {
		mu.Lock()
		defer mu.Unlock()
		if reads >= 6 {
			armed, sawFullRead = true, true
		}
	})
	r := run(t, context.Background(), "", "write", "--yes", img, dst)
	c.close()
	if !sawFullRead {
		t.Fatalf("osc never read the image through (the watch saw no such open); exit %d %s", r.code, r.stderr)
	}
	got, _ := os.ReadFile(dst)
	switch r.code {
	case 0:
		if !bytes.Equal(got[:len(data)], data) {
			t.Fatalf("exit 0, but the stick holds the image as changed after its check (changed: %v): %s", c.wasChanged(), r.stderr)
		}
	case 5:
		if !bytes.Equal(got[:1<<20], make([]byte, 1<<20)) {
			t.Fatal("exit 5, but the stick's first MiB is not zero")
		}
	default:
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
}

// TestWriteImageChangedWhileRead: the image file is rewritten while osc
// reads it through (on the fourth read after an open). The write refuses it
// with exit 5 naming the checksum, and the stick does not start with the
// image.
func TestWriteImageChangedWhileRead(t *testing.T) {
	dir := t.TempDir()
	img, data := sampleImage(t, dir, 8<<20)
	if err := os.WriteFile(img+".sha256", []byte(sha(t, img)+"  "+filepath.Base(img)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, "stick.img")
	old := oldStickFile(t, dst, 10<<20)
	c := watchFile(t, img, bytes.Repeat([]byte{0xC3}, 4<<20), func(read int) watchAction {
		if read == 4 { // more than a look at the header takes
			return change
		}
		return allow
	}, func(int) {})
	r := run(t, context.Background(), "", "write", "--yes", img, dst)
	c.close()
	if !c.wasChanged() {
		t.Fatalf("the file was not changed during the run; exit %d %s", r.code, r.stderr)
	}
	if r.code != 5 || !strings.Contains(r.stderr, "SHA-256") {
		t.Fatalf("exit %d, stderr %q; want 5 naming the SHA-256", r.code, r.stderr)
	}
	got, _ := os.ReadFile(dst)
	if bytes.Equal(got[:1<<20], data[:1<<20]) {
		t.Fatal("the stick starts with the image's first MiB although the image did not match its checksum")
	}
	if !bytes.Equal(got[:1<<20], make([]byte, 1<<20)) && !bytes.Equal(got[:1<<20], old[:1<<20]) {
		t.Fatal("the stick's first MiB is neither zeros nor what it was")
	}
}

// TestWriteKilledClearsHead (issue 18 item 4): the osc binary is killed
// with SIGKILL in the middle of writing onto a loop device that holds an
// old image (the watch keeps one of its reads of the image waiting, so the
// kill lands after a few MiB and before the end). The old boot sector and
// partition table must be gone: the first MiB reads zeros, while the new
// image's second MiB shows the write had begun.
func TestWriteKilledClearsHead(t *testing.T) {
	testutil.RequireRoot(t)
	osc := testutil.Binary(t, "osc")
	dir := t.TempDir()
	img, data := sampleImage(t, dir, 16<<20)
	back := filepath.Join(dir, "stick")
	oldStickFile(t, back, 32<<20)
	dev := testutil.LoopDevice(t, back, "--direct-io=on")
	c := watchFile(t, img, nil, func(read int) watchAction {
		if read >= 6 { // more than a look at the header takes: 5 MiB into the write
			return hold
		}
		return allow
	}, func(int) {})

	cmd := exec.Command(osc, "write", "--yes", "--force", "--json", img, dev)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := make(chan string, 1)
	go func() {
		var seen strings.Builder
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			seen.WriteString(sc.Text() + "\n")
			var e struct {
				Event, Phase string
				Bytes        int64
			}
			json.Unmarshal(sc.Bytes(), &e)
			if e.Event == "progress" && e.Phase == "write" && e.Bytes >= 3<<20 {
				cmd.Process.Signal(syscall.SIGKILL)
				break
			}
		}
		killed <- seen.String()
		io.Copy(io.Discard, stdout)
	}()
	var out string
	select {
	case out = <-killed:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("osc never reported 3 MiB written: %s", stderr.String())
	}
	cmd.Wait()
	c.close()
	if cmd.ProcessState.ExitCode() != -1 {
		t.Fatalf("osc was not killed (exit %d): %s%s", cmd.ProcessState.ExitCode(), out, stderr.String())
	}
	got := readDev(t, dev, 2<<20)
	if !bytes.Equal(got[:1<<20], make([]byte, 1<<20)) {
		t.Fatal("after kill -9 mid-write the stick's first MiB is not zero: its old partition table still boots into half a new image")
	}
	if !bytes.Equal(got[1<<20:], data[1<<20:2<<20]) {
		t.Fatalf("the new image's second MiB is not on the stick: the kill did not come mid-write\n%s", out)
	}
}
