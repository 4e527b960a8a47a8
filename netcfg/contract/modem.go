package contract

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/onramp-os/onramp/netcfg"
)

func modem(t *testing.T, e Env) netcfg.Modem {
	t.Helper()
	ms, err := e.Net.Modems(ctx(t))
	if err != nil || len(ms) != 1 {
		t.Fatalf("Modems = %+v, %v", ms, err)
	}
	return ms[0]
}

func testModem(t *testing.T, e Env) {
	m := modem(t, e)
	if m.ID != Modem || !m.Locked || m.Attempts != 3 || m.Blocked || m.Interface != WWAN || m.Signal == 0 {
		t.Errorf("modem %+v", m)
	}
	if _, err := e.Net.ConnectMobile(ctx(t), Modem, netcfg.MobileConfig{APN: APN}, nil); !errors.Is(err, netcfg.ErrWrongPIN) {
		t.Errorf("connect while locked: %v", err)
	}
	if _, err := e.Net.UnlockSIM(ctx(t), Modem, "12a4"); field(err) != "pin" {
		t.Errorf("PIN with a letter: %v", err)
	}
	m, err := e.Net.UnlockSIM(ctx(t), Modem, "9999")
	if !errors.Is(err, netcfg.ErrWrongPIN) || !m.Locked || m.Attempts != 2 || strings.Contains(err.Error(), "9999") {
		t.Errorf("wrong PIN: %+v, %v", m, err)
	}
	if m, err = e.Net.UnlockSIM(ctx(t), Modem, PIN); err != nil || m.Locked {
		t.Fatalf("right PIN: %+v, %v", m, err)
	}
	if _, err := e.Net.ConnectMobile(ctx(t), Modem, netcfg.MobileConfig{APN: "bad apn"}, nil); field(err) != "apn" {
		t.Errorf("APN with a space: %v", err)
	}
	if _, err := e.Net.ConnectMobile(ctx(t), Modem, netcfg.MobileConfig{APN: "web.example"}, nil); !errors.Is(err, netcfg.ErrAPNRefused) {
		t.Errorf("unknown APN: %v", err)
	}
	var s stages
	st, err := e.Net.ConnectMobile(ctx(t), Modem, netcfg.MobileConfig{APN: APN, Username: APNUser, Password: APNPassword}, s.report)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Online || st.Via != "mobile" || st.Link != WWAN || st.Address != MobileAddress || st.Gateway != MobileGateway {
		t.Errorf("status %+v", st)
	}
	if !s.has(netcfg.StageRegistering, netcfg.StageAddress) {
		t.Errorf("stages %v", s)
	}
	if now, err := e.Net.Status(ctx(t)); err != nil || now.Via != "mobile" || now.Address != MobileAddress {
		t.Errorf("Status %+v, %v", now, err)
	}
	judge(t, e, st)
}

func testModemBlocked(t *testing.T, e Env) {
	var err error
	for i := 0; i < 3; i++ {
		_, err = e.Net.UnlockSIM(ctx(t), Modem, "0000")
	}
	if !errors.Is(err, netcfg.ErrSIMBlocked) {
		t.Errorf("third wrong PIN: %v", err)
	}
	if m := modem(t, e); !m.Blocked || m.Locked {
		t.Errorf("after three wrong PINs: %+v", m)
	}
	if _, err := e.Net.UnlockSIM(ctx(t), Modem, PIN); !errors.Is(err, netcfg.ErrSIMBlocked) {
		t.Errorf("the right PIN on a blocked SIM: %v", err)
	}
}

func testModemNoSignal(t *testing.T, e Env) {
	if _, err := e.Net.UnlockSIM(ctx(t), Modem, PIN); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Net.ConnectMobile(ctx(t), Modem, netcfg.MobileConfig{APN: APN}, nil); !errors.Is(err, netcfg.ErrNoSignal) {
		t.Errorf("no signal: %v", err)
	}
}

func testProviders(t *testing.T, e Env) {
	db := e.Net.Providers()
	germany := false
	for _, c := range db.Countries() {
		germany = germany || c.Code == "DE" && c.Name == "Germany"
	}
	if !germany {
		t.Fatal("Germany is not in the provider database")
	}
	found := false
	for _, p := range db.Providers("DE") {
		for _, a := range p.APNs {
			found = found || a.Name == APN
		}
	}
	if !found {
		t.Errorf("no German provider offers %s", APN)
	}
}

// testPersisted keeps what a working connection used for the installed
// OS and reads it back; secrets are in 0600 files only.
func testPersisted(t *testing.T, e Env) {
	root := t.TempDir()
	c := static(t, "192.0.2.20", WiredGateway.String())
	wc := netcfg.WiredConfig{Static: &c}
	if _, err := e.Net.ConfigureWired(ctx(t), Wired, wc, nil); err != nil {
		t.Fatal(err)
	}
	if err := netcfg.WriteWired(root, Wired, wc); err != nil {
		t.Fatal(err)
	}
	if got, err := netcfg.ReadWired(root, Wired); err != nil || !reflect.DeepEqual(got, wc) {
		t.Errorf("wired read back %+v, %v; wrote %+v", got.Static, err, wc.Static)
	}
	for _, w := range []netcfg.WLANConfig{
		{SSID: LabSSID, Hidden: true, Auth: netcfg.AuthPSK, Key: LabKey},
		{SSID: LegacySSID, Auth: netcfg.AuthWEP, Key: LegacyKey},
		{SSID: CorpSSID, Auth: netcfg.AuthPEAP, Username: CorpUser, Key: CorpPass},
	} {
		if _, err := e.Net.JoinWLAN(ctx(t), WLAN, w, nil); err != nil {
			t.Fatalf("%s: %v", w.SSID, err)
		}
		if err := netcfg.WriteWLAN(root, WLAN, w); err != nil {
			t.Fatal(err)
		}
		if got, err := netcfg.ReadWLAN(root, WLAN); err != nil || got != w {
			t.Errorf("WLAN read back %+v, %v; wrote %+v", got, err, w)
		}
		secret(t, netcfg.SupplicantFile(root, WLAN))
	}
	if _, err := e.Net.UnlockSIM(ctx(t), Modem, PIN); err != nil {
		t.Fatal(err)
	}
	mc := netcfg.MobileConfig{Country: "DE", Provider: "T-Mobile(Telekom)", APN: APN, Username: APNUser, Password: APNPassword, PIN: PIN}
	if _, err := e.Net.ConnectMobile(ctx(t), Modem, mc, nil); err != nil {
		t.Fatal(err)
	}
	if err := netcfg.WriteModem(root, mc); err != nil {
		t.Fatal(err)
	}
	if got, err := netcfg.ReadModem(root); err != nil || got != mc {
		t.Errorf("modem read back %+v, %v; wrote %+v", got, err, mc)
	}
	// The PIN and the password are kept for later boots: 0600.
	secret(t, netcfg.ModemFile(root))
}

func secret(t *testing.T, path string) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s: mode %v, want 0600", path, fi.Mode().Perm())
	}
}
