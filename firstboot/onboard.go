package firstboot

import (
	"context"

	"github.com/onramp-os/onramp/onboard"
)

// OnboardRequest is one onboarding attempt: by company e-mail through the
// Onboarding Service, or (Server set) by server, one-time password and
// communication token.
type OnboardRequest struct {
	Email  string
	Server *onboard.ServerRequest
}

// Target names what the attempt contacts, for "Onboarding to ...".
func (r OnboardRequest) Target() string {
	if r.Server != nil {
		return r.Server.Server
	}
	return r.Email
}

// Onboard runs the attempt; signIn is called when the Onboarding Service
// asks the user to sign in on a second device (RFC 8628).
func Onboard(ctx context.Context, cfg *Config, r OnboardRequest, signIn func(onboard.DeviceCode)) (onboard.Result, error) {
	if r.Server != nil {
		return cfg.Onboarder.ByServer(ctx, *r.Server)
	}
	return cfg.Onboarder.ByEmail(ctx, r.Email, signIn)
}
