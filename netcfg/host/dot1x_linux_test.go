package host

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/onramp-os/onramp/internal/testutil"
	"github.com/onramp-os/onramp/netcfg"
	pkcs12 "software.sslmate.com/src/go-pkcs12"
)

// The 802.1X tests put the real hostapd on the LAN's server side as the
// authenticator of a wired port (driver=wired, ieee8021x=1) with its
// internal EAP server, which knows alice's PEAP/MSCHAPv2 password and
// accepts device1's certificate for EAP-TLS; dnsmasq serves DHCP behind
// it. The client's second link (veth-c2) is a port where nobody speaks
// 802.1X.

const (
	dot1xUser     = "alice"
	dot1xPassword = "correct horse battery"
	dot1xDevice   = "device1"
	silentIf      = "veth-c2"
)

// pki writes a CA, the authentication server's certificate and key, the
// device's certificate and key, and a CA that signed neither, as PEM files
// in dir; and the device's certificate and key once more as a PKCS#12 file
// (device.p12, AES-256 and PBKDF2 as OpenSSL 3 and Windows export them,
// password dot1xP12Password).
func pki(t *testing.T, dir string) {
	t.Helper()
	newKey := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	write := func(name, typ string, der []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	writeKey := func(name string, k *ecdsa.PrivateKey) {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		write(name, "PRIVATE KEY", der)
	}
	serial := int64(1)
	cert := func(name, cn string, key *ecdsa.PrivateKey, ca *x509.Certificate, caKey *ecdsa.PrivateKey, usage []x509.ExtKeyUsage) *x509.Certificate {
		serial++
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(0, 0, 7),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: usage, BasicConstraintsValid: true}
		if ca == nil {
			tmpl.IsCA, tmpl.KeyUsage = true, x509.KeyUsageCertSign|x509.KeyUsageCRLSign
			ca, caKey = tmpl, key
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		write(name, "CERTIFICATE", der)
		c, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	caKey, otherKey, serverKey, deviceKey := newKey(), newKey(), newKey(), newKey()
	ca := cert("ca.pem", "Onramp Test 802.1X CA", caKey, nil, nil, nil)
	cert("other-ca.pem", "Someone Else's CA", otherKey, nil, nil, nil)
	cert("server.pem", "radius.lab.example", serverKey, ca, caKey, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth})
	writeKey("server.key", serverKey)
	device := cert("device.pem", dot1xDevice, deviceKey, ca, caKey, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth})
	writeKey("device.key", deviceKey)
	p12, err := pkcs12.Modern.Encode(deviceKey, device, []*x509.Certificate{ca}, dot1xP12Password)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "device.p12"), p12, 0o600); err != nil {
		t.Fatal(err)
	}
}

// dot1xP12Password opens the test PKI's device.p12.
const dot1xP12Password = "p12-Secret"

// startHostapd runs hostapd in ns as the 802.1X authenticator on iface
// with the certificates in dir; it returns the path of its log.
func startHostapd(t *testing.T, ns, iface, dir string) string {
	t.Helper()
	testutil.RequireTools(t, "hostapd")
	users := "\"" + dot1xUser + "\"\tPEAP\n\"" + dot1xUser + "\"\tMSCHAPV2\t\"" + dot1xPassword + "\"\t[2]\n\"" + dot1xDevice + "\"\tTLS\n"
	conf := strings.Join([]string{"interface=" + iface, "driver=wired", "ieee8021x=1", "eap_server=1", "eapol_version=2",
		"eap_user_file=" + filepath.Join(dir, "eap_user"), "ca_cert=" + filepath.Join(dir, "ca.pem"),
		"server_cert=" + filepath.Join(dir, "server.pem"), "private_key=" + filepath.Join(dir, "server.key"),
		"ctrl_interface=" + filepath.Join(dir, "hostapd-ctrl"), ""}, "\n")
	for name, data := range map[string]string{"eap_user": users, "hostapd.conf": conf} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	log := filepath.Join(dir, "hostapd.log")
	out, err := os.Create(log)
	if err != nil {
		t.Fatal(err)
	}
	cmd := testutil.NetnsCommand(ns, "hostapd", "-d", filepath.Join(dir, "hostapd.conf"))
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			b, _ := os.ReadFile(log)
			t.Logf("hostapd:\n%s", b)
		}
	})
	if !testutil.WaitFor(5*time.Second, func() bool {
		b, _ := os.ReadFile(log)
		return strings.Contains(string(b), iface+": interface state UNINITIALIZED->ENABLED")
	}) {
		b, _ := os.ReadFile(log)
		t.Fatalf("hostapd did not start:\n%s", b)
	}
	return log
}

// TestWired8021X authenticates the wired link against hostapd: a wrong
// PEAP password fails naming 802.1X and no address is asked for; the
// right one, and EAP-TLS with the device's certificate, pass and DHCP
// works behind the port; a server certificate from another CA is
// refused; a port where nobody answers EAP times out as such.
func TestWired8021X(t *testing.T) {
	if testutil.NetnsChild(t) {
		dir := os.Getenv("ONRAMP_TEST_8021X")
		b, _ := testBackend(t)
		b.o.WPAControlDir, b.o.JoinTimeout = filepath.Join(dir, "no-supplicant"), 20*time.Second
		defer b.Close()
		ctx := context.Background()
		peap := netcfg.Dot1XConfig{EAP: netcfg.EAPPEAP, Identity: dot1xUser, Password: "not the password",
			CACert: filepath.Join(dir, "ca.pem")}

		_, err := b.ConfigureWired(ctx, clientIf, netcfg.WiredConfig{Dot1X: &peap}, nil)
		if !errors.Is(err, netcfg.ErrDot1XAuth) || !strings.Contains(err.Error(), "802.1X") {
			t.Fatalf("wrong password: %v, want ErrDot1XAuth", err)
		}
		if strings.Contains(err.Error(), peap.Password) {
			t.Errorf("the error shows the password: %v", err)
		}
		t.Logf("wrong password: %v", err)

		peap.Password = dot1xPassword
		var stages []netcfg.Stage
		st, err := b.ConfigureWired(ctx, clientIf, netcfg.WiredConfig{Dot1X: &peap}, func(s netcfg.Stage) { stages = append(stages, s) })
		if err != nil {
			t.Fatalf("PEAP: %v", err)
		}
		if !st.Online || st.Address.Addr().As4()[3] < 100 || st.Gateway.String() != "192.0.2.1" {
			t.Errorf("PEAP: status %+v, want a lease from 192.0.2.100-150", st)
		}
		if want := []netcfg.Stage{netcfg.StageLink, netcfg.StageAuthenticate, netcfg.StageAddress, netcfg.StageCheck}; !equalStages(stages, want) {
			t.Errorf("stages %v, want %v", stages, want)
		}

		tls := netcfg.Dot1XConfig{EAP: netcfg.EAPTLS, Identity: dot1xDevice, CACert: filepath.Join(dir, "ca.pem"),
			ClientCert: filepath.Join(dir, "device.pem"), PrivateKey: filepath.Join(dir, "device.key")}
		if st, err := b.ConfigureWired(ctx, clientIf, netcfg.WiredConfig{Dot1X: &tls}, nil); err != nil || !st.Online {
			t.Fatalf("EAP-TLS: %+v %v", st, err)
		}

		p12 := netcfg.Dot1XConfig{EAP: netcfg.EAPTLS, Identity: dot1xDevice, CACert: filepath.Join(dir, "ca.pem"),
			ClientCert: filepath.Join(dir, "device.p12"), KeyPassword: "wrong"}
		if _, err := b.ConfigureWired(ctx, clientIf, netcfg.WiredConfig{Dot1X: &p12}, nil); !errors.Is(err, netcfg.ErrDot1XKeyPassword) {
			t.Errorf("PKCS#12 with a wrong password: %v, want ErrDot1XKeyPassword", err)
		}
		p12.KeyPassword = dot1xP12Password
		if st, err := b.ConfigureWired(ctx, clientIf, netcfg.WiredConfig{Dot1X: &p12}, nil); err != nil || !st.Online {
			t.Fatalf("EAP-TLS with a PKCS#12 file: %+v %v", st, err)
		}

		tls.CACert = filepath.Join(dir, "other-ca.pem")
		if _, err := b.ConfigureWired(ctx, clientIf, netcfg.WiredConfig{Dot1X: &tls}, nil); !errors.Is(err, netcfg.ErrDot1XServerCert) {
			t.Errorf("server certificate of another CA: %v, want ErrDot1XServerCert", err)
		}

		tls.CACert, tls.PrivateKey = filepath.Join(dir, "ca.pem"), filepath.Join(dir, "ca.pem")
		var fe *netcfg.FieldError
		if _, err := b.ConfigureWired(ctx, clientIf, netcfg.WiredConfig{Dot1X: &tls}, nil); !errors.As(err, &fe) || fe.Field != "dot1x.private_key" {
			t.Errorf("a certificate given as the key: %v, want a dot1x.private_key field error", err)
		}

		b.o.JoinTimeout = 3 * time.Second
		if _, err := b.ConfigureWired(ctx, silentIf, netcfg.WiredConfig{Dot1X: &peap}, nil); !errors.Is(err, netcfg.ErrDot1XSilent) {
			t.Errorf("port without an authenticator: %v, want ErrDot1XSilent", err)
		}
		return
	}
	testutil.RequireTools(t, "wpa_supplicant", "hostapd")
	client, server := lan(t, false)
	testutil.Veth(t, server, "veth-s2", client, silentIf)
	leases, _ := startDnsmasq(t, server, "--interface="+serverIf, "--dhcp-range=192.0.2.100,192.0.2.150,255.255.255.0,1h")
	dir := t.TempDir()
	pki(t, dir)
	log := startHostapd(t, server, serverIf, dir)
	testutil.RunInNetns(t, client, "ONRAMP_TEST_8021X="+dir)
	// The authenticator's own account: one refusal, then three successes
	// (PEAP, EAP-TLS with PEM files, with a PKCS#12 file).
	hl, _ := os.ReadFile(log)
	if f, s := strings.Count(string(hl), "CTRL-EVENT-EAP-FAILURE"), strings.Count(string(hl), "CTRL-EVENT-EAP-SUCCESS"); f < 1 || s < 3 {
		t.Errorf("hostapd logged %d EAP failures and %d successes, want ≥1 and ≥3", f, s)
	}
	if l, _ := os.ReadFile(leases); !strings.Contains(string(l), "192.0.2.1") {
		t.Errorf("dnsmasq gave no lease behind the port: %q", l)
	}
}

// TestWired8021XPersisted keeps 802.1X configurations as the installed OS
// reads them — wpa_supplicant-wired-IFACE.conf and the copied
// certificates, all 0600 — and proves the kept file authenticates: the
// real wpa_supplicant, started as wpa_supplicant-wired@IFACE.service
// starts it, passes hostapd's EAP with it.
func TestWired8021XPersisted(t *testing.T) {
	testutil.RequireTools(t, "wpa_supplicant", "hostapd")
	client, server := lan(t, false)
	dir := t.TempDir()
	pki(t, dir)
	startHostapd(t, server, serverIf, dir)
	for _, c := range []netcfg.Dot1XConfig{
		{EAP: netcfg.EAPPEAP, Identity: dot1xUser, Password: dot1xPassword, CACert: filepath.Join(dir, "ca.pem")},
		{EAP: netcfg.EAPTLS, Identity: dot1xDevice, CACert: filepath.Join(dir, "ca.pem"),
			ClientCert: filepath.Join(dir, "device.pem"), PrivateKey: filepath.Join(dir, "device.key")},
		{EAP: netcfg.EAPTLS, Identity: dot1xDevice, CACert: filepath.Join(dir, "ca.pem"),
			ClientCert: filepath.Join(dir, "device.p12"), KeyPassword: dot1xP12Password},
	} {
		t.Run(string(c.EAP)+filepath.Ext(c.ClientCert), func(t *testing.T) {
			root := t.TempDir()
			if err := netcfg.WriteWired(root, clientIf, netcfg.WiredConfig{Dot1X: &c}); err != nil {
				t.Fatal(err)
			}
			conf := netcfg.WiredSupplicantFile(root, clientIf)
			for _, p := range []string{conf, filepath.Join(netcfg.Dot1XDir(root, clientIf), "ca.pem")} {
				if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o600 {
					t.Errorf("%s: %v %v, want 0600", p, fi, err)
				}
			}
			back, err := netcfg.ReadWired(root, clientIf)
			if err != nil || back.Static != nil || back.Dot1X == nil || back.Dot1X.EAP != c.EAP || back.Dot1X.Identity != c.Identity ||
				back.Dot1X.Password != c.Password || !strings.HasPrefix(back.Dot1X.CACert, "/etc/onramp/network/8021x/"+clientIf+"/") {
				t.Errorf("read back %+v %v", back.Dot1X, err)
			}
			if filepath.Ext(c.ClientCert) == ".p12" && back.Dot1X != nil && (!strings.HasSuffix(back.Dot1X.ClientCert, "/client.p12") ||
				back.Dot1X.PrivateKey != "" || back.Dot1X.KeyPassword != c.KeyPassword) {
				t.Errorf("the PKCS#12 file reads back as %+v", back.Dot1X)
			}
			// The kept file names the installed OS's paths: here they
			// are under root.
			data, err := os.ReadFile(conf)
			if err != nil {
				t.Fatal(err)
			}
			data = []byte(strings.ReplaceAll(string(data), `"/etc/onramp/`, `"`+root+`/etc/onramp/`))
			data = []byte(strings.ReplaceAll(string(data), "ctrl_interface=/run/wpa_supplicant", "ctrl_interface="+filepath.Join(root, "ctrl")))
			local := filepath.Join(root, "here.conf")
			if err := os.WriteFile(local, data, 0o600); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, "ip", "netns", "exec", client, "wpa_supplicant", "-Dwired", "-i"+clientIf, "-c"+local)
			var out testutil.SyncBuffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			ok := testutil.WaitFor(15*time.Second, func() bool { return strings.Contains(out.String(), "CTRL-EVENT-EAP-SUCCESS") })
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			if !ok {
				t.Errorf("the kept configuration did not authenticate:\n%s\n%s", data, out.String())
			}
		})
	}
	// Set up again without 802.1X: nothing of it stays.
	root := t.TempDir()
	c := netcfg.Dot1XConfig{EAP: netcfg.EAPPEAP, Identity: dot1xUser, Password: dot1xPassword, CACert: filepath.Join(dir, "ca.pem")}
	if err := netcfg.WriteWired(root, clientIf, netcfg.WiredConfig{Dot1X: &c}); err != nil {
		t.Fatal(err)
	}
	if err := netcfg.WriteWired(root, clientIf, netcfg.WiredConfig{}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{netcfg.WiredSupplicantFile(root, clientIf), netcfg.Dot1XDir(root, clientIf)} {
		if _, err := os.Lstat(p); !os.IsNotExist(err) {
			t.Errorf("%s stays after a setup without 802.1X: %v", p, err)
		}
	}
}

func equalStages(a, b []netcfg.Stage) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
