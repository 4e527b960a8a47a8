package contract

import (
	"errors"
	"strings"
	"testing"

	"github.com/onramp-os/onramp/netcfg"
)

// joined checks a WLAN join's status.
func joined(t *testing.T, e Env, st netcfg.Status, ssid string) {
	t.Helper()
	if !st.Online || st.Via != "wlan" || st.Link != WLAN || st.SSID != ssid || !WLANNet.Contains(st.Address.Addr()) ||
		st.Address.Bits() != WLANNet.Bits() || st.Gateway != WLANGateway || st.TimeZone != TimeZone {
		t.Errorf("%s: status %+v", ssid, st)
	}
	now, err := e.Net.Status(ctx(t))
	if err != nil || now.SSID != ssid || now.Address != st.Address || now.Via != "wlan" {
		t.Errorf("%s: Status %+v, %v", ssid, now, err)
	}
	judge(t, e, st)
}

func testWLANJoin(t *testing.T, e Env) {
	var s stages
	st, err := e.Net.JoinWLAN(ctx(t), WLAN, netcfg.WLANConfig{SSID: OfficeSSID, Auth: netcfg.AuthPSK, Key: OfficeKey}, s.report)
	if err != nil {
		t.Fatal(err)
	}
	joined(t, e, st, OfficeSSID)
	if !s.has(netcfg.StageAssociating, netcfg.StageAuthenticate, netcfg.StageAddress) {
		t.Errorf("stages %v", s)
	}
}

// wrong checks that a join fails with want and keeps the secret out of
// the error.
func wrong(t *testing.T, e Env, c netcfg.WLANConfig, want error) {
	t.Helper()
	_, err := e.Net.JoinWLAN(ctx(t), WLAN, c, nil)
	if !errors.Is(err, want) {
		t.Errorf("%s: err = %v, want %v", c.SSID, err, want)
		return
	}
	if c.Key != "" && strings.Contains(err.Error(), c.Key) {
		t.Errorf("%s: the error shows the key: %v", c.SSID, err)
	}
}

func testWLANWrongKey(t *testing.T, e Env) {
	wrong(t, e, netcfg.WLANConfig{SSID: OfficeSSID, Auth: netcfg.AuthPSK, Key: "not-the-office-key"}, netcfg.ErrWrongKey)
	if st, _ := e.Net.Status(ctx(t)); st.Via == "wlan" {
		t.Errorf("joined with a wrong key: %+v", st)
	}
}

func testWLANHidden(t *testing.T, e Env) {
	// Not asked for by name, a hidden network is not found.
	wrong(t, e, netcfg.WLANConfig{SSID: LabSSID, Auth: netcfg.AuthPSK, Key: LabKey}, netcfg.ErrNotFound)
	st, err := e.Net.JoinWLAN(ctx(t), WLAN, netcfg.WLANConfig{SSID: LabSSID, Hidden: true, Auth: netcfg.AuthPSK, Key: LabKey}, nil)
	if err != nil {
		t.Fatal(err)
	}
	joined(t, e, st, LabSSID)
}

func testWLANOpenAndPEAP(t *testing.T, e Env) {
	wrong(t, e, netcfg.WLANConfig{SSID: CorpSSID, Auth: netcfg.AuthPEAP, Username: CorpUser, Key: "not-wonderland"}, netcfg.ErrAuthFailed)
	st, err := e.Net.JoinWLAN(ctx(t), WLAN, netcfg.WLANConfig{SSID: CorpSSID, Auth: netcfg.AuthPEAP, Username: CorpUser, Key: CorpPass}, nil)
	if err != nil {
		t.Fatal(err)
	}
	joined(t, e, st, CorpSSID)
	if st, err = e.Net.JoinWLAN(ctx(t), WLAN, netcfg.WLANConfig{SSID: GuestSSID, Auth: netcfg.AuthOpen}, nil); err != nil {
		t.Fatal(err)
	}
	joined(t, e, st, GuestSSID)
}

func testWLANWEP(t *testing.T, e Env) {
	if got := field(netcfg.ValidateWLAN(netcfg.WLANConfig{SSID: LegacySSID, Auth: netcfg.AuthWEP, Key: "123456"})); got != "key" {
		t.Errorf("a 6-character WEP key: field %q", got)
	}
	if _, err := e.Net.JoinWLAN(ctx(t), WLAN, netcfg.WLANConfig{SSID: LegacySSID, Auth: netcfg.AuthWEP, Key: "0123456789abcdef012345678g"}, nil); field(err) != "key" {
		t.Errorf("a WEP key with a non-hex digit: %v", err)
	}
	wrong(t, e, netcfg.WLANConfig{SSID: LegacySSID, Auth: netcfg.AuthWEP, Key: "not-the-key!!"}, netcfg.ErrWrongKey)
	st, err := e.Net.JoinWLAN(ctx(t), WLAN, netcfg.WLANConfig{SSID: LegacySSID, Auth: netcfg.AuthWEP, Key: LegacyKey}, nil)
	if err != nil {
		t.Fatal(err)
	}
	joined(t, e, st, LegacySSID)
}

func testWLANInvalid(t *testing.T, e Env) {
	for want, c := range map[string]netcfg.WLANConfig{
		"ssid":     {SSID: strings.Repeat("x", 33), Auth: netcfg.AuthOpen},
		"key":      {SSID: OfficeSSID, Auth: netcfg.AuthPSK, Key: "short"},
		"username": {SSID: CorpSSID, Auth: netcfg.AuthPEAP, Key: CorpPass},
		"auth":     {SSID: OfficeSSID, Auth: "wpa9"},
	} {
		if _, err := e.Net.JoinWLAN(ctx(t), WLAN, c, nil); field(err) != want {
			t.Errorf("%+v: %v, want a %s field error", c.SSID, err, want)
		}
	}
}
