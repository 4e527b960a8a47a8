package tui

import (
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"strconv"
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/onramp-os/onramp/onboard"
)

// Validation shared by the screens, the prompts and the answers file. Each
// returns a catalog key ("" when the value is fine).

func emailProblem(v string) string {
	a, err := mail.ParseAddress(v)
	if err != nil || a.Address != v || !strings.Contains(v, "@") {
		return "err.field.email"
	}
	return ""
}

// splitServer takes "host", "host:port" or an https URL apart; port is 0
// when the input has none.
func splitServer(v string) (host string, port int) {
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

func serverProblem(v string) string {
	host, _ := splitServer(v)
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

func portProblem(v string) string {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 1 || n > 65535 {
		return "err.field.port"
	}
	return ""
}

// normalizeToken is the communication token as compared: no ':' or spaces.
func normalizeToken(v string) string {
	return strings.NewReplacer(":", "", " ", "").Replace(strings.TrimSpace(v))
}

func tokenProblem(v string) string {
	t := normalizeToken(v)
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

func keyCheck(m *Setup, problem func(string) string) func(string) string {
	return func(v string) string {
		if k := problem(v); k != "" {
			return m.t(k)
		}
		return ""
	}
}

// newEmailPage asks for the company e-mail address (case kept) or Skip.
func newEmailPage(m *Setup) *formPage {
	email := textField("ob.email", keyCheck(m, emailProblem))
	email.set(m.choice.email)
	if email.value() == "" {
		email.set(m.cfg.Prefill.Onboarding.Email)
	}
	p := &formPage{id: "email", heading: "ob.email.heading", stepv: stepOnboarding}
	p.note = func(m *Setup) string { return m.t("ob.email.note") }
	p.form = &form{fields: []*field{email}, buttons: []button{
		{label: "btn.back", press: m.back},
		{label: "btn.skip", press: func() tea.Cmd { return m.goTo(newServerPage(m)) }},
		{label: "btn.continue", primary: true, press: func() tea.Cmd {
			m.choice.email = email.value()
			return m.goTo(newOnboardingPage(m, onboardRequest{email: email.value()}))
		}},
	}}
	return p
}

// newServerPage asks for URL / server address, port and one-time password.
func newServerPage(m *Setup) *formPage {
	pre := m.cfg.Prefill.Onboarding
	server := textField("ob.server", keyCheck(m, serverProblem))
	port := textField("ob.port", keyCheck(m, portProblem))
	otp := secretField("ob.otp", required(m))
	server.set(firstNonEmpty(m.choice.server, pre.Server))
	port.set("8443")
	if n := firstNonZero(m.choice.port, pre.Port); n != 0 {
		port.set(strconv.Itoa(n))
	}
	otp.set(pre.OTP)
	port.max = 5
	var req onboard.ServerRequest
	var token *formPage
	p := &formPage{id: "server", heading: "ob.server.heading", stepv: stepOnboarding}
	p.note = func(m *Setup) string { return m.t("ob.server.note") }
	p.form = &form{fields: []*field{server, port, otp}, buttons: []button{
		{label: "btn.back", press: m.back},
		{label: "btn.skip", press: func() tea.Cmd { return m.goTo(&starterPage{}) }},
		{label: "btn.continue", primary: true, press: func() tea.Cmd {
			host, n := splitServer(server.value())
			if n == 0 {
				n, _ = strconv.Atoi(strings.TrimSpace(port.value()))
			}
			m.choice.server, m.choice.port = host, n
			req = onboard.ServerRequest{Server: host, Port: n, OTP: otp.value()}
			if token == nil { // one token page, so a retry keeps what was typed
				token = newTokenPage(m, &req)
			}
			return m.goTo(token)
		}},
	}}
	return p
}

// newTokenPage asks for the communication token.
func newTokenPage(m *Setup, req *onboard.ServerRequest) *formPage {
	token := textField("ob.token", keyCheck(m, tokenProblem))
	token.set(m.cfg.Prefill.Onboarding.Token)
	token.max = 64
	p := &formPage{id: "token", heading: "ob.token.heading", stepv: stepOnboarding}
	p.note = func(m *Setup) string { return m.t("ob.token.note") }
	p.form = &form{fields: []*field{token}, buttons: []button{
		{label: "btn.back", press: m.back},
		{label: "btn.continue", primary: true, press: func() tea.Cmd {
			r := *req
			r.Token = normalizeToken(token.value())
			return m.goTo(newOnboardingPage(m, onboardRequest{server: &r}))
		}},
	}}
	return p
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

func firstNonZero(n ...int) int {
	for _, v := range n {
		if v != 0 {
			return v
		}
	}
	return 0
}

// codeMeaning is the guide's meaning of an onboarding error code.
func codeMeaning(m *Setup, c onboard.Code) string {
	key := fmt.Sprintf("ob.code.%d", int(c))
	if s := m.t(key); s != key {
		return s
	}
	return m.t("ob.code.unknown")
}
