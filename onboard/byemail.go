package onboard

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/mail"
	"strconv"
	"strings"

	"golang.org/x/oauth2"
)

// Sign-in outcomes a screen may word differently from a plain code; the
// *Error returned (code 30) wraps them.
var (
	ErrSignInDenied  = errors.New("sign-in was denied")
	ErrSignInExpired = errors.New("the sign-in code expired")
)

// ByEmail enrolls through the Onboarding Service: the e-mail is routed to a
// UMS (host, port, CA chain); where the service asks for sign-in, signIn is
// called with the code to show while the grant is polled; the enrollment
// token it yields is the Basic-auth password and the returned chain the
// only trust anchor for the UMS.
func (c *Client) ByEmail(ctx context.Context, email string, signIn func(DeviceCode)) (Result, error) {
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != strings.TrimSpace(email) || addr.Name != "" {
		return Result{}, fail(CodeInvalidArguments, nil, "%q is not an e-mail address", email)
	}
	email = addr.Address
	unitID, err := c.deviceUnitID()
	if err != nil {
		return Result{}, err
	}
	if err := c.checkWritable(); err != nil {
		return Result{}, err
	}
	if c.serviceURL == "" {
		return Result{}, fail(CodeServiceUnreachable, nil, "no Onboarding Service is configured")
	}
	roots := c.serviceRoots
	if roots == nil {
		if roots, err = x509.SystemCertPool(); err != nil {
			return Result{}, fail(CodeSystemTrustStore, err, "load the system trust store")
		}
	}
	svc := c.httpClient(&tls.Config{RootCAs: roots}, obsCodes, true)
	defer closeIdle(svc)
	base := strings.TrimSuffix(c.serviceURL, "/")
	c.log.Info("onboarding by e-mail", "service", base, "unit_id", unitID)

	var route RouteResponse
	if err := postJSON(ctx, svc, base+ServiceRoutePath, "", RouteRequest{Email: email}, &route); err != nil {
		return Result{}, err
	}
	chain, err := parsePEMCerts([]byte(route.CAChain))
	if err != nil {
		return Result{}, fail(CodeTrustChain, err, "the CA chain from the Onboarding Service")
	}
	if validHost(route.Host) != nil || route.Port < 1 || route.Port > 65535 {
		return Result{}, fail(CodeServiceUnreachable, nil, "the Onboarding Service named an invalid UMS address %q port %d", route.Host, route.Port)
	}
	password := route.EnrollmentToken
	if route.SignIn != nil {
		if password, err = c.signIn(ctx, svc, base, email, route.SignIn, signIn); err != nil {
			return Result{}, err
		}
	}
	if password == "" {
		return Result{}, fail(CodeServiceUnreachable, nil, "the Onboarding Service gave no enrollment token")
	}
	host := strings.Trim(route.Host, "[]")
	root := chain[len(chain)-1]
	t := &estTarget{
		base:   "https://" + net.JoinHostPort(host, strconv.Itoa(route.Port)) + estPath,
		root:   root,
		chain:  chain,
		client: c.httpClient(trustOnly(root, chain, host), umsCodes, true),
	}
	defer closeIdle(t.client)
	return c.enrollAndSave(ctx, t, unitID, password, ServerInfo{Server: host, Port: route.Port, Method: MethodService, OnboardedBy: email})
}

// signIn runs the device authorization grant and trades the access token
// for an enrollment token.
func (c *Client) signIn(ctx context.Context, svc *http.Client, base, email string, si *SignIn, show func(DeviceCode)) (string, error) {
	conf := &oauth2.Config{
		ClientID: si.ClientID,
		Endpoint: oauth2.Endpoint{DeviceAuthURL: si.DeviceAuthorizationEndpoint, TokenURL: si.TokenEndpoint, AuthStyle: oauth2.AuthStyleInParams},
		Scopes:   si.Scopes,
	}
	octx := context.WithValue(ctx, oauth2.HTTPClient, svc)
	da, err := conf.DeviceAuth(octx, oauth2.SetAuthURLParam("login_hint", email))
	if err != nil {
		return "", asError(ctx, err, CodeServiceUnreachable, "start the sign-in")
	}
	c.log.Info("sign-in started", "verification_uri", da.VerificationURI, "expires", da.Expiry)
	if show != nil {
		show(DeviceCode{UserCode: da.UserCode, VerificationURI: da.VerificationURI, VerificationURIComplete: da.VerificationURIComplete, Expires: da.Expiry})
	}
	tok, err := conf.DeviceAccessToken(octx, da)
	if err != nil {
		var re *oauth2.RetrieveError
		switch {
		case ctx.Err() != nil:
			return "", ctx.Err()
		case errors.As(err, &re) && re.ErrorCode == "access_denied":
			return "", &Error{Code: CodeServiceUnreachable, Reason: "sign-in was denied", Hint: "Sign in again with an account that may onboard devices.", Err: ErrSignInDenied}
		case errors.As(err, &re) && re.ErrorCode == "expired_token", errors.Is(err, context.DeadlineExceeded):
			return "", &Error{Code: CodeServiceUnreachable, Reason: "the sign-in code expired before sign-in was completed", Hint: "Start again and complete the sign-in in time.", Err: ErrSignInExpired}
		}
		return "", asError(ctx, err, CodeServiceUnreachable, "complete the sign-in")
	}
	var et EnrollmentTokenResponse
	if err := postJSON(ctx, svc, base+ServiceEnrollmentTokenPath, tok.AccessToken, RouteRequest{Email: email}, &et); err != nil {
		return "", err
	}
	return et.EnrollmentToken, nil
}

// postJSON posts in as JSON (with a bearer token if given) and decodes the
// answer into out. A 404 means the e-mail is unknown (32); any other
// failure means the service is not usable (30).
func postJSON(ctx context.Context, hc *http.Client, url, bearer string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return fail(CodeInvalidArguments, err, "encode the request")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return fail(CodeServiceUnreachable, err, "build the request")
	}
	req.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return asError(ctx, err, CodeServiceUnreachable, "reach the Onboarding Service")
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return asError(ctx, err, CodeServiceUnreachable, "read the Onboarding Service's answer")
	}
	if resp.StatusCode == http.StatusNotFound {
		return fail(CodeInvalidArguments, nil, "no UMS is registered with the Onboarding Service for this e-mail address or its domain")
	}
	if resp.StatusCode != http.StatusOK {
		var se ServiceError
		_ = json.Unmarshal(data, &se)
		return fail(CodeServiceUnreachable, nil, "the Onboarding Service answered %s %s", resp.Status, se.Error)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fail(CodeServiceUnreachable, err, "decode the Onboarding Service's answer")
	}
	return nil
}

// String shows the code for logs and plain-text prompts.
func (d DeviceCode) String() string {
	return fmt.Sprintf("open %s and enter %s", d.VerificationURI, d.UserCode)
}
