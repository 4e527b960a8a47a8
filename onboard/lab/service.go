package lab

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"html/template"
	"net"
	"net/http"
	"net/mail"
	"strconv"
	"strings"
	"time"

	"github.com/onramp-os/onramp/onboard"
)

// Paths of the Onboarding Service and the built-in identity provider.
const (
	servicePrefix = "/onboarding"
	idpAuthorize  = "/idp/device/authorize"
	idpToken      = "/idp/token"
	idpVerify     = "/idp/device"
	clientID      = "onramp-setup-assistant"
	deviceGrant   = "urn:ietf:params:oauth:grant-type:device_code"
	accessTTL     = 10 * time.Minute
)

func (s *Server) routesService(mux *http.ServeMux) {
	mux.HandleFunc("POST "+servicePrefix+onboard.ServiceRoutePath, s.route)
	mux.HandleFunc("POST "+servicePrefix+onboard.ServiceEnrollmentTokenPath, s.enrollmentToken)
	mux.HandleFunc("POST "+idpAuthorize, s.deviceAuthorize)
	mux.HandleFunc("POST "+idpToken, s.token)
	mux.HandleFunc("GET "+idpVerify, s.verifyPage)
	mux.HandleFunc("POST "+idpVerify, s.verifyDecide)
}

// route answers where an e-mail address is managed: the UMS address, the
// CA chain and either sign-in endpoints or (for mappings without sign-in)
// an enrollment token.
func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	var req onboard.RouteRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || !isEmail(req.Email) {
		writeJSON(w, http.StatusBadRequest, onboard.ServiceError{Error: "invalid_request", Description: "an e-mail address is required"})
		return
	}
	m, err := s.db.route(r.Context(), req.Email)
	if errors.Is(err, ErrNotFound) {
		writeJSON(w, http.StatusNotFound, onboard.ServiceError{Error: "unknown_email"})
		return
	}
	if err != nil {
		s.internal(w, "route", err)
		return
	}
	resp := onboard.RouteResponse{Host: m.Host, Port: m.Port, CAChain: string(s.CA.ChainPEM())}
	if resp.Host == "" {
		// This lab itself, as the device reached it.
		resp.Host, resp.Port = r.Host, 443
		if host, port, err := net.SplitHostPort(r.Host); err == nil {
			resp.Host = host
			resp.Port, _ = strconv.Atoi(port)
		}
	}
	if m.SignIn {
		base := "https://" + r.Host
		resp.SignIn = &onboard.SignIn{
			ClientID:                    clientID,
			DeviceAuthorizationEndpoint: base + idpAuthorize,
			TokenEndpoint:               base + idpToken,
			Scopes:                      []string{"onboard"},
		}
	} else if resp.EnrollmentToken, err = s.issueEnrollmentToken(r, req.Email); err != nil {
		s.internal(w, "route", err)
		return
	}
	s.log.Info("routed", "mapping", m.Kind+":"+m.Value, "sign_in", m.SignIn)
	writeJSON(w, http.StatusOK, resp)
}

// enrollmentToken trades a device-flow access token for an enrollment
// token (a one-time key recorded with the e-mail that signed in).
func (s *Server) enrollmentToken(w http.ResponseWriter, r *http.Request) {
	access, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || access == "" {
		writeJSON(w, http.StatusUnauthorized, onboard.ServiceError{Error: "invalid_token"})
		return
	}
	email, err := s.db.useAccessToken(r.Context(), access)
	if err != nil {
		writeJSON(w, http.StatusUnauthorized, onboard.ServiceError{Error: "invalid_token"})
		return
	}
	token, err := s.issueEnrollmentToken(r, email)
	if err != nil {
		s.internal(w, "enrollment token", err)
		return
	}
	writeJSON(w, http.StatusOK, onboard.EnrollmentTokenResponse{EnrollmentToken: token})
}

func (s *Server) issueEnrollmentToken(r *http.Request, email string) (string, error) {
	secret := newSecret()
	id, err := s.db.addKey(r.Context(), KindEnrollment, secret, "", strings.ToLower(email))
	if err == nil {
		s.log.Info("enrollment token issued", "key_id", id)
	}
	return secret, err
}

// deviceAuthorize starts a device authorization grant (RFC 8628 3.1-3.2).
func (s *Server) deviceAuthorize(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	if r.PostForm.Get("client_id") != clientID {
		writeJSON(w, http.StatusBadRequest, onboard.ServiceError{Error: "invalid_client"})
		return
	}
	email := r.PostForm.Get("login_hint")
	if !isEmail(email) {
		writeJSON(w, http.StatusBadRequest, onboard.ServiceError{Error: "invalid_request", Description: "login_hint must be the e-mail address"})
		return
	}
	deviceCode, userCode := randomHex(32), newUserCode()
	expires := time.Now().Add(s.cfg.SignInTTL)
	if err := s.db.addDeviceCode(r.Context(), deviceCode, userCode, strings.ToLower(email), expires, s.cfg.PollInterval); err != nil {
		s.internal(w, "device authorization", err)
		return
	}
	verify := "https://" + r.Host + idpVerify
	s.log.Info("sign-in started")
	if s.cfg.AutoApprove > 0 {
		time.AfterFunc(s.cfg.AutoApprove, func() { s.autoApprove(userCode) })
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"device_code":               deviceCode,
		"user_code":                 userCode,
		"verification_uri":          verify,
		"verification_uri_complete": verify + "?user_code=" + userCode,
		"expires_in":                int(s.cfg.SignInTTL / time.Second),
		"interval":                  int(s.cfg.PollInterval / time.Second),
	})
}

// token is the token endpoint for the device-code grant (RFC 8628 3.4-3.5).
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	if r.PostForm.Get("grant_type") != deviceGrant {
		writeJSON(w, http.StatusBadRequest, onboard.ServiceError{Error: "unsupported_grant_type"})
		return
	}
	errCode, email, err := s.db.pollDeviceCode(r.Context(), r.PostForm.Get("device_code"))
	if err != nil {
		s.internal(w, "token", err)
		return
	}
	if errCode != "" {
		writeJSON(w, http.StatusBadRequest, onboard.ServiceError{Error: errCode})
		return
	}
	access := randomHex(32)
	if err := s.db.addAccessToken(r.Context(), access, email, time.Now().Add(accessTTL)); err != nil {
		s.internal(w, "token", err)
		return
	}
	s.log.Info("sign-in completed")
	writeJSON(w, http.StatusOK, map[string]any{"access_token": access, "token_type": "Bearer", "expires_in": int(accessTTL / time.Second)})
}

var verifyTmpl = template.Must(template.New("verify").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>ums-lab sign-in</title></head><body>
<h1>ums-lab test sign-in</h1>
{{if .Message}}<p>{{.Message}}</p>{{end}}
<form method="post">
<label>Code <input name="user_code" value="{{.UserCode}}" autocomplete="off"></label>
<button name="decision" value="approve">Approve</button>
<button name="decision" value="deny">Deny</button>
</form></body></html>
`))

// verifyPage is where the QR code leads: the built-in identity provider
// signs in as the e-mail the device asked for, once approved.
func (s *Server) verifyPage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = verifyTmpl.Execute(w, map[string]string{"UserCode": r.URL.Query().Get("user_code")})
}

func (s *Server) verifyDecide(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	approve := r.PostForm.Get("decision") == "approve"
	email, err := s.Decide(r.Context(), r.PostForm.Get("user_code"), approve)
	msg := "Signed in as " + email + ". You can return to the device."
	switch {
	case err != nil:
		msg = "The code is unknown or no longer valid."
	case !approve:
		msg = "Sign-in denied."
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = verifyTmpl.Execute(w, map[string]string{"Message": msg})
}

// autoApprove approves a sign-in as Config.AutoApprove asks, unless the
// server has stopped meanwhile.
func (s *Server) autoApprove(userCode string) {
	select {
	case <-s.done:
		return
	default:
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := s.Decide(ctx, userCode, true); err != nil {
		s.log.Warn("auto-approve", "err", err)
		return
	}
	s.log.Info("sign-in approved by itself")
}

func (s *Server) internal(w http.ResponseWriter, what string, err error) {
	s.log.Error(what, "err", err)
	writeJSON(w, http.StatusInternalServerError, onboard.ServiceError{Error: "server_error"})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func isEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s
}

// userCodeAlphabet is RFC 8628's suggestion: consonants only, no
// look-alikes.
const userCodeAlphabet = "BCDFGHJKLMNPQRSTVWXZ"

func newUserCode() string {
	out := make([]byte, 0, 9)
	b := make([]byte, 1)
	for len(out) < 9 {
		if len(out) == 4 {
			out = append(out, '-')
		}
		_, _ = rand.Read(b)
		if int(b[0]) >= 256/len(userCodeAlphabet)*len(userCodeAlphabet) {
			continue // keep the draw uniform
		}
		out = append(out, userCodeAlphabet[int(b[0])%len(userCodeAlphabet)])
	}
	return string(out)
}

// normalizeUserCode accepts "bcdf ghjk", "BCDFGHJK" or "BCDF-GHJK".
func normalizeUserCode(s string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		if strings.ContainsRune(userCodeAlphabet, r) {
			b.WriteRune(r)
		}
	}
	c := b.String()
	if len(c) == 8 {
		return c[:4] + "-" + c[4:]
	}
	return c
}
