package host

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultPortalProbe is the URL the captive-portal check fetches: it
// answers 204 No Content on an open network; a portal redirects it or
// answers with its own page.
const DefaultPortalProbe = "http://connectivitycheck.gstatic.com/generate_204"

// CaptivePortal checks whether the network holds the device behind a
// captive portal and returns the URL where the user signs in, "" when
// the way out is open (or cannot be judged: a closed network answers
// neither the probe nor a portal API). The captive-portal API the
// connection's DHCP lease named (RFC 8910 option 114, RFC 8908) is asked
// first; then the probe URL is fetched without following redirects.
func (b *Backend) CaptivePortal(ctx context.Context) (string, error) {
	st, err := b.Status(ctx)
	if err != nil || !st.Online {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, portalTimeout)
	defer cancel()
	return b.detectPortal(ctx, st.CaptiveAPI), nil
}

// detectPortal is the check for a connection whose lease named api ("").
func (b *Backend) detectPortal(ctx context.Context, api string) string {
	client := &http.Client{Timeout: b.o.CheckTimeout, Transport: &http.Transport{Proxy: nil},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	defer client.CloseIdleConnections()
	if api != "" {
		if u, ok := portalAPI(ctx, client, api); ok {
			return u
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.o.PortalProbe, nil)
	if err != nil {
		return ""
	}
	resp, err := client.Do(req)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	switch {
	case resp.StatusCode == http.StatusNoContent:
		return ""
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		if loc, err := resp.Location(); err == nil && printableURL(loc.String()) {
			return loc.String()
		}
		return b.o.PortalProbe
	case resp.StatusCode == http.StatusOK:
		// The portal answered in the probe's place with its own page.
		return b.o.PortalProbe
	}
	return ""
}

// portalAPI asks an RFC 8908 captive-portal API; ok is false when the
// answer is not one (a server that is no API, an error).
func portalAPI(ctx context.Context, client *http.Client, api string) (portal string, ok bool) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, api, nil)
	if err != nil {
		return "", false
	}
	req.Header.Set("Accept", "application/captive+json")
	resp, err := client.Do(req)
	if err != nil {
		return "", false
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Type"), "json") {
		return "", false
	}
	var v struct {
		Captive    *bool  `json:"captive"`
		UserPortal string `json:"user-portal-url"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&v); err != nil || v.Captive == nil {
		return "", false
	}
	if !*v.Captive {
		return "", true
	}
	if printableURL(v.UserPortal) {
		return v.UserPortal, true
	}
	return api, true
}

// printableURL accepts an http(s) URL that is safe to show and encode:
// no control characters, a sane length.
func printableURL(s string) bool {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(s) > 512 {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

// leasePortal reads option 114 of a lease: the captive-portal API's URI.
func leasePortal(raw []byte) string {
	s := strings.TrimRight(string(raw), "\x00")
	if !printableURL(s) {
		return ""
	}
	return s
}

// portalTimeout bounds the check: a closed network that answers neither
// the probe nor the API must not hold the user up.
const portalTimeout = 5 * time.Second
