package netcfg

// Security is how a wireless network protects itself, as its beacon says.
type Security int

// The security types a scan tells apart.
const (
	Open Security = iota
	WEP
	WPA2PSK
	WPA3SAE
	WPA2EAP // 802.1X: PEAP works with user name + password, EAP-TLS needs certificates
)

func (s Security) String() string {
	switch s {
	case WEP:
		return "WEP"
	case WPA2PSK:
		return "WPA2"
	case WPA3SAE:
		return "WPA3"
	case WPA2EAP:
		return "WPA2-Enterprise"
	}
	return "Open"
}

// Network is one wireless network a scan found.
type Network struct {
	SSID      string
	BSSID     string
	Signal    int // dBm
	Frequency int // MHz
	Security  Security
}

// Bars is the signal as 0–4 bars.
func (n Network) Bars() int {
	switch {
	case n.Signal >= -55:
		return 4
	case n.Signal >= -67:
		return 3
	case n.Signal >= -75:
		return 2
	case n.Signal >= -85:
		return 1
	}
	return 0
}

// Auth is how the assistant authenticates to a wireless network.
type Auth string

// The authentication types ("Authentication type" on the screen).
const (
	AuthOpen Auth = "open" // no key
	AuthPSK  Auth = "psk"  // a network key (WPA2-PSK, WPA3-SAE)
	AuthWEP  Auth = "wep"  // a WEP key (5 or 13 characters, 10 or 26 hex digits)
	AuthPEAP Auth = "peap" // user name + password (WPA2-Enterprise PEAP/MSCHAPv2)
)

// AuthFor is the authentication a network of security s needs.
func AuthFor(s Security) Auth {
	switch s {
	case Open:
		return AuthOpen
	case WEP:
		return AuthWEP
	case WPA2EAP:
		return AuthPEAP
	}
	return AuthPSK
}

// WLANConfig is what joining a wireless network takes.
type WLANConfig struct {
	SSID     string
	Hidden   bool // probe for it by name (scan_ssid=1)
	Auth     Auth
	Username string // PEAP
	Key      string // network key, or the PEAP password (a secret)
}
