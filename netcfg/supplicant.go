package netcfg

import (
	"fmt"
	"strings"
)

// SupplicantSetting is one wpa_supplicant network variable, written the way
// wpa_supplicant reads it (quoted string or bare hex/keyword). Secret ones
// (keys, passwords) never go into errors or logs.
type SupplicantSetting struct {
	Name, Value string
	Secret      bool
}

// SupplicantSettings are the wpa_supplicant network variables joining c
// takes: the one description of a network both the live join (over the
// control interface) and the installed OS's configuration file use.
// key_mgmt "WPA-PSK SAE" with optional management-frame protection joins
// WPA2-PSK, WPA3-SAE and transition-mode networks with the same key; WEP
// is key_mgmt NONE with the key as wep_key0.
func SupplicantSettings(c WLANConfig) []SupplicantSetting {
	s := []SupplicantSetting{{Name: "ssid", Value: supplicantSSID(c.SSID)}}
	if c.Hidden {
		s = append(s, SupplicantSetting{Name: "scan_ssid", Value: "1"})
	}
	switch c.Auth {
	case AuthOpen:
		s = append(s, SupplicantSetting{Name: "key_mgmt", Value: "NONE"})
	case AuthWEP:
		key := quote(c.Key)
		if len(c.Key) == 10 || len(c.Key) == 26 {
			key = strings.ToLower(c.Key) // hex digits (ValidateWEPKey)
		}
		s = append(s, SupplicantSetting{Name: "key_mgmt", Value: "NONE"},
			SupplicantSetting{Name: "wep_key0", Value: key, Secret: true},
			SupplicantSetting{Name: "wep_tx_keyidx", Value: "0"})
	case AuthPSK:
		s = append(s, SupplicantSetting{Name: "key_mgmt", Value: "WPA-PSK SAE"}, SupplicantSetting{Name: "ieee80211w", Value: "1"})
		if len(c.Key) == 64 && isHex(c.Key) {
			s = append(s, SupplicantSetting{Name: "psk", Value: strings.ToLower(c.Key), Secret: true})
		} else {
			s = append(s, SupplicantSetting{Name: "psk", Value: quote(c.Key), Secret: true})
		}
	case AuthPEAP:
		s = append(s, SupplicantSetting{Name: "key_mgmt", Value: "WPA-EAP"}, SupplicantSetting{Name: "eap", Value: "PEAP"},
			SupplicantSetting{Name: "identity", Value: quote(c.Username)},
			SupplicantSetting{Name: "password", Value: quote(c.Key), Secret: true},
			SupplicantSetting{Name: "phase2", Value: `"auth=MSCHAPV2"`})
	}
	return s
}

// quote writes a wpa_supplicant string: it takes everything between the
// first and the last double quote literally, so quotes and backslashes
// inside need no escaping (validation keeps newlines out).
func quote(s string) string { return `"` + s + `"` }

// supplicantSSID quotes a printable SSID and writes any other (control
// characters, non-ASCII bytes, a double quote) as hex, as wpa_supplicant
// reads them: an SSID is 0–32 arbitrary bytes.
func supplicantSSID(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e || s[i] == '"' {
			return fmt.Sprintf("%x", s)
		}
	}
	return quote(s)
}
