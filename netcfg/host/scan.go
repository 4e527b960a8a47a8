package host

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"sort"
	"time"

	"github.com/mdlayher/genetlink"
	"github.com/mdlayher/netlink"
	"github.com/mdlayher/wifi"
	"golang.org/x/sys/unix"

	"github.com/onramp-os/onramp/netcfg"
)

// Scan asks the interface's radio for a fresh scan (mdlayher/wifi, which
// waits for nl80211's "new scan results") and reads the results with the
// information elements mdlayher/wifi does not expose (WPA IE, privacy
// bit), one entry per network name, strongest first. Hidden networks
// (empty SSID) are left out: they are joined by name.
func (b *Backend) Scan(ctx context.Context, iface string) ([]netcfg.Network, error) {
	l, err := linkByName(iface)
	if err != nil {
		return nil, err
	}
	c, err := wifi.New()
	if err != nil {
		return nil, fmt.Errorf("%s: nl80211: %w", iface, err)
	}
	defer c.Close()
	ifis, err := c.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("%s: list wireless interfaces: %w", iface, err)
	}
	var ifi *wifi.Interface
	for _, i := range ifis {
		if i.Index == l.Attrs().Index {
			ifi = i
		}
	}
	if ifi == nil {
		return nil, fmt.Errorf("%s is not a wireless interface: %w", iface, netcfg.ErrNoSuchLink)
	}
	if err := netlinkSetUp(iface); err != nil {
		return nil, err
	}
	sctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	// A busy radio (wpa_supplicant scanning) has results all the same.
	if err := c.Scan(sctx, ifi); err != nil && !errors.Is(err, unix.EBUSY) {
		return nil, fmt.Errorf("%s: scan: %w", iface, err)
	}
	conn, err := genetlink.Dial(nil)
	if err != nil {
		return nil, fmt.Errorf("%s: generic netlink: %w", iface, err)
	}
	defer conn.Close()
	return scanResults(conn, ifi.Index)
}

// scanResults dumps nl80211's scan results for an interface and turns
// them into the networks a user picks from.
func scanResults(conn *genetlink.Conn, ifindex int) ([]netcfg.Network, error) {
	fam, err := conn.GetFamily(unix.NL80211_GENL_NAME)
	if err != nil {
		return nil, fmt.Errorf("nl80211: %w", err)
	}
	enc := netlink.NewAttributeEncoder()
	enc.Uint32(unix.NL80211_ATTR_IFINDEX, uint32(ifindex))
	data, err := enc.Encode()
	if err != nil {
		return nil, err
	}
	msgs, err := conn.Execute(genetlink.Message{
		Header: genetlink.Header{Command: unix.NL80211_CMD_GET_SCAN, Version: fam.Version},
		Data:   data,
	}, fam.ID, netlink.Request|netlink.Dump)
	if err != nil {
		return nil, fmt.Errorf("read scan results: %w", err)
	}
	best := map[string]netcfg.Network{}
	for _, m := range msgs {
		n, ok, err := parseScanMessage(m.Data)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		if old, seen := best[n.SSID]; !seen || n.Signal > old.Signal {
			best[n.SSID] = n
		}
	}
	out := make([]netcfg.Network, 0, len(best))
	for _, n := range best {
		out = append(out, n)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Signal != out[j].Signal {
			return out[i].Signal > out[j].Signal
		}
		return out[i].SSID < out[j].SSID
	})
	return out, nil
}

// parseScanMessage reads one NL80211_CMD_NEW_SCAN_RESULTS message; ok is
// false for a hidden network or a message without a BSS.
func parseScanMessage(data []byte) (netcfg.Network, bool, error) {
	ad, err := netlink.NewAttributeDecoder(data)
	if err != nil {
		return netcfg.Network{}, false, fmt.Errorf("scan result: %w", err)
	}
	var n netcfg.Network
	var ies []byte
	var capab uint16
	found := false
	for ad.Next() {
		if ad.Type() != unix.NL80211_ATTR_BSS {
			continue
		}
		found = true
		ad.Nested(func(bd *netlink.AttributeDecoder) error {
			for bd.Next() {
				switch bd.Type() {
				case unix.NL80211_BSS_BSSID:
					n.BSSID = net.HardwareAddr(bd.Bytes()).String()
				case unix.NL80211_BSS_FREQUENCY:
					n.Frequency = int(bd.Uint32())
				case unix.NL80211_BSS_SIGNAL_MBM:
					n.Signal = int(int32(bd.Uint32())) / 100
				case unix.NL80211_BSS_CAPABILITY:
					capab = bd.Uint16()
				case unix.NL80211_BSS_INFORMATION_ELEMENTS:
					ies = bd.Bytes()
				case unix.NL80211_BSS_BEACON_IES:
					if ies == nil {
						ies = bd.Bytes()
					}
				}
			}
			return nil
		})
	}
	if err := ad.Err(); err != nil {
		return netcfg.Network{}, false, fmt.Errorf("scan result: %w", err)
	}
	if !found {
		return netcfg.Network{}, false, nil
	}
	e := parseIEs(ies)
	if e.ssid == "" {
		return netcfg.Network{}, false, nil // hidden
	}
	n.SSID = e.ssid
	n.Security = security(e, capab&capPrivacy != 0)
	return n, true, nil
}

// capPrivacy is the "Privacy" bit of the capability field: the network
// encrypts (WEP when no RSN/WPA element says otherwise).
const capPrivacy = 1 << 4

// ies is what a beacon's information elements say about security.
type ies struct {
	ssid string
	rsn  []uint32 // AKM suites of the RSN element (OUI<<8 | type)
	wpa  []uint32 // AKM suites of the WPA vendor element
	hasR bool     // an RSN element is present
	hasW bool     // a WPA element is present
}

// Element IDs and suite OUIs (IEEE 802.11-2020, 9.4.2).
const (
	ieSSID   = 0
	ieRSN    = 48
	ieVendor = 221
	ouiIEEE  = 0x000fac // RSN suites
	ouiMS    = 0x0050f2 // WPA (version 1) suites and element
)

func parseIEs(b []byte) ies {
	var e ies
	for len(b) >= 2 {
		id, l := b[0], int(b[1])
		if len(b) < 2+l {
			break
		}
		body := b[2 : 2+l]
		switch {
		case id == ieSSID:
			if len(bytes.Trim(body, "\x00")) > 0 {
				e.ssid = string(body)
			}
		case id == ieRSN:
			e.hasR, e.rsn = true, akms(body, 2)
		case id == ieVendor && len(body) >= 4 && bytes.Equal(body[:4], []byte{0x00, 0x50, 0xf2, 0x01}):
			e.hasW, e.wpa = true, akms(body[4:], 2)
		}
		b = b[2+l:]
	}
	return e
}

// akms reads the AKM suite list of an RSN or WPA element body starting at
// off (after the version): group cipher, pairwise list, AKM list.
func akms(b []byte, off int) []uint32 {
	if len(b) < off+4+2 {
		return nil
	}
	p := off + 4
	n := int(binary.LittleEndian.Uint16(b[p:]))
	p += 2 + 4*n
	if len(b) < p+2 {
		return nil
	}
	n = int(binary.LittleEndian.Uint16(b[p:]))
	p += 2
	var out []uint32
	for i := 0; i < n && len(b) >= p+4; i, p = i+1, p+4 {
		out = append(out, binary.BigEndian.Uint32(b[p:p+4]))
	}
	return out
}

// security classifies a network by its AKM suites: 802.1X is
// WPA2-Enterprise; PSK (alone or in WPA3 transition mode) WPA2-PSK, since
// a passphrase joins either way; SAE alone WPA3-SAE; privacy without RSN
// or WPA elements is WEP.
func security(e ies, privacy bool) netcfg.Security {
	has := func(suites []uint32, oui uint32, types ...uint32) bool {
		for _, s := range suites {
			for _, t := range types {
				if s == oui<<8|t {
					return true
				}
			}
		}
		return false
	}
	switch {
	case has(e.rsn, ouiIEEE, 1, 3, 5, 11, 12, 13) || has(e.wpa, ouiMS, 1):
		return netcfg.WPA2EAP
	case has(e.rsn, ouiIEEE, 2, 4, 6) || has(e.wpa, ouiMS, 2):
		return netcfg.WPA2PSK
	case has(e.rsn, ouiIEEE, 8, 9):
		return netcfg.WPA3SAE
	case e.hasR || e.hasW:
		return netcfg.WPA2PSK // unknown suites: a key is the best guess
	case privacy:
		return netcfg.WEP
	}
	return netcfg.Open
}
