package host

import (
	"encoding/binary"
	"net"
	"testing"

	"github.com/mdlayher/genetlink"
	"github.com/mdlayher/genetlink/genltest"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/onramp-os/onramp/netcfg"
)

// bss describes one scan result as nl80211 sends it.
type bss struct {
	ssid    string
	bssid   string
	freq    uint32
	mbm     int32
	privacy bool
	extra   []byte // further information elements
}

func ie(id byte, body []byte) []byte { return append([]byte{id, byte(len(body))}, body...) }

// rsnIE is an RSN element with CCMP and the given AKM suite types.
func rsnIE(akm ...byte) []byte {
	b := []byte{1, 0, 0x00, 0x0f, 0xac, 4, 1, 0, 0x00, 0x0f, 0xac, 4}
	b = binary.LittleEndian.AppendUint16(b, uint16(len(akm)))
	for _, a := range akm {
		b = append(b, 0x00, 0x0f, 0xac, a)
	}
	return ie(48, append(b, 0, 0))
}

// wpaIE is a WPA (version 1) vendor element with TKIP and one AKM.
func wpaIE(akm byte) []byte {
	return ie(221, []byte{0x00, 0x50, 0xf2, 1, 1, 0, 0x00, 0x50, 0xf2, 2, 1, 0, 0x00, 0x50, 0xf2, 2, 1, 0, 0x00, 0x50, 0xf2, akm})
}

func (b bss) message(t *testing.T) genetlink.Message {
	t.Helper()
	mac, err := net.ParseMAC(b.bssid)
	if err != nil {
		t.Fatal(err)
	}
	var capab uint16 = 1 // ESS
	if b.privacy {
		capab |= 1 << 4
	}
	enc := netlink.NewAttributeEncoder()
	enc.Uint32(unix.NL80211_ATTR_IFINDEX, 3)
	enc.Nested(unix.NL80211_ATTR_BSS, func(ae *netlink.AttributeEncoder) error {
		ae.Bytes(unix.NL80211_BSS_BSSID, mac)
		ae.Uint32(unix.NL80211_BSS_FREQUENCY, b.freq)
		ae.Uint32(unix.NL80211_BSS_SIGNAL_MBM, uint32(b.mbm))
		ae.Uint16(unix.NL80211_BSS_CAPABILITY, capab)
		ae.Bytes(unix.NL80211_BSS_INFORMATION_ELEMENTS, append(ie(0, []byte(b.ssid)), b.extra...))
		return nil
	})
	data, err := enc.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return genetlink.Message{Header: genetlink.Header{Command: unix.NL80211_CMD_NEW_SCAN_RESULTS}, Data: data}
}

func TestScanResults(t *testing.T) {
	results := []bss{
		{ssid: "Office", bssid: "02:00:00:00:01:00", freq: 5180, mbm: -4800, privacy: true, extra: rsnIE(2)},
		{ssid: "Office", bssid: "02:00:00:00:01:01", freq: 2412, mbm: -7100, privacy: true, extra: rsnIE(2)},
		{ssid: "Guest", bssid: "02:00:00:00:02:00", freq: 2437, mbm: -6100},
		{ssid: "Corp", bssid: "02:00:00:00:03:00", freq: 5240, mbm: -5700, privacy: true, extra: rsnIE(1)},
		{ssid: "Home", bssid: "02:00:00:00:04:00", freq: 2462, mbm: -8000, privacy: true, extra: rsnIE(8)},
		{ssid: "Mixed", bssid: "02:00:00:00:05:00", freq: 2462, mbm: -6600, privacy: true, extra: rsnIE(2, 8)},
		{ssid: "Old", bssid: "02:00:00:00:06:00", freq: 2412, mbm: -9000, privacy: true},
		{ssid: "OldWPA", bssid: "02:00:00:00:07:00", freq: 2412, mbm: -7600, privacy: true, extra: wpaIE(2)},
		{ssid: "", bssid: "02:00:00:00:08:00", freq: 2412, mbm: -4000, privacy: true, extra: rsnIE(2)},
		{ssid: "\x00\x00\x00\x00", bssid: "02:00:00:00:09:00", freq: 2412, mbm: -4000, privacy: true, extra: rsnIE(2)},
	}
	family := genetlink.Family{ID: 28, Version: 1, Name: unix.NL80211_GENL_NAME}
	conn := genltest.Dial(genltest.ServeFamily(family, func(greq genetlink.Message, nreq netlink.Message) ([]genetlink.Message, error) {
		if greq.Header.Command != unix.NL80211_CMD_GET_SCAN || nreq.Header.Flags&netlink.Dump == 0 {
			t.Errorf("request %+v %+v", greq.Header, nreq.Header)
		}
		ad, _ := netlink.NewAttributeDecoder(greq.Data)
		for ad.Next() {
			if ad.Type() == unix.NL80211_ATTR_IFINDEX && ad.Uint32() != 3 {
				t.Errorf("ifindex %d", ad.Uint32())
			}
		}
		var msgs []genetlink.Message
		for _, r := range results {
			msgs = append(msgs, r.message(t))
		}
		return msgs, nil
	}))
	defer conn.Close()
	got, err := scanResults(conn, 3)
	if err != nil {
		t.Fatal(err)
	}
	want := []netcfg.Network{
		{SSID: "Office", BSSID: "02:00:00:00:01:00", Signal: -48, Frequency: 5180, Security: netcfg.WPA2PSK},
		{SSID: "Corp", BSSID: "02:00:00:00:03:00", Signal: -57, Frequency: 5240, Security: netcfg.WPA2EAP},
		{SSID: "Guest", BSSID: "02:00:00:00:02:00", Signal: -61, Frequency: 2437, Security: netcfg.Open},
		{SSID: "Mixed", BSSID: "02:00:00:00:05:00", Signal: -66, Frequency: 2462, Security: netcfg.WPA2PSK},
		{SSID: "OldWPA", BSSID: "02:00:00:00:07:00", Signal: -76, Frequency: 2412, Security: netcfg.WPA2PSK},
		{SSID: "Home", BSSID: "02:00:00:00:04:00", Signal: -80, Frequency: 2462, Security: netcfg.WPA3SAE},
		{SSID: "Old", BSSID: "02:00:00:00:06:00", Signal: -90, Frequency: 2412, Security: netcfg.WEP},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d networks: %+v", len(got), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("#%d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if got[0].Bars() != 4 || got[6].Bars() != 0 {
		t.Errorf("bars %d %d", got[0].Bars(), got[6].Bars())
	}
}

func TestParseIEsTruncated(t *testing.T) {
	// Truncated elements and suite lists are read as far as they go.
	for _, b := range [][]byte{{0, 5, 'a'}, {48, 3, 1, 0, 0}, append(ie(0, []byte("x")), 48, 8, 1, 0, 0, 0x0f, 0xac, 4, 9, 0)} {
		e := parseIEs(b)
		_ = security(e, true)
	}
	if e := parseIEs(append(ie(0, []byte("Net")), rsnIE(8)...)); e.ssid != "Net" || security(e, true) != netcfg.WPA3SAE {
		t.Errorf("%+v", e)
	}
}
