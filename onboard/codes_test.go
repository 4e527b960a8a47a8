package onboard

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestEveryCodeHasMeaningAndHint(t *testing.T) {
	for c := CodeServiceUnreachable; c <= CodeSystemTrustStore; c++ {
		if c == 31 {
			continue // not in the guide
		}
		if strings.HasPrefix(c.Meaning(), "unknown") || c.Hint() == "" {
			t.Errorf("code %d: meaning %q hint %q", c, c.Meaning(), c.Hint())
		}
	}
	if !strings.Contains(CodeEnroll.Hint(), "already exist") || !strings.Contains(CodeCACerts.Hint(), "curl --tlsv1.3 --insecure") {
		t.Error("codes 37/38 lack the guide's troubleshooting")
	}
}

func TestErrorScreenTextAndUnwrap(t *testing.T) {
	inner := errors.New("connection refused")
	err := fmt.Errorf("onboard: %w", fail(CodeTCPConnect, inner, "connect to %s", "ums:8443"))
	var e *Error
	if !errors.As(err, &e) || e.Error() != "Could not manage your device because of an internal error (44)" {
		t.Fatalf("%v", err)
	}
	if !errors.Is(err, inner) || e.Reason != "connect to ums:8443: connection refused" {
		t.Fatalf("reason %q", e.Reason)
	}
	if code, ok := CodeOf(err); !ok || code != CodeTCPConnect {
		t.Fatal("CodeOf")
	}
	if !strings.HasPrefix(e.Detail(), "44: failed to establish a TCP connection\n") {
		t.Fatalf("detail %q", e.Detail())
	}
}

func TestQRText(t *testing.T) {
	s, err := QRText("https://127.0.0.1:8443/idp/device?user_code=BCDF-GHJK")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	width := len([]rune(lines[0]))
	if width < 25 || len(lines) != (width+1)/2 {
		t.Fatalf("%d lines of %d cells", len(lines), width)
	}
	for _, l := range lines {
		if len([]rune(l)) != width {
			t.Fatal("ragged QR code")
		}
	}
}
