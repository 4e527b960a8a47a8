package proxy

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onramp-os/onramp/internal/testutil"
)

// The topology: the client's namespace reaches only the proxy's
// (192.0.2.0/24); the proxy's namespace reaches the server's
// (198.51.100.0/24), where a real TLS server answers. tinyproxy asks for
// Basic credentials; a PAC file is served next to it.

const (
	proxyAddr  = "192.0.2.1:3128"
	pacURL     = "http://192.0.2.1:8080/wpad.dat"
	serverAddr = "198.51.100.2:8443"
	proxyUser  = "alice"
	proxyPass  = "s3cret-pass"
)

const testPAC = `function FindProxyForURL(url, host) {
	if (isPlainHostName(host) || dnsDomainIs(host, ".direct.example")) { return "DIRECT"; }
	if (isInNet(host, "203.0.113.0", "255.255.255.0")) { return "DIRECT"; }
	if (shExpMatch(url, "https://198.51.100.*")) { return "PROXY 192.0.2.1:3128; DIRECT"; }
	return "DIRECT";
}`

// serverCert makes a certificate for the server's address, signed by a
// new CA written to caFile.
func serverCert(t *testing.T, caFile string) tls.Certificate {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caT := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "proxy test CA"}, IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	caDER, err := x509.CreateCertificate(rand.Reader, caT, caT, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	leafT := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "server"},
		IPAddresses: []net.IP{net.ParseIP("198.51.100.2")}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, leafT, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o644); err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// recorder is a base dialer that notes every address it is asked for.
type recorder struct {
	mu    sync.Mutex
	asked []string
}

func (r *recorder) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	r.mu.Lock()
	r.asked = append(r.asked, addr)
	r.mu.Unlock()
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}

func (r *recorder) addrs() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.asked...)
}

// get fetches the server's page through dial.
func get(t *testing.T, dial DialFunc, caFile string) (string, error) {
	t.Helper()
	pool := x509.NewCertPool()
	b, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool.AppendCertsFromPEM(b)
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{Proxy: nil, DialContext: dial,
		TLSClientConfig: &tls.Config{RootCAs: pool}, DisableKeepAlives: true}}
	resp, err := c.Get("https://" + serverAddr + "/")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return string(body), err
}

// TestThroughTinyproxy reaches a TLS server that only the proxy can
// reach: with the manual proxy and credentials, and as a PAC file says;
// no direct connection is attempted; wrong or missing credentials fail
// naming the proxy; without a proxy, or with the server on the no-proxy
// list, the connection is direct and fails.
func TestThroughTinyproxy(t *testing.T) {
	if testutil.NetnsChild(t) {
		ca := os.Getenv("ONRAMP_TEST_CA")
		manual := Config{Host: "192.0.2.1", Port: 3128, Username: proxyUser, Password: proxyPass}

		r := &recorder{}
		body, err := get(t, Dialer(manual, r.dial), ca)
		if err != nil || body != "behind the proxy" {
			t.Fatalf("manual proxy: %q %v", body, err)
		}
		if got := r.addrs(); len(got) != 1 || got[0] != proxyAddr {
			t.Errorf("manual proxy: dialled %v, want only the proxy %s", got, proxyAddr)
		}

		r = &recorder{}
		if body, err := get(t, Dialer(Config{PAC: pacURL, Username: proxyUser, Password: proxyPass}, r.dial), ca); err != nil || body != "behind the proxy" {
			t.Fatalf("PAC: %q %v", body, err)
		}
		if got := r.addrs(); len(got) != 2 || got[0] != "192.0.2.1:8080" || got[1] != proxyAddr {
			t.Errorf("PAC: dialled %v, want the PAC server, then only the proxy", got)
		}

		wrong := manual
		wrong.Password = "not it"
		if _, err := get(t, Dialer(wrong, nil), ca); !errors.Is(err, ErrProxy) || !strings.Contains(err.Error(), "refused the user name or password") {
			t.Errorf("wrong password: %v", err)
		}
		if strings.Contains(fmt.Sprint(err), "not it") {
			t.Errorf("the error shows the password: %v", err)
		}
		if _, err := get(t, Dialer(Config{Host: "192.0.2.1", Port: 3128}, nil), ca); !errors.Is(err, ErrProxy) || !strings.Contains(err.Error(), "wants a user name") {
			t.Errorf("no credentials: %v", err)
		}

		r = &recorder{}
		bypass := manual
		bypass.NoProxy = []string{"198.51.100.0/24"}
		if _, err := get(t, Dialer(bypass, r.dial), ca); err == nil {
			t.Error("the server was reachable directly: the topology proves nothing")
		}
		if got := r.addrs(); len(got) != 1 || got[0] != serverAddr {
			t.Errorf("no-proxy: dialled %v, want only the server directly", got)
		}
		return
	}
	client, px, server := testutil.Netns(t), testutil.Netns(t), testutil.Netns(t)
	testutil.Veth(t, px, "veth-p", client, "veth-c")
	testutil.Veth(t, px, "veth-q", server, "veth-r")
	testutil.InNetns(t, px, "ip", "addr", "add", "192.0.2.1/24", "dev", "veth-p")
	testutil.InNetns(t, px, "ip", "addr", "add", "198.51.100.1/24", "dev", "veth-q")
	testutil.InNetns(t, client, "ip", "addr", "add", "192.0.2.2/24", "dev", "veth-c")
	testutil.InNetns(t, server, "ip", "addr", "add", "198.51.100.2/24", "dev", "veth-r")
	testutil.InNetns(t, server, "ip", "route", "add", "default", "via", "198.51.100.1")
	log := testutil.Tinyproxy(t, px, "192.0.2.1", 3128, proxyUser, proxyPass)

	ca := filepath.Join(t.TempDir(), "ca.pem")
	cert := serverCert(t, ca)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "behind the proxy") }),
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}}}
	go srv.ServeTLS(testutil.ListenIn(t, server, serverAddr), "", "")
	pacSrv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-ns-proxy-autoconfig")
		io.WriteString(w, testPAC)
	})}
	go pacSrv.Serve(testutil.ListenIn(t, px, "192.0.2.1:8080"))
	defer srv.Close()
	defer pacSrv.Close()

	testutil.RunInNetns(t, client, "ONRAMP_TEST_CA="+ca)
	if n := strings.Count(log(), "CONNECT "+serverAddr); n < 2 {
		t.Errorf("tinyproxy logged %d CONNECTs to %s, want the manual and the PAC one:\n%s", n, serverAddr, log())
	}
}
