package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/onramp-os/onramp/internal/testutil"
)

// TestUnattendedWiredDHCPInNamespace runs the built assistant unattended
// (wired DHCP, time zone auto) inside a fresh network namespace whose LAN
// is served by the real dnsmasq, offering a time zone (option 101). The
// lease must be applied in the namespace (iproute2 judges) and the offline
// root's /etc/localtime must point at the zone dnsmasq offered.
//
// The namespace's eth0 is a veth, which has no device in sysfs and so is
// no physical link to the assistant; a private mount namespace shows the
// binary a /sys/class/net in which eth0 sits on a PCI bus, and nothing
// else differs from a device on a LAN.
func TestUnattendedWiredDHCPInNamespace(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.RequireTools(t, "ip", "dnsmasq", "unshare", "mount")
	bin := testutil.Binary(t, "setup-assistant")
	const zone = "America/Argentina/Buenos_Aires"
	client, server := testutil.Netns(t), testutil.Netns(t)
	testutil.Veth(t, server, "lan0", client, "eth0")
	testutil.Run(t, "ip", "-n", server, "addr", "add", "198.51.100.1/24", "dev", "lan0")

	dir := t.TempDir()
	dnsmasq := testutil.NetnsCommand(server, "dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv",
		"--no-hosts", "--user=root", "--bind-interfaces", "--interface=lan0", "--dhcp-authoritative",
		"--dhcp-range=198.51.100.50,198.51.100.60,255.255.255.0,1h", "--dhcp-option=101,"+zone,
		// The LAN's resolver answers everything itself: the connectivity
		// check's question (the root's name servers) included; without
		// upstream servers dnsmasq would refuse it, and the assistant would
		// rightly call DNS broken.
		"--local=/#/", "--dhcp-leasefile="+filepath.Join(dir, "leases"),
		"--log-facility="+filepath.Join(dir, "dnsmasq.log"), "--log-dhcp")
	if err := dnsmasq.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = dnsmasq.Process.Kill()
		_ = dnsmasq.Wait()
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(dir, "dnsmasq.log"))
			t.Logf("dnsmasq log:\n%s", log)
		}
	})
	if !testutil.WaitFor(5*time.Second, func() bool {
		out, _ := testutil.NetnsCommand(server, "cat", "/proc/net/udp").Output()
		return strings.Contains(string(out), ":0035 ")
	}) {
		t.Fatal("dnsmasq did not start")
	}

	sysnet := filepath.Join(dir, "sys/class/net")
	fakeNIC(t, filepath.Join(dir, "sys"), "eth0")
	root := filepath.Join(dir, "root")
	if err := os.MkdirAll(filepath.Join(root, "usr/share/onramp/eula"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "usr/share/onramp/eula/en.txt"), []byte("terms"), 0o644); err != nil {
		t.Fatal(err)
	}
	answers := filepath.Join(dir, "answers.yaml")
	body := "language: en\neula: accept\nnetwork:\n  wired: dhcp\ntimezone: auto\nonboarding: skip\n"
	if err := os.WriteFile(answers, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("ip", "netns", "exec", client, "unshare", "--mount", "--propagation", "private", "sh", "-c",
		`mount --bind "$1" /sys/class/net && shift && exec "$@"`, "sh", sysnet,
		bin, "--root", root, "--non-interactive", "--answers", answers)
	out, err := cmd.CombinedOutput()
	t.Logf("setup-assistant:\n%s", out)
	if err != nil {
		t.Fatalf("setup-assistant: %v", err)
	}

	addrs := testutil.Run(t, "ip", "-n", client, "-4", "addr", "show", "dev", "eth0")
	routes := testutil.Run(t, "ip", "-n", client, "-4", "route", "show", "default")
	if !regexp.MustCompile(`inet 198\.51\.100\.(5[0-9]|60)/24`).MatchString(addrs) || !strings.Contains(routes, "default via 198.51.100.1 dev eth0") {
		t.Errorf("the lease is not applied:\nip addr:\n%s\nip route:\n%s", addrs, routes)
	}
	if l, err := os.Readlink(filepath.Join(root, "etc/localtime")); err != nil || l != "../usr/share/zoneinfo/"+zone {
		t.Errorf("etc/localtime -> %q, %v; want the zone dnsmasq offered", l, err)
	}
	if nw, err := os.ReadFile(filepath.Join(root, "etc/systemd/network/50-onramp-eth0.network")); err != nil || !strings.Contains(string(nw), "DHCP=ipv4") {
		t.Errorf(".network for eth0: %q, %v", nw, err)
	}
	if rc, err := os.ReadFile(filepath.Join(root, "etc/resolv.conf")); err != nil || !strings.Contains(string(rc), "nameserver 198.51.100.1") {
		t.Errorf("resolv.conf: %q, %v", rc, err)
	}
}

// fakeNIC makes sys/class/net/NAME under dir a wired NIC on a PCI bus, the
// way the kernel shows one.
func fakeNIC(t *testing.T, dir, name string) {
	t.Helper()
	dev := filepath.Join(dir, "devices/pci0000:00/0000:00:03.0")
	net := filepath.Join(dir, "class/net", name)
	for _, d := range []string{dev, net, filepath.Join(dir, "bus/pci")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	links := map[string]string{filepath.Join(dev, "subsystem"): filepath.Join(dir, "bus/pci"), filepath.Join(net, "device"): dev}
	for link, target := range links {
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
	}
	for attr, v := range map[string]string{"type": "1", "address": "52:54:00:12:34:56", "carrier": "1", "addr_assign_type": "0"} {
		if err := os.WriteFile(filepath.Join(net, attr), []byte(v+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
