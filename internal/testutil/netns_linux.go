package testutil

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"golang.org/x/sys/unix"
)

// netnsTestEnv names the test a re-executed test binary runs inside a
// network namespace (see RunInNetns).
const netnsTestEnv = "ONRAMP_NETNS_TEST"

var netnsSeq atomic.Int64

// Netns creates a fresh network namespace with its loopback up and
// deletes it when the test ends. It returns the namespace's name.
func Netns(t testing.TB) string {
	t.Helper()
	RequireRoot(t)
	RequireTools(t, "ip")
	name := fmt.Sprintf("onramp-%d-%d", os.Getpid(), netnsSeq.Add(1))
	Run(t, "ip", "netns", "add", name)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", name).Run() })
	Run(t, "ip", "-n", name, "link", "set", "lo", "up")
	return name
}

// Veth joins two namespaces with a veth pair, ifA in nsA and ifB in nsB,
// both up. The pair goes away with its namespaces.
func Veth(t testing.TB, nsA, ifA, nsB, ifB string) {
	t.Helper()
	Run(t, "ip", "-n", nsA, "link", "add", ifA, "type", "veth", "peer", "name", ifB, "netns", nsB)
	Run(t, "ip", "-n", nsA, "link", "set", ifA, "up")
	Run(t, "ip", "-n", nsB, "link", "set", ifB, "up")
}

// InNetns runs a command inside a namespace and fails the test on error.
func InNetns(t testing.TB, ns, name string, args ...string) string {
	t.Helper()
	return Run(t, "ip", append([]string{"netns", "exec", ns, name}, args...)...)
}

// NetnsChild reports whether this process is the re-executed copy of the
// test binary that RunInNetns started for t: then the test does its work,
// already inside the namespace.
func NetnsChild(t testing.TB) bool {
	return os.Getenv(netnsTestEnv) == t.Name()
}

// RunInNetns runs test t again in a copy of the test binary inside the
// namespace ns (with `ip netns exec`, so the whole process — every thread,
// the DHCP client's sockets, the resolver — lives there), with extra
// environment variables. The child's output is logged; its failure fails
// t. The parent can inspect the namespace afterwards as an independent
// judge.
func RunInNetns(t testing.TB, ns string, env ...string) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	var pattern []string
	for _, part := range strings.Split(t.Name(), "/") {
		pattern = append(pattern, "^"+regexp.QuoteMeta(part)+"$")
	}
	cmd := exec.Command("ip", "netns", "exec", ns, exe, "-test.run="+strings.Join(pattern, "/"), "-test.count=1", "-test.v")
	cmd.Env = append(append(os.Environ(), netnsTestEnv+"="+t.Name()), env...)
	out, err := cmd.CombinedOutput()
	t.Logf("in network namespace %s:\n%s", ns, out)
	if err != nil {
		t.Fatalf("test in network namespace %s: %v", ns, err)
	}
	if !strings.Contains(string(out), "--- PASS: "+t.Name()) {
		t.Fatalf("test in network namespace %s did not pass", ns)
	}
}

// NetnsCommand is a command that runs inside a namespace.
func NetnsCommand(ns, name string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", ns, name}, args...)...)
}

// ListenInNetns opens a TCP listener on addr inside network namespace ns
// (one made by Netns): the socket is opened from a thread moved into ns
// and stays there, so a server in the test process serves that namespace.
func ListenInNetns(t testing.TB, ns, addr string) net.Listener {
	t.Helper()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	self, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	defer self.Close()
	target, err := os.Open(filepath.Join("/run/netns", ns))
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		t.Fatal(err)
	}
	ln, lerr := net.Listen("tcp", addr)
	if err := unix.Setns(int(self.Fd()), unix.CLONE_NEWNET); err != nil {
		panic("cannot return to the test's network namespace: " + err.Error())
	}
	if lerr != nil {
		t.Fatal(lerr)
	}
	return ln
}
