package host

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"sync/atomic"
	"testing"

	"github.com/onramp-os/onramp/internal/testutil"
	"github.com/onramp-os/onramp/netcfg"
)

// The captive-portal tests run a small portal on the LAN's server side
// (192.0.2.1:8080): an RFC 8908 API, a probe URL that redirects to the
// sign-in page until the device signed in, and the sign-in itself.
// dnsmasq names the API in DHCP option 114 (RFC 8910) in one run and not
// in the other, where the probe finds the portal.

const (
	portalAPIURL = "http://192.0.2.1:8080/captive-api"
	portalPage   = "http://192.0.2.1:8080/portal"
	portalProbe  = "http://192.0.2.1:8080/generate_204"
)

func startPortal(t *testing.T, ns string) {
	t.Helper()
	var signedIn atomic.Bool
	mux := http.NewServeMux()
	mux.HandleFunc("/captive-api", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/captive+json")
		_ = json.NewEncoder(w).Encode(map[string]any{"captive": !signedIn.Load(), "user-portal-url": portalPage})
	})
	mux.HandleFunc("/generate_204", func(w http.ResponseWriter, r *http.Request) {
		if signedIn.Load() {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		http.Redirect(w, r, portalPage+"?from=probe", http.StatusFound)
	})
	mux.HandleFunc("/signin", func(w http.ResponseWriter, r *http.Request) { signedIn.Store(true) })
	srv := &http.Server{Handler: mux}
	go srv.Serve(testutil.ListenIn(t, ns, "192.0.2.1:8080"))
	t.Cleanup(func() { _ = srv.Close() })
}

// TestCaptivePortal finds the portal by the lease's option 114 and by the
// probe, and finds the way open once the user signed in.
func TestCaptivePortal(t *testing.T) {
	if testutil.NetnsChild(t) {
		b, _ := testBackend(t)
		b.o.PortalProbe = portalProbe
		defer b.Close()
		ctx := context.Background()
		st, err := b.ConfigureWired(ctx, clientIf, netcfg.WiredConfig{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		withAPI := os.Getenv("ONRAMP_TEST_PORTAL") == "option114"
		want := portalPage + "?from=probe"
		if withAPI {
			want = portalPage
			if st.CaptiveAPI != portalAPIURL {
				t.Errorf("the lease's captive-portal API: %q, want %q", st.CaptiveAPI, portalAPIURL)
			}
		} else if st.CaptiveAPI != "" {
			t.Errorf("a lease without option 114 named the API %q", st.CaptiveAPI)
		}
		if got, err := b.CaptivePortal(ctx); err != nil || got != want {
			t.Fatalf("portal %q %v, want %q", got, err, want)
		}
		resp, err := http.Post("http://192.0.2.1:8080/signin", "text/plain", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got, err := b.CaptivePortal(ctx); err != nil || got != "" {
			t.Errorf("after signing in: %q %v, want the way open", got, err)
		}
		return
	}
	for _, mode := range []string{"option114", "probe"} {
		client, server := lan(t, false)
		args := []string{"--interface=" + serverIf, "--dhcp-range=192.0.2.100,192.0.2.150,255.255.255.0,1h"}
		if mode == "option114" {
			args = append(args, "--dhcp-option=114,"+portalAPIURL) // as dhcp-option=114,"URL" in dnsmasq.conf
		}
		startDnsmasq(t, server, args...)
		startPortal(t, server)
		testutil.RunInNetns(t, client, "ONRAMP_TEST_PORTAL="+mode)
	}
}

// Nothing answers the probe on a closed network: no portal is claimed.
func TestCaptivePortalClosedNetwork(t *testing.T) {
	if testutil.NetnsChild(t) {
		b, _ := testBackend(t)
		b.o.PortalProbe = portalProbe // nobody listens on 8080 here
		defer b.Close()
		if _, err := b.ConfigureWired(context.Background(), clientIf, netcfg.WiredConfig{}, nil); err != nil {
			t.Fatal(err)
		}
		if got, err := b.CaptivePortal(context.Background()); err != nil || got != "" {
			t.Errorf("closed network: %q %v", got, err)
		}
		return
	}
	client, _ := lan(t, true)
	testutil.RunInNetns(t, client)
}
