package testutil

import (
	"net"
	"runtime"
	"testing"

	"github.com/vishvananda/netns"
)

// ListenIn opens a TCP listener on addr inside network namespace ns from
// this process: a socket belongs to the namespace it was made in, so the
// test serves it from here while its client runs in another namespace.
// The listener is closed when the test ends.
func ListenIn(t testing.TB, ns, addr string) net.Listener {
	t.Helper()
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		t.Fatal(err)
	}
	defer orig.Close()
	h, err := netns.GetFromName(ns)
	if err != nil {
		runtime.UnlockOSThread()
		t.Fatal(err)
	}
	defer h.Close()
	if err := netns.Set(h); err != nil {
		runtime.UnlockOSThread()
		t.Fatal(err)
	}
	ln, lerr := net.Listen("tcp", addr)
	if err := netns.Set(orig); err != nil {
		// The thread stays locked and ends with its goroutine.
		t.Fatalf("back to the test's namespace: %v", err)
	}
	runtime.UnlockOSThread()
	if lerr != nil {
		t.Fatal(lerr)
	}
	t.Cleanup(func() { _ = ln.Close() })
	return ln
}
