package setup

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/onramp-os/onramp/firstboot"
	"github.com/onramp-os/onramp/onboard"
)

// Validation shared by the screens, the prompts and the answers file. Each
// returns a catalog key ("" when the value is fine).

func keyCheck(m *Model, problem func(string) string) func(string) string {
	return func(v string) string {
		if k := problem(v); k != "" {
			return m.t(k)
		}
		return ""
	}
}

// newEmailPage asks for the company e-mail address (case kept) or Skip.
func newEmailPage(m *Model) *formPage {
	email := textField("ob.email", keyCheck(m, firstboot.EmailProblem))
	email.set(m.choice.Email)
	if email.value() == "" {
		email.set(m.cfg.Prefill.Onboarding.Email)
	}
	p := &formPage{id: "email", heading: "ob.email.heading", stepv: firstboot.StepOnboarding}
	p.note = func(m *Model) string { return m.t("ob.email.note") }
	p.form = &form{fields: []*field{email}, buttons: []button{
		{label: "btn.back", press: m.back},
		{label: "btn.skip", press: func() tea.Cmd { return m.goTo(newServerPage(m)) }},
		{label: "btn.continue", primary: true, press: func() tea.Cmd {
			m.choice.Email = email.value()
			return m.goTo(newOnboardingPage(m, firstboot.OnboardRequest{Email: email.value()}))
		}},
	}}
	return p
}

// newServerPage asks for URL / server address, port and one-time password.
func newServerPage(m *Model) *formPage {
	pre := m.cfg.Prefill.Onboarding
	server := textField("ob.server", keyCheck(m, firstboot.ServerProblem))
	port := textField("ob.port", keyCheck(m, firstboot.PortProblem))
	otp := secretField("ob.otp", keyCheck(m, firstboot.OTPProblem))
	server.set(cmp.Or(m.choice.Server, pre.Server))
	port.set("8443")
	if n := cmp.Or(m.choice.Port, pre.Port); n != 0 {
		port.set(strconv.Itoa(n))
	}
	otp.set(pre.OTP)
	port.max = 5
	var req onboard.ServerRequest
	var token *formPage
	p := &formPage{id: "server", heading: "ob.server.heading", stepv: firstboot.StepOnboarding}
	p.note = func(m *Model) string { return m.t("ob.server.note") }
	p.form = &form{fields: []*field{server, port, otp}, buttons: []button{
		{label: "btn.back", press: m.back},
		{label: "btn.skip", press: func() tea.Cmd { return m.goTo(&starterPage{}) }},
		{label: "btn.continue", primary: true, press: func() tea.Cmd {
			host, n := firstboot.SplitServer(server.value())
			if n == 0 {
				n, _ = strconv.Atoi(strings.TrimSpace(port.value()))
			}
			m.choice.Server, m.choice.Port = host, n
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
func newTokenPage(m *Model, req *onboard.ServerRequest) *formPage {
	token := textField("ob.token", keyCheck(m, firstboot.TokenProblem))
	token.set(m.cfg.Prefill.Onboarding.Token)
	token.max = 64
	p := &formPage{id: "token", heading: "ob.token.heading", stepv: firstboot.StepOnboarding}
	p.note = func(m *Model) string { return m.t("ob.token.note") }
	p.form = &form{fields: []*field{token}, buttons: []button{
		{label: "btn.back", press: m.back},
		{label: "btn.continue", primary: true, press: func() tea.Cmd {
			r := *req
			r.Token = firstboot.NormalizeToken(token.value())
			return m.goTo(newOnboardingPage(m, firstboot.OnboardRequest{Server: &r}))
		}},
	}}
	return p
}

// codeMeaning is the guide's meaning of an onboarding error code.
func codeMeaning(m *Model, c onboard.Code) string {
	key := fmt.Sprintf("ob.code.%d", int(c))
	if s := m.t(key); s != key {
		return s
	}
	return m.t("ob.code.unknown")
}
