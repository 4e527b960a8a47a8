// Package onboard brings a device under management: the Unit ID, the
// communication token, the EST enrollment client (RFC 7030) and the
// Onboarding Service client (e-mail routing, device authorization grant),
// with the failure codes 30–47 users look up in the guide. The reference
// server is in onboard/lab. It does not show anything (tui does).
package onboard

import (
	"context"
	"fmt"
	"time"
)

// Code is one of the guide's onboarding error codes.
type Code int

// The guide's codes ("Possible Error Codes During the Onboarding").
const (
	CodeServiceUnreachable Code = 30 // Onboarding Service not reachable
	CodeInvalidArguments   Code = 32
	CodeESTInit            Code = 33
	CodeTrustChain         Code = 34 // failed to load trust chain
	CodeKeyPair            Code = 35
	CodePrivateKey         Code = 36
	CodeCACerts            Code = 37 // failed to get CA certificates
	CodeEnroll             Code = 38 // failed to enroll a certificate
	CodeRetrieveCert       Code = 39
	CodeConvertPEM         Code = 40
	CodeSaveCert           Code = 41
	CodeTLSContext         Code = 42
	CodeTLSHandle          Code = 43
	CodeTCPConnect         Code = 44
	CodeTLSConnect         Code = 45
	CodeVerifyChain        Code = 46
	CodeSystemTrustStore   Code = 47
)

// Error is an onboarding failure with its code. Error() gives the screen
// text "Could not manage your device because of an internal error (<N>)";
// Reason is the technical cause (never a secret), Hint what to check.
type Error struct {
	Code   Code
	Reason string
	Hint   string
	Err    error
}

func (e *Error) Error() string {
	return fmt.Sprintf("Could not manage your device because of an internal error (%d)", int(e.Code))
}

func (e *Error) Unwrap() error { return e.Err }

// ServerRequest is the one-time-password flow's input.
type ServerRequest struct {
	Server string // FQDN (≤ 255 characters) or IP address
	Port   int    // default 8443
	OTP    string // first-authentication key (a secret)
	Token  string // communication token, part 3 of the root fingerprint
}

// DeviceCode is what the user needs to sign in on a second device (RFC 8628).
type DeviceCode struct {
	UserCode                string
	VerificationURI         string
	VerificationURIComplete string // for the QR code
	Expires                 time.Time
}

// Result says where the device is now managed.
type Result struct {
	Server   string
	Port     int
	UnitID   string
	CertPath string
}

// Onboarder is what the setup assistant uses. Client implements it; the
// demo uses a Client too, with a dialer that reaches an in-process lab.
type Onboarder interface {
	// ByServer enrolls with server address, port, one-time password and
	// communication token.
	ByServer(ctx context.Context, req ServerRequest) (Result, error)
	// ByEmail routes the e-mail through the Onboarding Service; when the
	// service asks for sign-in, signIn is called with the code to show
	// while polling goes on.
	ByEmail(ctx context.Context, email string, signIn func(DeviceCode)) (Result, error)
}
