package agent

import (
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/onramp-os/onramp/netcfg"
	"github.com/onramp-os/onramp/onboard"
	"github.com/onramp-os/onramp/sysconf"
)

// Where the facts come from: the running kernel's, also with --root (an
// offline root has no kernel of its own). Tests point them at fake trees.
var (
	sysClassNet = netcfg.SysClassNet
	sysBlock    = "/sys/block"
	procUptime  = "/proc/uptime"
)

// maxFacts bounds the MACs and disks reported, so a check-in stays within
// what a UMS takes (ums-lab: 64 KiB) on any machine.
const maxFacts = 64

// Report is the check-in of the device under root: its Unit ID, the OS
// of the root (/etc/os-release) and the running machine's facts.
func Report(root, unitID, version string) onboard.CheckInRequest {
	r := sysconf.Root{Dir: root}
	osr := r.OSRelease()
	req := onboard.CheckInRequest{
		UnitID:       unitID,
		AgentVersion: version,
		OS:           onboard.OSInfo{Name: osr.Name, Version: osr.Version, VersionID: osr.VersionID, Pretty: osr.PrettyName},
		Facts:        onboard.Facts{Hostname: r.Hostname(), MACs: macs(), Disks: disks(), UptimeSeconds: uptime()},
	}
	if req.Facts.Hostname == "" && (root == "/" || root == "") {
		req.Facts.Hostname, _ = os.Hostname()
	}
	return req
}

func macs() []onboard.MAC {
	links, err := netcfg.ReadSysfsLinks(sysClassNet)
	if err != nil {
		return nil
	}
	var out []onboard.MAC
	for _, l := range links {
		if len(out) < maxFacts && l.MAC != "" && strings.Trim(l.MAC, "0:") != "" {
			out = append(out, onboard.MAC{Interface: l.Name, Address: strings.ToUpper(l.MAC)})
		}
	}
	return out
}

// disks lists block devices backed by hardware (a "device" link), not
// loop, RAM or device-mapper devices; sizes are in 512-byte sectors.
func disks() []onboard.Disk {
	ents, err := os.ReadDir(sysBlock)
	if err != nil {
		return nil
	}
	var out []onboard.Disk
	for _, e := range ents {
		if len(out) == maxFacts {
			break
		}
		dir := filepath.Join(sysBlock, e.Name())
		if _, err := os.Stat(filepath.Join(dir, "device")); err != nil {
			continue
		}
		sectors, err := readInt(filepath.Join(dir, "size"))
		if err != nil || sectors <= 0 {
			continue
		}
		model, _ := os.ReadFile(filepath.Join(dir, "device", "model"))
		out = append(out, onboard.Disk{Name: e.Name(), SizeBytes: sectors * 512, Model: strings.TrimSpace(string(model))})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func uptime() int64 {
	data, err := os.ReadFile(procUptime)
	if err != nil {
		return 0
	}
	f, _, _ := strings.Cut(strings.TrimSpace(string(data)), " ")
	s, err := strconv.ParseFloat(f, 64)
	if err != nil || s < 0 {
		return 0
	}
	return int64(s)
}

func readInt(path string) (int64, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
}
