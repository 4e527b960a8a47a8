package firstboot

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/onramp-os/onramp/license"
	"github.com/onramp-os/onramp/netcfg"
)

// Info is the device information every front end offers on every step
// (F1 in the screens): what support asks for.
type Info struct {
	MACs      []string // "IFACE  MAC" per link with an address
	UnitID    string   // by the onboarding NIC rules, "" without a NIC
	Addrs     []string // "IFACE  ADDRESS/PREFIX", sorted
	Hostname  string
	OSName    string
	OSVersion string
	// Licenses are the licenses on DATA, each with its state.
	Licenses []license.Status
}

// DeviceInfo gathers Info; a network that does not answer within 5 s
// leaves the network rows empty.
func DeviceInfo(cfg *Config) Info {
	ctx, cancel := context.WithTimeout(cfg.Context, 5*time.Second)
	defer cancel()
	osr := cfg.Sys.OSRelease()
	info := Info{Hostname: cfg.Sys.Hostname(), OSName: osr.Name, OSVersion: osr.Version}
	if info.OSVersion == "" {
		info.OSVersion = osr.VersionID
	}
	if cfg.Net == nil {
		info.Licenses = deviceLicenses(cfg, "")
		return info
	}
	links, _ := cfg.Net.Links(ctx)
	for _, l := range links {
		if l.MAC != "" {
			info.MACs = append(info.MACs, l.Name+"  "+strings.ToUpper(l.MAC))
		}
		for _, a := range l.Addrs {
			info.Addrs = append(info.Addrs, l.Name+"  "+a.String())
		}
	}
	sort.Strings(info.Addrs)
	if l, ok := netcfg.PreferredLink(links); ok {
		info.UnitID = netcfg.UnitID(l.MAC)
	}
	info.Licenses = deviceLicenses(cfg, info.UnitID)
	return info
}
