package firstboot

import (
	"net"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"unicode"
)

func EmailProblem(v string) string {
	a, err := mail.ParseAddress(v)
	if err != nil || a.Address != v || !strings.Contains(v, "@") {
		return "err.field.email"
	}
	return ""
}

// SplitServer takes "host", "host:port" or an https URL apart; port is 0
// when the input has none.
func SplitServer(v string) (host string, port int) {
	v = strings.TrimSpace(v)
	if strings.Contains(v, "://") {
		if u, err := url.Parse(v); err == nil {
			v = u.Host
		}
	}
	if h, p, err := net.SplitHostPort(v); err == nil {
		n, _ := strconv.Atoi(p)
		return strings.Trim(h, "[]"), n
	}
	return strings.Trim(v, "[]"), 0
}

func ServerProblem(v string) string {
	v = strings.TrimSpace(v)
	if scheme, rest, ok := strings.Cut(v, "://"); ok {
		if !strings.EqualFold(scheme, "https") {
			return "err.field.server" // EST and the Onboarding Service speak HTTPS only
		}
		v = rest
	}
	v, _, _ = strings.Cut(v, "/")
	host := v
	if h, port, err := net.SplitHostPort(v); err == nil {
		if PortProblem(port) != "" {
			return "err.field.port"
		}
		host = h
	}
	host = strings.Trim(host, "[]")
	if host == "" {
		return "err.required"
	}
	if net.ParseIP(host) != nil {
		return ""
	}
	if len(host) > 255 {
		return "err.field.server"
	}
	for _, l := range strings.Split(strings.TrimSuffix(host, "."), ".") {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return "err.field.server"
		}
		for _, r := range l {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return "err.field.server"
			}
		}
	}
	return ""
}

func PortProblem(v string) string {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 1 || n > 65535 {
		return "err.field.port"
	}
	return ""
}

// NormalizeToken is the communication token as compared: no ':' or spaces.
func NormalizeToken(v string) string {
	return strings.NewReplacer(":", "", " ", "").Replace(strings.TrimSpace(v))
}

func TokenProblem(v string) string {
	t := NormalizeToken(v)
	if len(t) != 16 {
		return "err.field.token"
	}
	for _, r := range t {
		if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
			return "err.field.token"
		}
	}
	return ""
}

// MaxOTPLength bounds a one-time password: the lab's are 20 characters.
const MaxOTPLength = 256

// OTPProblem checks a one-time password (first-authentication key): given,
// not absurdly long, and free of spaces and control characters, which no
// server issues and which would corrupt the HTTP Basic credentials.
func OTPProblem(v string) string {
	switch {
	case v == "":
		return "err.required"
	case len(v) > MaxOTPLength:
		return "err.field.otp"
	}
	for _, r := range v {
		if unicode.IsControl(r) || unicode.IsSpace(r) {
			return "err.field.otp"
		}
	}
	return ""
}
