//go:build linux

package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onramp-os/onramp/internal/testutil"
)

// unitIDLink is one link of the namespace and the bus the test's sysfs
// view gives it ("" leaves it virtual, as the kernel shows it).
type unitIDLink struct {
	name, mac, bus string // mac "" keeps the kernel's random address
	wireless       bool
}

// unitIDNamespace makes a network namespace holding veth links with the
// given MAC addresses (their peers in a second namespace; this kernel has
// no dummy links) plus one left virtual, and a sysfs view for it: each
// link's address, type and addr_assign_type are the kernel's own files
// (symbolic links into the namespace's /sys/devices/virtual/net), and only
// the bus a physical NIC would hang on is added, since veth links have
// none. It returns the namespace and the view.
func unitIDNamespace(t *testing.T, links []unitIDLink) (ns, view string) {
	t.Helper()
	ns = testutil.Netns(t)
	peer := testutil.Netns(t)
	testutil.Veth(t, ns, "ve0", peer, "ve1")
	testutil.Run(t, "ip", "-n", ns, "link", "set", "ve0", "address", "02:00:5e:00:00:99")
	view = t.TempDir()
	net := filepath.Join(view, "class/net")
	for i, l := range links {
		testutil.Run(t, "ip", "-n", ns, "link", "add", l.name, "type", "veth", "peer", "name", "p"+l.name, "netns", peer)
		if l.mac != "" {
			testutil.Run(t, "ip", "-n", ns, "link", "set", l.name, "address", l.mac)
		}
		dir := filepath.Join(net, l.name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, attr := range []string{"address", "type", "addr_assign_type", "carrier", "uevent"} {
			if err := os.Symlink(filepath.Join("/sys/devices/virtual/net", l.name, attr), filepath.Join(dir, attr)); err != nil {
				t.Fatal(err)
			}
		}
		if l.wireless {
			if err := os.Mkdir(filepath.Join(dir, "wireless"), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		if l.bus == "" {
			continue
		}
		dev := filepath.Join(view, "devices", l.bus+string(rune('0'+i)))
		for _, d := range []string{dev, filepath.Join(view, "bus", l.bus)} {
			if err := os.MkdirAll(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Symlink(filepath.Join(view, "bus", l.bus), filepath.Join(dev, "subsystem")); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(dev, filepath.Join(dir, "device")); err != nil {
			t.Fatal(err)
		}
	}
	// ve0 stays as the kernel shows it: a virtual link, never the Unit ID's.
	if err := os.MkdirAll(filepath.Join(net, "ve0"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, attr := range []string{"address", "type", "addr_assign_type"} {
		if err := os.Symlink(filepath.Join("/sys/devices/virtual/net/ve0", attr), filepath.Join(net, "ve0", attr)); err != nil {
			t.Fatal(err)
		}
	}
	return ns, view
}

// inNamespace runs a binary (argv0 name) in ns, with view (when set)
// mounted over /sys/class/net in a private mount namespace.
func inNamespace(t *testing.T, ns, view, bin, argv0 string, args ...string) (string, error) {
	t.Helper()
	script := `exec -a "$0" "$@"`
	env := []string{}
	if view != "" {
		script = `mount --bind "$VIEW/class/net" /sys/class/net && exec -a "$0" "$@"`
		env = append(env, "VIEW="+view)
	}
	cmd := exec.Command("ip", append([]string{"netns", "exec", ns, "unshare", "--mount", "--propagation", "private",
		"bash", "-c", script, argv0, bin}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestUnitIDInNamespace: osc unit-id, the get_unit_id name of osc and
// setup-assistant --unit-id print the same Unit ID by the onboarding NIC
// rule, from MAC addresses the kernel holds: wired before wireless, PCI
// before USB, a random address never (eth9 is on PCI but keeps the
// kernel's random one), a virtual link never.
func TestUnitIDInNamespace(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.RequireTools(t, "ip", "unshare", "mount", "bash")
	osc, assistant := testutil.Binary(t, "osc"), testutil.Binary(t, "setup-assistant")
	ns, view := unitIDNamespace(t, []unitIDLink{
		{name: "eth0", mac: "02:00:5e:00:00:a0", bus: "usb"},
		{name: "eth1", mac: "02:00:5e:00:00:b1", bus: "pci"},
		{name: "wlan0", mac: "02:00:5e:00:00:c2", bus: "pci", wireless: true},
		{name: "eth9", bus: "pci"},
	})
	if got := testutil.InNetns(t, ns, "cat", "/sys/class/net/eth9/addr_assign_type"); strings.TrimSpace(got) != "1" {
		t.Fatalf("eth9's address is not random (addr_assign_type %q)", got)
	}
	const want = "02005E0000B1"
	for _, run := range []struct {
		bin, argv0 string
		args       []string
	}{
		{osc, "osc", []string{"unit-id"}},
		{osc, "get_unit_id", nil},
		{assistant, "setup-assistant", []string{"--unit-id"}},
	} {
		out, err := inNamespace(t, ns, view, run.bin, run.argv0, run.args...)
		if err != nil || strings.TrimSpace(out) != want {
			t.Errorf("%s %v: %q, %v; want %s", run.argv0, run.args, out, err, want)
		}
	}

	// Without wired links the wireless one is the Unit ID's.
	ns, view = unitIDNamespace(t, []unitIDLink{{name: "wlan0", mac: "02:00:5e:00:00:c2", bus: "pci", wireless: true}})
	if out, err := inNamespace(t, ns, view, osc, "get_unit_id"); err != nil || strings.TrimSpace(out) != "02005E0000C2" {
		t.Errorf("wireless only: %q, %v", out, err)
	}
}

// TestUnitIDWithoutNIC: in a namespace whose links are all virtual (the
// kernel's own sysfs), there is no Unit ID: exit 1 and why.
func TestUnitIDWithoutNIC(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.RequireTools(t, "ip", "unshare", "bash")
	osc := testutil.Binary(t, "osc")
	ns, _ := unitIDNamespace(t, []unitIDLink{{name: "eth0", mac: "02:00:5e:00:00:a0"}})
	out, err := inNamespace(t, ns, "", osc, "get_unit_id")
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 || !strings.Contains(out, "no physical network interface") {
		t.Errorf("get_unit_id without a NIC: %q, %v; want exit 1 naming the problem", out, err)
	}
}
