package host

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onramp-os/onramp/internal/testutil"
	"github.com/onramp-os/onramp/netcfg"
)

// TestJoinWLANRealSupplicant joins an open network through a real
// wpa_supplicant the backend starts itself (no radio here: its "wired"
// driver on veth goes through the same control interface, ADD_NETWORK,
// SET_NETWORK, SELECT_NETWORK and CTRL-EVENT-CONNECTED), then gets a
// DHCP lease from dnsmasq.
func TestJoinWLANRealSupplicant(t *testing.T) {
	if testutil.NetnsChild(t) {
		root := t.TempDir()
		b := New(root, Options{DHCPTimeout: 500 * time.Millisecond, DHCPTries: 3, CheckTimeout: 2 * time.Second,
			ProbeName: lanProbe, WPADriver: "wired", WPAControlDir: filepath.Join(root, "none"), JoinTimeout: 10 * time.Second})
		defer func() {
			if err := b.Close(); err != nil {
				t.Error(err)
			}
		}()
		var stages []string
		st, err := b.JoinWLAN(context.Background(), clientIf, netcfg.WLANConfig{SSID: "Guest", Auth: netcfg.AuthOpen},
			func(s netcfg.Stage) { stages = append(stages, string(s)) })
		if err != nil {
			t.Fatal(err)
		}
		if st.SSID != "Guest" || st.Via != "wlan" || st.TimeZone != lanZone || !st.Online {
			t.Errorf("status %+v", st)
		}
		if strings.Join(stages, ",") != "link,associating,authenticate,address,check" {
			t.Errorf("stages %v", stages)
		}
		if now, _ := b.Status(context.Background()); now.SSID != "Guest" {
			t.Errorf("Status %+v", now)
		}
		return
	}
	testutil.RequireTools(t, "wpa_supplicant")
	client, _ := lan(t, true)
	testutil.RunInNetns(t, client)
}

// TestSupplicantAcceptsSettings sends every kind of network to a real
// wpa_supplicant and reads the non-secret variables back.
func TestSupplicantAcceptsSettings(t *testing.T) {
	testutil.RequireTools(t, "wpa_supplicant")
	client, _ := lan(t, false)
	dir := t.TempDir()
	conf := filepath.Join(dir, "c.conf")
	if err := os.WriteFile(conf, []byte("ctrl_interface="+dir+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := testutil.NetnsCommand(client, "wpa_supplicant", "-i", clientIf, "-D", "wired", "-c", conf)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	sock := filepath.Join(dir, clientIf)
	for i := 0; i < 50 && !alive(sock); i++ {
		time.Sleep(100 * time.Millisecond)
	}
	w, err := dialWPA(sock)
	if err != nil {
		t.Fatal(err)
	}
	defer w.close()
	for _, c := range []netcfg.WLANConfig{
		{SSID: "Guest", Auth: netcfg.AuthOpen},
		{SSID: "Office", Auth: netcfg.AuthPSK, Key: `pass "word" \ 1`},
		{SSID: "Lab", Hidden: true, Auth: netcfg.AuthPSK, Key: strings.Repeat("aB", 32)},
		{SSID: "Corp", Auth: netcfg.AuthPEAP, Username: `dom\alice`, Key: "wonder land"},
		{SSID: "Café", Auth: netcfg.AuthOpen},
		{SSID: "Legacy", Auth: netcfg.AuthWEP, Key: "onramp-wep-13"},
		{SSID: "Legacy-40", Auth: netcfg.AuthWEP, Key: "0A1B2C3D4E"},
	} {
		id, err := configureNetwork(w, netcfg.SupplicantSettings(c))
		if err != nil {
			t.Fatalf("%s: %v", c.SSID, err)
		}
		for _, s := range netcfg.SupplicantSettings(c) {
			got, err := w.request("GET_NETWORK "+id+" "+s.Name, "GET_NETWORK", time.Second)
			if err != nil {
				t.Fatal(err)
			}
			want := s.Value
			if s.Secret {
				want = "*" // wpa_supplicant never reads keys back
			}
			if s.Name == "ieee80211w" || s.Name == "scan_ssid" || s.Name == "wep_tx_keyidx" {
				continue
			}
			if got != want {
				t.Errorf("%s: %s = %q, want %q", c.SSID, s.Name, got, want)
			}
		}
	}
}

// fakeSupplicant answers the control protocol like wpa_supplicant does;
// on SELECT_NETWORK it hands the network's variables to onSelect (the
// access point's part) and sends the events it returns to every attached
// socket.
type fakeSupplicant struct {
	conn     *net.UnixConn
	mu       sync.Mutex
	attached []*net.UnixAddr
	vars     map[string]string
	onSelect func(vars map[string]string) []string
}

// startFake starts a fake for wlan0 in a directory of its own and returns
// its socket's path.
func startFake(t *testing.T, onSelect func(vars map[string]string) []string) string {
	dir := t.TempDir()
	path := filepath.Join(dir, "wlan0")
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeSupplicant{conn: c, vars: map[string]string{}, onSelect: onSelect}
	t.Cleanup(func() { c.Close() })
	go f.serve()
	return path
}

func (f *fakeSupplicant) serve() {
	buf := make([]byte, 4096)
	for {
		n, from, err := f.conn.ReadFromUnix(buf)
		if err != nil {
			return
		}
		req := string(buf[:n])
		reply := "UNKNOWN COMMAND\n"
		switch fields := strings.SplitN(req, " ", 4); fields[0] {
		case "PING":
			reply = "PONG\n"
		case "ATTACH":
			f.mu.Lock()
			f.attached = append(f.attached, from)
			f.mu.Unlock()
			reply = "OK\n"
		case "REMOVE_NETWORK":
			f.vars = map[string]string{}
			reply = "OK\n"
		case "ADD_NETWORK":
			reply = "0\n"
		case "SET_NETWORK":
			if len(fields) == 4 {
				f.vars[fields[2]] = fields[3]
			}
			reply = "OK\n"
		case "SELECT_NETWORK":
			reply = "OK\n"
		}
		_, _ = f.conn.WriteToUnix([]byte(reply), from)
		if strings.HasPrefix(req, "SELECT_NETWORK") {
			f.emit(f.onSelect(f.vars))
		}
	}
}

func (f *fakeSupplicant) emit(events []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, ev := range events {
		for _, a := range f.attached {
			_, _ = f.conn.WriteToUnix([]byte(ev), a)
		}
	}
}

func TestAssociateOutcomes(t *testing.T) {
	psk := netcfg.WLANConfig{SSID: "Office", Auth: netcfg.AuthPSK, Key: "not-the-key"}
	peap := netcfg.WLANConfig{SSID: "Corp", Auth: netcfg.AuthPEAP, Username: "alice", Key: "nope"}
	tests := []struct {
		name   string
		c      netcfg.WLANConfig
		events []string
		want   error
	}{
		{"wrong PSK", psk, []string{
			"<3>Trying to associate with 02:00:00:00:01:00 (SSID='Office' freq=2412 MHz)",
			"<3>Associated with 02:00:00:00:01:00",
			"<3>WPA: 4-Way Handshake failed - pre-shared key may be incorrect",
			`<3>CTRL-EVENT-SSID-TEMP-DISABLED id=0 ssid="Office" auth_failures=1 duration=10 reason=WRONG_KEY`}, netcfg.ErrWrongKey},
		{"PEAP refused", peap, []string{
			"<3>CTRL-EVENT-EAP-STARTED EAP authentication started",
			"<3>CTRL-EVENT-EAP-FAILURE EAP authentication failed"}, netcfg.ErrAuthFailed},
		{"PEAP temp disabled", peap, []string{
			`<3>CTRL-EVENT-SSID-TEMP-DISABLED id=0 ssid="Corp" auth_failures=1 duration=10 reason=AUTH_FAILED`}, netcfg.ErrAuthFailed},
		{"not found", netcfg.WLANConfig{SSID: "Nowhere", Hidden: true, Auth: netcfg.AuthOpen}, []string{
			"<3>CTRL-EVENT-NETWORK-NOT-FOUND", "<3>CTRL-EVENT-NETWORK-NOT-FOUND", "<3>CTRL-EVENT-NETWORK-NOT-FOUND"}, netcfg.ErrNotFound},
		{"connected", psk, []string{
			"<3>CTRL-EVENT-CONNECTED - Connection to 02:00:00:00:01:00 completed [id=0 id_str=]"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sock := startFake(t, func(map[string]string) []string { return tt.events })
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			err := associate(ctx, sock, tt.c, nil)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if err != nil && tt.c.Key != "" && strings.Contains(err.Error(), tt.c.Key) {
				t.Errorf("the error shows the key: %v", err)
			}
		})
	}
}
