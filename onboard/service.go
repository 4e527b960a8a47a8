package onboard

// The Onboarding Service protocol is this project's own (DESIGN.md,
// "Onboarding protocol"): JSON over HTTPS below the service's base URL.
//
//	POST BASE/v1/route             {"email"} → RouteResponse, 404 if unknown
//	POST BASE/v1/enrollment-token  {"email"}, Authorization: Bearer ACCESS
//	                               → {"enrollment_token"}
//
// Sign-in is the OAuth 2.0 device authorization grant (RFC 8628) against
// the endpoints RouteResponse.SignIn names; the user's e-mail goes along as
// login_hint.

// Paths below the service base URL.
const (
	ServiceRoutePath           = "/v1/route"
	ServiceEnrollmentTokenPath = "/v1/enrollment-token"
)

// RouteRequest asks where an e-mail address is managed.
type RouteRequest struct {
	Email string `json:"email"`
}

// RouteResponse names the UMS for an e-mail address. Exactly one of
// EnrollmentToken (no sign-in needed) and SignIn is set.
type RouteResponse struct {
	Host            string  `json:"host"`
	Port            int     `json:"port"`
	CAChain         string  `json:"ca_chain"` // PEM, root last: the only trust anchor for the UMS
	EnrollmentToken string  `json:"enrollment_token,omitempty"`
	SignIn          *SignIn `json:"sign_in,omitempty"`
}

// SignIn names the device authorization grant endpoints.
type SignIn struct {
	ClientID                    string   `json:"client_id"`
	DeviceAuthorizationEndpoint string   `json:"device_authorization_endpoint"`
	TokenEndpoint               string   `json:"token_endpoint"`
	Scopes                      []string `json:"scopes,omitempty"`
}

// EnrollmentTokenResponse carries the Basic-auth password for simpleenroll.
type EnrollmentTokenResponse struct {
	EnrollmentToken string `json:"enrollment_token"`
}

// ServiceError is the body of a refused request (OAuth 2.0 style).
type ServiceError struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}
