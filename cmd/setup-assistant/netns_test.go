package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/onramp-os/onramp/internal/testutil"
	"github.com/onramp-os/onramp/onboard/lab"
)

// TestUnattendedWiredDHCPInNamespace runs the built assistant unattended
// (wired DHCP, time zone auto, onboarding by server) inside a fresh
// network namespace on a closed company LAN: the real dnsmasq serves
// addresses and a time zone (option 101) and answers DNS for corp.example
// only — no upstream, so it refuses the root and every other name, which
// netcfg/host's TestWiredClosedNetwork proves rcode by rcode — and the UMS
// (an ums-lab) listens as ums.corp.example. The network step must pass
// there (its check is the UMS, not the internet), the lease must be
// applied in the namespace (iproute2 judges), the offline root's
// /etc/localtime must point at the zone dnsmasq offered, and the device
// must be enrolled by the UMS it reached by name.
func TestUnattendedWiredDHCPInNamespace(t *testing.T) {
	const zone = "America/Argentina/Buenos_Aires"
	client, root, out, err := onCorpLAN(t, corpLAN{server: []string{"198.51.100.1/24"}, ums: "198.51.100.1:8443",
		nameserver: "198.51.100.1", timezone: "auto", dnsmasq: []string{"--dhcp-range=198.51.100.50,198.51.100.60,255.255.255.0,1h",
			"--dhcp-option=101," + zone, "--host-record=ums.corp.example,198.51.100.1"}})
	if err != nil {
		t.Fatalf("setup-assistant: %v\n%s", err, out)
	}
	addrs := testutil.Run(t, "ip", "-n", client, "-4", "addr", "show", "dev", "eth0")
	routes := testutil.Run(t, "ip", "-n", client, "-4", "route", "show", "default")
	if !regexp.MustCompile(`inet 198\.51\.100\.(5[0-9]|60)/24`).MatchString(addrs) || !strings.Contains(routes, "default via 198.51.100.1 dev eth0") {
		t.Errorf("the lease is not applied:\nip addr:\n%s\nip route:\n%s", addrs, routes)
	}
	if l, err := os.Readlink(filepath.Join(root, "etc/localtime")); err != nil || l != "../usr/share/zoneinfo/"+zone {
		t.Errorf("etc/localtime -> %q, %v; want the zone dnsmasq offered", l, err)
	}
	if nw, err := os.ReadFile(filepath.Join(root, "etc/systemd/network/50-onramp-eth0.network")); err != nil ||
		!strings.Contains(string(nw), "DHCP=yes\n") || !strings.Contains(string(nw), "IPv6AcceptRA=yes\n") {
		t.Errorf(".network for eth0: %q, %v", nw, err)
	}
	if rc, err := os.ReadFile(filepath.Join(root, "etc/resolv.conf")); err != nil || !strings.Contains(string(rc), "nameserver 198.51.100.1") {
		t.Errorf("resolv.conf: %q, %v", rc, err)
	}
}

// TestUnattendedIPv6OnlyInNamespace is the same company LAN without IPv4:
// router advertisements and stateful DHCPv6 from dnsmasq, the UMS at an
// IPv6 address under its name. Where the device once found "no DHCP
// server answered", it gets a DHCPv6 address and the name server from
// DHCPv6, reaches the UMS and is enrolled.
func TestUnattendedIPv6OnlyInNamespace(t *testing.T) {
	client, root, out, err := onCorpLAN(t, corpLAN{server: []string{"2001:db8:6::1/64"}, ums: "[2001:db8:6::1]:8443",
		nameserver: "2001:db8:6::1", timezone: "UTC", dnsmasq: []string{"--enable-ra", "--dhcp-range=2001:db8:6::100,2001:db8:6::1ff,64,1h",
			"--host-record=ums.corp.example,2001:db8:6::1"}})
	if err != nil {
		t.Fatalf("setup-assistant: %v\n%s", err, out)
	}
	addrs := testutil.Run(t, "ip", "-n", client, "-6", "addr", "show", "dev", "eth0", "scope", "global")
	if !regexp.MustCompile(`inet6 2001:db8:6::1[0-9a-f]{2}/128`).MatchString(addrs) {
		t.Errorf("no DHCPv6 address:\n%s", addrs)
	}
	if rc, err := os.ReadFile(filepath.Join(root, "etc/resolv.conf")); err != nil || !strings.Contains(string(rc), "nameserver 2001:db8:6::1") {
		t.Errorf("resolv.conf: %q, %v", rc, err)
	}
	if nw, err := os.ReadFile(filepath.Join(root, "etc/systemd/network/50-onramp-eth0.network")); err != nil || !strings.Contains(string(nw), "IPv6AcceptRA=yes\n") {
		t.Errorf(".network for eth0: %q, %v", nw, err)
	}
}

// corpLAN is a company LAN for onCorpLAN: the server side's addresses,
// what dnsmasq serves there beyond DNS for corp.example only, where the
// UMS listens and the name server the device's process resolves with.
type corpLAN struct {
	server     []string
	dnsmasq    []string
	ums        string
	nameserver string
	timezone   string // the answer: "auto" takes DHCP option 101
}

// onCorpLAN runs the built assistant unattended (wired DHCP, onboarding by server at ums.corp.example:8443) in a fresh network
// namespace whose eth0 is on lan, and checks that it was enrolled. It
// returns the client namespace, the root, the assistant's output and
// its error.
//
// The namespace's eth0 is a veth, which has no device in sysfs and so is
// no physical link to the assistant; a private mount namespace shows the
// binary a /sys/class/net in which eth0 sits on a PCI bus, and (the root
// being offline, so the resolv.conf the assistant writes is not the one
// the process uses) an /etc/resolv.conf naming the LAN's name server, as
// the assistant writes it on a device.
func onCorpLAN(t *testing.T, lan corpLAN) (client, root, out string, err error) {
	t.Helper()
	testutil.RequireRoot(t)
	testutil.RequireTools(t, "ip", "dnsmasq", "unshare", "mount")
	bin := testutil.Binary(t, "setup-assistant")
	client, server := testutil.Netns(t), testutil.Netns(t)
	testutil.Veth(t, server, "lan0", client, "eth0")
	for _, a := range lan.server {
		testutil.Run(t, "ip", "-n", server, "addr", "add", a, "dev", "lan0", "nodad")
	}

	dir := t.TempDir()
	args := append([]string{"--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts", "--user=root",
		"--bind-interfaces", "--interface=lan0", "--dhcp-authoritative", "--local=/corp.example/",
		"--dhcp-leasefile=" + filepath.Join(dir, "leases"), "--log-facility=" + filepath.Join(dir, "dnsmasq.log"), "--log-dhcp"},
		lan.dnsmasq...)
	dnsmasq := testutil.NetnsCommand(server, "dnsmasq", args...)
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
		out, _ := testutil.NetnsCommand(server, "cat", "/proc/net/udp", "/proc/net/udp6").Output()
		return strings.Contains(string(out), ":0035 ")
	}) {
		t.Fatal("dnsmasq did not start")
	}

	ctx, cancel := context.WithCancel(context.Background())
	st, err := lab.OpenState(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := lab.NewServer(st, lab.Config{Hosts: []string{"ums.corp.example"}})
	if err != nil {
		t.Fatal(err)
	}
	ln := testutil.ListenInNetns(t, server, lan.ums)
	served := make(chan struct{})
	go func() { defer close(served); _ = srv.Serve(ctx, ln) }()
	t.Cleanup(func() { cancel(); <-served; _ = st.Close() })
	_, key, err := st.CreateKey(ctx, lab.KeySpec{Kind: lab.KindOneTime})
	if err != nil {
		t.Fatal(err)
	}

	sysnet := filepath.Join(dir, "sys/class/net")
	fakeNIC(t, filepath.Join(dir, "sys"), "eth0")
	root = filepath.Join(dir, "root")
	if err := os.MkdirAll(filepath.Join(root, "usr/share/onramp/eula"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "usr/share/onramp/eula/en.txt"), []byte("terms"), 0o644); err != nil {
		t.Fatal(err)
	}
	answers := filepath.Join(dir, "answers.yaml")
	body := fmt.Sprintf("language: en\neula: accept\nnetwork:\n  wired: dhcp\ntimezone: %s\n"+
		"onboarding: {server: ums.corp.example, port: 8443, otp: %q, token: %q}\n", lan.timezone, key, st.Token())
	if err := os.WriteFile(answers, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	resolv := filepath.Join(dir, "resolv.conf")
	if err := os.WriteFile(resolv, []byte("nameserver "+lan.nameserver+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("ip", "netns", "exec", client, "unshare", "--mount", "--propagation", "private", "sh", "-c",
		`mount --bind "$1" /sys/class/net && mount --bind "$2" /etc/resolv.conf && shift 2 && exec "$@"`, "sh", sysnet, resolv,
		bin, "--root", root, "--non-interactive", "--answers", answers)
	o, err := cmd.CombinedOutput()
	t.Logf("setup-assistant:\n%s", o)
	if err == nil {
		if _, serr := os.Stat(filepath.Join(root, "etc/onramp/ums/device.crt")); serr != nil {
			t.Errorf("not enrolled by the UMS: %v", serr)
		}
	}
	return client, root, string(o), err
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
