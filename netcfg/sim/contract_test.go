package sim

import (
	"testing"

	"github.com/onramp-os/onramp/netcfg"
	"github.com/onramp-os/onramp/netcfg/contract"
)

// TestContract runs the backend contract against the simulation set up as
// the contract's lab.
func TestContract(t *testing.T) {
	contract.Run(t, func(t *testing.T, lab contract.Lab) contract.Env {
		ap := func(ssid string, sec netcfg.Security) AP {
			return AP{Network: netcfg.Network{SSID: ssid, BSSID: "02:00:00:00:01:00", Signal: -50, Frequency: 2412, Security: sec},
				Subnet: contract.WLANNet, TimeZone: contract.TimeZone}
		}
		office, hidden, guest, corp, legacy := ap(contract.OfficeSSID, netcfg.WPA2PSK), ap(contract.LabSSID, netcfg.WPA2PSK),
			ap(contract.GuestSSID, netcfg.Open), ap(contract.CorpSSID, netcfg.WPA2EAP), ap(contract.LegacySSID, netcfg.WEP)
		office.Key, hidden.Key, hidden.Hidden, legacy.Key = contract.OfficeKey, contract.LabKey, true, contract.LegacyKey
		corp.Username, corp.Key = contract.CorpUser, contract.CorpPass
		signal := 71
		if lab.NoSignal {
			signal = 0
		}
		return contract.Env{Net: New(Options{
			Wired: true, Carrier: true, DHCP: !lab.NoDHCP, WiredSubnet: contract.WiredNet, WiredGateway: contract.WiredGateway,
			WiredZone: contract.TimeZone, WiredDomain: contract.Domain, Servers: []string{"ums." + contract.Domain},
			WLAN: true, APs: []AP{office, hidden, guest, corp, legacy},
			Modem: &SIM{PIN: contract.PIN, Attempts: 3, Country: "DE", Provider: "T-Mobile(Telekom)", APNs: []string{contract.APN},
				Signal: signal, Address: contract.MobileAddress, Gateway: contract.MobileGateway, DNS: contract.MobileGateway},
		})}
	})
}
