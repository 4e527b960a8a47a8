// Package contract is the behaviour every netcfg.Backend owes the setup
// assistant, written once as tests: the simulated backend (netcfg/sim)
// and the real one (netcfg/host, in network namespaces with dnsmasq, a
// private D-Bus with a ModemManager and a scripted wpa_supplicant) both
// run it, so the demo cannot drift from the device. It is imported by
// tests only.
//
// The suite runs against a lab whose facts are fixed here: each backend's
// test builds that lab its own way (options of the simulation, namespaces
// and real servers for the host).
package contract

import (
	"net/netip"
	"testing"

	"github.com/onramp-os/onramp/netcfg"
)

// The lab: a wired LAN, a WLAN with several networks, a modem.
const (
	// Wired is the wired link; its LAN (192.0.2.0/24) has a gateway and
	// name server at .1 and, unless Lab.NoDHCP, a DHCP server handing out
	// addresses from .100 to .150 with the domain and time zone below.
	Wired    = "eth0"
	Domain   = "lab.example"
	TimeZone = "America/Argentina/Buenos_Aires"

	// WLAN is the wireless link; every network's DHCP server hands out
	// 198.51.100.100-150 with the gateway and name server at .1.
	WLAN = "wlan0"

	OfficeSSID = "Office" // visible WPA2-PSK
	OfficeKey  = "office-secret-42"
	LabSSID    = "Lab" // hidden WPA2-PSK
	LabKey     = "lab-secret-2026"
	GuestSSID  = "Guest" // open
	CorpSSID   = "Corp"  // WPA2-EAP, PEAP/MSCHAPv2
	CorpUser   = "alice"
	CorpPass   = "wonderland"
	LegacySSID = "Legacy" // WEP-104, open-system authentication
	LegacyKey  = "onramp-wep-13"

	// Modem is the modem's ID, WWAN its network interface. Its SIM wants
	// PIN with three attempts; the provider accepts APN only (with the
	// user name and password, where the backend's provider checks them)
	// and gives the bearer MobileAddress via MobileGateway, which also
	// serves DNS.
	Modem       = "0"
	WWAN        = "wwan0"
	PIN         = "1234"
	APN         = "internet.telekom"
	APNUser     = "telekom"
	APNPassword = "tm"
)

// Addresses of the lab.
var (
	WiredNet       = netip.MustParsePrefix("192.0.2.0/24")
	WiredGateway   = netip.MustParseAddr("192.0.2.1")
	WiredPoolFirst = netip.MustParseAddr("192.0.2.100")
	WiredPoolLast  = netip.MustParseAddr("192.0.2.150")
	WLANNet        = netip.MustParsePrefix("198.51.100.0/24")
	WLANGateway    = netip.MustParseAddr("198.51.100.1")
	MobileAddress  = netip.MustParsePrefix("203.0.113.7/24")
	MobileGateway  = netip.MustParseAddr("203.0.113.1")
)

// Lab varies the lab for a test.
type Lab struct {
	NoDHCP   bool // the wired LAN's DHCP server is silent (DNS still answers)
	NoSignal bool // the modem has no network
}

// Env is one backend on a fresh lab.
type Env struct {
	Net netcfg.Backend
	// Judge, when set, checks with a tool independent of the backend that
	// the system holds what a Status says (the host's: iproute2).
	Judge func(t *testing.T, st netcfg.Status)
}

// Run runs the suite; newEnv builds a fresh lab for each test.
func Run(t *testing.T, newEnv func(t *testing.T, lab Lab) Env) {
	for _, tc := range []struct {
		name string
		lab  Lab
		run  func(*testing.T, Env)
	}{
		{"Links", Lab{}, testLinks},
		{"WiredDHCP", Lab{}, testWiredDHCP},
		{"WiredNoDHCP", Lab{NoDHCP: true}, testWiredNoDHCP},
		{"WiredStatic", Lab{NoDHCP: true}, testWiredStatic},
		{"WiredStaticInvalid", Lab{}, testWiredStaticInvalid},
		{"WiredStaticGatewaySilent", Lab{}, testWiredGatewaySilent},
		{"WiredTargetSilent", Lab{}, testWiredTargetSilent},
		{"NoSuchLink", Lab{}, testNoSuchLink},
		{"WLANJoin", Lab{}, testWLANJoin},
		{"WLANWrongKey", Lab{}, testWLANWrongKey},
		{"WLANHidden", Lab{}, testWLANHidden},
		{"WLANOpenAndPEAP", Lab{}, testWLANOpenAndPEAP},
		{"WLANWEP", Lab{}, testWLANWEP},
		{"WLANInvalid", Lab{}, testWLANInvalid},
		{"ModemPINAndConnect", Lab{}, testModem},
		{"ModemBlocked", Lab{}, testModemBlocked},
		{"ModemNoSignal", Lab{NoSignal: true}, testModemNoSignal},
		{"Providers", Lab{}, testProviders},
		{"Persisted", Lab{NoDHCP: true}, testPersisted},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, newEnv(t, tc.lab)) })
	}
}
