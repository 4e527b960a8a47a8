package sim

import (
	"context"
	"errors"
	"testing"

	"github.com/onramp-os/onramp/netcfg"
)

func TestDemoNetwork(t *testing.T) {
	ctx := context.Background()
	n := New(DemoOptions(0))
	if st, _ := n.Status(ctx); st.Online {
		t.Fatal("the demo device starts online")
	}
	if _, err := n.ConfigureWired(ctx, "eth0", netcfg.WiredConfig{}, nil); !errors.Is(err, netcfg.ErrNoDHCP) {
		t.Errorf("DHCP: %v", err)
	}
	nets, err := n.Scan(ctx, "wlan0")
	if err != nil {
		t.Fatal(err)
	}
	for i, nw := range nets {
		if nw.SSID == LabSSID {
			t.Error("the hidden network is listed")
		}
		if i > 0 && nets[i-1].Signal < nw.Signal {
			t.Error("not sorted by signal")
		}
	}
	if _, err := n.JoinWLAN(ctx, "wlan0", netcfg.WLANConfig{SSID: LabSSID, Auth: netcfg.AuthPSK, Key: LabKey}, nil); !errors.Is(err, netcfg.ErrNotFound) {
		t.Errorf("hidden without Hidden: %v", err)
	}
	if _, err := n.JoinWLAN(ctx, "wlan0", netcfg.WLANConfig{SSID: "Office", Auth: netcfg.AuthPSK, Key: "wrong-key-1"}, nil); !errors.Is(err, netcfg.ErrWrongKey) {
		t.Errorf("wrong key: %v", err)
	}
	if _, err := n.JoinWLAN(ctx, "wlan0", netcfg.WLANConfig{SSID: "Corp-Devices", Auth: netcfg.AuthPEAP, Username: "a", Key: "b"}, nil); !errors.Is(err, netcfg.ErrCertificates) {
		t.Errorf("EAP-TLS: %v", err)
	}
	if _, err := n.JoinWLAN(ctx, "wlan0", netcfg.WLANConfig{SSID: "Corp", Auth: netcfg.AuthPEAP, Username: CorpUser, Key: "nope"}, nil); !errors.Is(err, netcfg.ErrAuthFailed) {
		t.Errorf("PEAP: %v", err)
	}
	var stages []netcfg.Stage
	st, err := n.JoinWLAN(ctx, "wlan0", netcfg.WLANConfig{SSID: LabSSID, Hidden: true, Auth: netcfg.AuthPSK, Key: LabKey},
		func(s netcfg.Stage) { stages = append(stages, s) })
	if err != nil || !st.Online || st.TimeZone != "Europe/Berlin" || len(stages) != 3 {
		t.Fatalf("hidden join: %+v %v %v", st, err, stages)
	}
	if now, _ := n.Status(ctx); now.SSID != LabSSID {
		t.Errorf("status after join: %+v", now)
	}
}

func TestDemoModem(t *testing.T) {
	ctx := context.Background()
	n := New(DemoOptions(0))
	ms, _ := n.Modems(ctx)
	if len(ms) != 1 || !ms[0].Locked || ms[0].Attempts != 3 {
		t.Fatalf("%+v", ms)
	}
	if _, err := n.ConnectMobile(ctx, "0", netcfg.MobileConfig{APN: "internet.telekom"}, nil); err == nil {
		t.Error("connected with a locked SIM")
	}
	m, err := n.UnlockSIM(ctx, "0", "0000")
	if !errors.Is(err, netcfg.ErrWrongPIN) || m.Attempts != 2 {
		t.Errorf("wrong PIN: %+v %v", m, err)
	}
	if m, err = n.UnlockSIM(ctx, "0", SIMPIN); err != nil || m.Locked {
		t.Fatalf("right PIN: %+v %v", m, err)
	}
	if _, err := n.ConnectMobile(ctx, "0", netcfg.MobileConfig{APN: "web.vodafone.de"}, nil); !errors.Is(err, netcfg.ErrAPNRefused) {
		t.Errorf("wrong APN: %v", err)
	}
	if st, err := n.ConnectMobile(ctx, "0", netcfg.MobileConfig{APN: "internet.telekom"}, nil); err != nil || st.Via != "mobile" {
		t.Errorf("connect: %+v %v", st, err)
	}
	blocked := New(DemoOptions(0))
	for i := 0; i < 3; i++ {
		_, err = blocked.UnlockSIM(ctx, "0", "9999")
	}
	if !errors.Is(err, netcfg.ErrSIMBlocked) {
		t.Errorf("third wrong PIN: %v", err)
	}
	if got := Providers.Providers("DE"); len(got) != 3 || got[0].APNs[0].Name != "internet.telekom" {
		t.Errorf("providers %+v", got)
	}
}

func TestStaticWired(t *testing.T) {
	ctx := context.Background()
	n := New(DemoOptions(0))
	good, _ := netcfg.ParseStatic("192.0.2.10", "24", "192.0.2.1", "", nil)
	if st, err := n.ConfigureWired(ctx, "eth0", netcfg.WiredConfig{Static: &good}, nil); err != nil || !st.Online {
		t.Fatalf("%+v %v", st, err)
	}
	other, _ := netcfg.ParseStatic("198.51.100.10", "24", "198.51.100.1", "", nil)
	if _, err := n.ConfigureWired(ctx, "eth0", netcfg.WiredConfig{Static: &other}, nil); !errors.Is(err, netcfg.ErrGateway) {
		t.Errorf("unreachable gateway: %v", err)
	}
	online := New(Options{Wired: true, Carrier: true, DHCP: true, WiredSubnet: good.Address.Masked(), WiredGateway: good.Gateway})
	if st, _ := online.Status(ctx); !st.Online {
		t.Error("a LAN with DHCP is not online")
	}
}
