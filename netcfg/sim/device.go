package sim

import (
	"net/netip"
	"time"

	"github.com/onramp-os/onramp/netcfg"
)

func mustPrefix(s string) netip.Prefix { return netip.MustParsePrefix(s) }
func mustAddr(s string) netip.Addr     { return netip.MustParseAddr(s) }

// Keys of the demo device's networks, for the demo's hints and for tests.
const (
	OfficeKey    = "office-secret-42"
	LabSSID      = "Onramp-Lab" // hidden
	LabKey       = "lab-secret-2026"
	CorpUser     = "alice"
	CorpPassword = "wonderland"
	HomeKey      = "correct horse battery"
	SIMPIN       = "1234"
	GuestPortal  = "http://portal.guest.example/login?network=Guest" // the Guest network's captive portal
)

// DemoOptions is the device of DESIGN.md's demo: a wired link whose LAN
// gives no DHCP answer (so the network screen shows), several WLANs incl.
// a hidden one, one that needs certificates and one behind a captive
// portal, and a modem with a
// PIN-locked SIM. Static wired addresses work in 192.0.2.0/24 behind
// 192.0.2.1.
func DemoOptions(step time.Duration) Options {
	return Options{
		Wired: true, Carrier: true, DHCP: false,
		WiredSubnet: mustPrefix("192.0.2.0/24"), WiredGateway: mustAddr("192.0.2.1"), WiredZone: "Europe/Berlin",
		WLAN: true,
		APs: []AP{
			{Network: netcfg.Network{SSID: "Office", BSSID: "02:00:00:00:01:00", Signal: -48, Frequency: 5180, Security: netcfg.WPA2PSK},
				Key: OfficeKey, Subnet: mustPrefix("10.20.0.0/24"), TimeZone: "Europe/Berlin"},
			{Network: netcfg.Network{SSID: "Guest", BSSID: "02:00:00:00:02:00", Signal: -61, Frequency: 2437, Security: netcfg.Open},
				Subnet: mustPrefix("10.30.0.0/24"), Portal: GuestPortal},
			{Network: netcfg.Network{SSID: "Corp", BSSID: "02:00:00:00:03:00", Signal: -57, Frequency: 5240, Security: netcfg.WPA2EAP},
				Username: CorpUser, Key: CorpPassword, Subnet: mustPrefix("10.40.0.0/24"), TimeZone: "Europe/Berlin"},
			{Network: netcfg.Network{SSID: "Corp-Devices", BSSID: "02:00:00:00:04:00", Signal: -66, Frequency: 5260, Security: netcfg.WPA2EAP},
				Certificates: true, Subnet: mustPrefix("10.50.0.0/24")},
			{Network: netcfg.Network{SSID: "Home-5G", BSSID: "02:00:00:00:05:00", Signal: -79, Frequency: 5500, Security: netcfg.WPA3SAE},
				Key: HomeKey, Subnet: mustPrefix("192.168.178.0/24")},
			{Network: netcfg.Network{SSID: LabSSID, BSSID: "02:00:00:00:06:00", Signal: -52, Frequency: 5200, Security: netcfg.WPA2PSK},
				Hidden: true, Key: LabKey, Subnet: mustPrefix("10.60.0.0/24"), TimeZone: "Europe/Berlin"},
		},
		Modem: &SIM{PIN: SIMPIN, Attempts: 3, Country: "DE", Provider: "T-Mobile(Telekom)", APNs: []string{"internet.telekom"}, Signal: 71},
		Step:  step,
	}
}

// Providers is a small provider database in the shape of
// mobile-broadband-provider-info.
var Providers = netcfg.StaticProviders{
	Names: map[string]string{"AT": "Austria", "CH": "Switzerland", "DE": "Germany", "ES": "Spain", "FR": "France",
		"GB": "United Kingdom", "IT": "Italy", "NL": "Netherlands", "PL": "Poland", "PT": "Portugal", "US": "United States"},
	List: map[string][]netcfg.Provider{
		"AT": {{Name: "A1", APNs: []netcfg.APN{{Name: "A1.net", Username: "ppp@a1plus.at", Password: "ppp"}}}, {Name: "Magenta", APNs: []netcfg.APN{{Name: "gprsinternet"}}}},
		"CH": {{Name: "Swisscom", APNs: []netcfg.APN{{Name: "gprs.swisscom.ch"}}}, {Name: "Sunrise", APNs: []netcfg.APN{{Name: "internet"}}}},
		"DE": {
			{Name: "T-Mobile(Telekom)", APNs: []netcfg.APN{{Name: "internet.telekom", Label: "Internet"}, {Name: "internet.v6.telekom", Label: "Internet (IPv6)"}}},
			{Name: "Vodafone", APNs: []netcfg.APN{{Name: "web.vodafone.de"}}},
			{Name: "O2", APNs: []netcfg.APN{{Name: "internet"}}},
		},
		"ES": {{Name: "Movistar", APNs: []netcfg.APN{{Name: "movistar.es", Username: "MOVISTAR", Password: "MOVISTAR"}}}, {Name: "Orange", APNs: []netcfg.APN{{Name: "orangeworld"}}}},
		"FR": {{Name: "Orange", APNs: []netcfg.APN{{Name: "orange"}}}, {Name: "SFR", APNs: []netcfg.APN{{Name: "sl2sfr"}}}, {Name: "Free", APNs: []netcfg.APN{{Name: "free"}}}},
		"GB": {{Name: "EE", APNs: []netcfg.APN{{Name: "everywhere", Username: "eesecure", Password: "secure"}}}, {Name: "Vodafone", APNs: []netcfg.APN{{Name: "internet"}}}},
		"IT": {{Name: "TIM", APNs: []netcfg.APN{{Name: "ibox.tim.it"}}}, {Name: "Vodafone", APNs: []netcfg.APN{{Name: "mobile.vodafone.it"}}}},
		"NL": {{Name: "KPN", APNs: []netcfg.APN{{Name: "KPN4G.nl"}}}, {Name: "Odido", APNs: []netcfg.APN{{Name: "internet"}}}},
		"PL": {{Name: "Orange", APNs: []netcfg.APN{{Name: "internet"}}}, {Name: "Play", APNs: []netcfg.APN{{Name: "internet"}}}},
		"PT": {{Name: "MEO", APNs: []netcfg.APN{{Name: "internet"}}}, {Name: "NOS", APNs: []netcfg.APN{{Name: "internet.nos.pt"}}}},
		"US": {{Name: "AT&T", APNs: []netcfg.APN{{Name: "broadband"}}}, {Name: "T-Mobile", APNs: []netcfg.APN{{Name: "fast.t-mobile.com"}}}},
	},
}

// Providers returns the simulated provider database.
func (n *Net) Providers() netcfg.ProviderDB { return Providers }

var _ netcfg.Backend = (*Net)(nil)
