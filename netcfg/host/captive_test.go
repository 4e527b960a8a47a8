package host

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"
)

// The RFC 8908 answers a portal API gives, and what is no API answer.
func TestPortalAPIAnswers(t *testing.T) {
	answers := map[string]struct{ ctype, body string }{
		"/open":    {"application/captive+json", `{"captive": false}`},
		"/held":    {"application/captive+json", `{"captive": true, "user-portal-url": "https://portal.example/login"}`},
		"/nourl":   {"application/captive+json", `{"captive": true}`},
		"/badurl":  {"application/captive+json", `{"captive": true, "user-portal-url": "javascript:alert(1)"}`},
		"/html":    {"text/html", `<html>sign in</html>`},
		"/nofield": {"application/json", `{"seconds-remaining": 5}`},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := answers[r.URL.Path]
		w.Header().Set("Content-Type", a.ctype)
		_, _ = w.Write([]byte(a.body))
	}))
	defer srv.Close()
	client := &http.Client{Timeout: 5 * time.Second}
	for path, want := range map[string]struct {
		portal string
		ok     bool
	}{
		"/open": {"", true}, "/held": {"https://portal.example/login", true}, "/nourl": {srv.URL + "/nourl", true},
		"/badurl": {srv.URL + "/badurl", true}, "/html": {"", false}, "/nofield": {"", false},
	} {
		portal, ok := portalAPI(context.Background(), client, srv.URL+path)
		if portal != want.portal || ok != want.ok {
			t.Errorf("%s: %q %v, want %q %v", path, portal, ok, want.portal, want.ok)
		}
	}
}

// FuzzLeasePortal: whatever option 114 holds, the URL kept is "" or an
// http(s) URL without control characters.
func FuzzLeasePortal(f *testing.F) {
	for _, s := range []string{"http://192.0.2.1/api", "\"http://x/\"", "https://p.example/a?b=c\x00", "file:///etc/passwd", "http://a\nb/"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		s := leasePortal(raw)
		if s == "" {
			return
		}
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
			t.Errorf("kept %q", s)
		}
		for _, r := range s {
			if r < 0x20 || r == 0x7f {
				t.Errorf("kept a control character in %q", s)
			}
		}
	})
}
