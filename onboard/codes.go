package onboard

import (
	"errors"
	"fmt"
	"strings"
)

// Meaning is the guide's short description of the code.
func (c Code) Meaning() string {
	switch c {
	case CodeServiceUnreachable:
		return "Onboarding Service not reachable"
	case CodeInvalidArguments:
		return "invalid arguments"
	case CodeESTInit:
		return "failed to initialize EST API"
	case CodeTrustChain:
		return "failed to load trust chain"
	case CodeKeyPair:
		return "failed to load key pair"
	case CodePrivateKey:
		return "failed to load private key"
	case CodeCACerts:
		return "failed to get CA certificates from server"
	case CodeEnroll:
		return "failed to enroll a certificate from server"
	case CodeRetrieveCert:
		return "failed to retrieve the enrolled certificate"
	case CodeConvertPEM:
		return "failed to convert the enrolled certificate to PEM"
	case CodeSaveCert:
		return "failed to save the enrolled certificate"
	case CodeTLSContext:
		return "failed to create a TLS context"
	case CodeTLSHandle:
		return "failed to create a TLS handle"
	case CodeTCPConnect:
		return "failed to establish a TCP connection"
	case CodeTLSConnect:
		return "failed to establish a TLS connection"
	case CodeVerifyChain:
		return "failed to verify TLS certificate chain"
	case CodeSystemTrustStore:
		return "failed to load system trust store"
	}
	return fmt.Sprintf("unknown onboarding error %d", int(c))
}

// Hint is what the user should check for the code, following the guide's
// troubleshooting sections ("Error 37/38 during the Onboarding").
func (c Code) Hint() string {
	switch c {
	case CodeServiceUnreachable:
		return "Check the network connection and that the device can reach the Onboarding Service over HTTPS, or skip the e-mail step and onboard with the server address and one-time password."
	case CodeInvalidArguments:
		return "Check the entered data: server name or IP address, port (1-65535), the one-time password, the communication token (16 hexadecimal characters) or the e-mail address."
	case CodeCACerts:
		return "The device could not get the CA certificates from the UMS. Check that it can open an HTTPS connection to the server (firewall, TLS inspection): " +
			"curl --tlsv1.3 --insecure https://SERVER:PORT/device-connector/device/.well-known/est/cacerts. " +
			"If that works, the server's CA chain may be incomplete (for example the root CA is missing): import the complete certificate chain on the server."
	case CodeEnroll:
		return "The UMS refused to enroll the device. Check whether the device already exists on the UMS (also in its recycle bin): search for its Unit ID, delete it permanently and onboard again. " +
			"Check that the one-time password is valid and not used yet, and that the UMS host name, public address or cluster address resolves from the device and matches its web certificate."
	case CodeSaveCert:
		return "The device could not store its certificate. Check that the system partition is writable and not full."
	case CodeTCPConnect:
		return "Check the server address and port, the network connection and firewalls between the device and the UMS."
	case CodeTLSConnect:
		return "The server did not complete a TLS 1.3 connection. Check that the port is the UMS web port (HTTPS) and that no proxy or TLS inspection is in the way."
	case CodeVerifyChain:
		return "The server's certificate did not match: check the communication token (part 3 of the root certificate fingerprint) and the server address, and that no TLS inspection is in the way."
	case CodeSystemTrustStore:
		return "The device's list of trusted certification authorities could not be loaded."
	}
	return "If the configuration looks correct, collect the device log files and contact support."
}

// fail builds an *Error with the code's hint; the reason is formatted from
// format and args and never contains a secret (callers pass none).
func fail(code Code, err error, format string, args ...any) *Error {
	reason := fmt.Sprintf(format, args...)
	if err != nil {
		reason += ": " + err.Error()
	}
	return &Error{Code: code, Reason: reason, Hint: code.Hint(), Err: err}
}

// CodeOf returns the onboarding code carried by err, if any.
func CodeOf(err error) (Code, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e.Code, true
	}
	return 0, false
}

// Detail is the text a screen shows under Error(): the meaning, the
// technical reason and what to check, one per line.
func (e *Error) Detail() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d: %s", int(e.Code), e.Code.Meaning())
	if e.Reason != "" {
		fmt.Fprintf(&b, "\n%s", e.Reason)
	}
	if e.Hint != "" {
		fmt.Fprintf(&b, "\n%s", e.Hint)
	}
	return b.String()
}
