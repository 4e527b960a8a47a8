package demo

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/mail"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/onramp-os/onramp/internal/atomicfile"
	"github.com/onramp-os/onramp/onboard"
)

// The demo UMS and its Onboarding Service routing.
const (
	Server    = "ums.example.com"
	Port      = 8443
	Domain    = "example.com" // e-mail domain mapped to the demo UMS
	UserCode  = "WDJB-MJHT"
	VerifyURL = "https://login.example.com/device"
)

// Onboarder is an in-process stand-in for a UMS and the Onboarding Service
// that follows the protocol of DESIGN.md: a real CA whose root fingerprint
// part 3 is the communication token, one-time first-authentication keys
// used up once, a registry that refuses a Unit ID twice, e-mail routing by
// domain with a device-code sign-in, and the files of a real enrollment
// written under the root. Errors carry the guide's codes.
type Onboarder struct {
	Root   string
	UnitID string
	// Step is the simulated time of each protocol round trip.
	Step time.Duration

	caKey  *ecdsa.PrivateKey
	caCert *x509.Certificate
	caDER  []byte

	mu       sync.Mutex
	keys     map[string]bool // one-time keys; true = used
	enrolled map[string]bool // Unit IDs
}

// demoCA is the demo UMS's root: a fixed key and certificate, so the
// communication token is the same in every demo run and in the examples.
// It secures nothing; never trust it outside the demo.
//
//go:embed demo-ca.pem
var demoCA []byte

// Token is the demo UMS's communication token.
func Token() string {
	o, err := NewOnboarder("", "", 0, 0)
	if err != nil {
		panic(err) // the embedded CA is broken: a build error in effect
	}
	return o.Token()
}

// NewOnboarder loads the demo CA and makes count one-time keys named
// OneTimeKey(i).
func NewOnboarder(root, unitID string, keys int, step time.Duration) (*Onboarder, error) {
	var cert *x509.Certificate
	var key *ecdsa.PrivateKey
	for rest := demoCA; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		var err error
		switch b.Type {
		case "CERTIFICATE":
			cert, err = x509.ParseCertificate(b.Bytes)
		case "EC PRIVATE KEY":
			key, err = x509.ParseECPrivateKey(b.Bytes)
		}
		if err != nil {
			return nil, err
		}
	}
	if cert == nil || key == nil {
		return nil, errors.New("the demo CA is incomplete")
	}
	o := &Onboarder{Root: root, UnitID: unitID, Step: step, caKey: key, caCert: cert, caDER: cert.Raw,
		keys: map[string]bool{}, enrolled: map[string]bool{}}
	for i := 1; i <= keys; i++ {
		o.keys[OneTimeKey(i)] = false
	}
	return o, nil
}

// OneTimeKey is the demo's i-th first-authentication key.
func OneTimeKey(i int) string { return fmt.Sprintf("DEMO-OTP-%04d", i) }

// Token is the communication token: part 3 of the root's SHA-256.
func (o *Onboarder) Token() string {
	sum := sha256.Sum256(o.caDER)
	return strings.ToUpper(hex.EncodeToString(sum[:])[32:48])
}

func (o *Onboarder) wait(ctx context.Context) error {
	if o.Step <= 0 {
		return ctx.Err()
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(o.Step):
		return nil
	}
}

func fail(code onboard.Code, reason, hint string) error {
	return &onboard.Error{Code: code, Reason: reason, Hint: hint}
}

// normToken drops ':' and spaces and upper-cases, as the token is compared.
func normToken(s string) string {
	return strings.ToUpper(strings.NewReplacer(":", "", " ", "").Replace(s))
}

// ByServer enrolls with server, port, one-time password and token.
func (o *Onboarder) ByServer(ctx context.Context, req onboard.ServerRequest) (onboard.Result, error) {
	if req.Server == "" || len(req.Server) > 255 || req.Port < 1 || req.Port > 65535 || req.OTP == "" || len(normToken(req.Token)) != 16 {
		return onboard.Result{}, fail(onboard.CodeInvalidArguments, "server, port, one-time password or token is invalid", "")
	}
	if err := o.wait(ctx); err != nil {
		return onboard.Result{}, err
	}
	if !strings.EqualFold(req.Server, Server) || req.Port != Port {
		return onboard.Result{}, fail(onboard.CodeTCPConnect, fmt.Sprintf("no connection to %s", net.JoinHostPort(req.Server, fmt.Sprint(req.Port))),
			"Check the server address and the port, and that a firewall lets the device through.")
	}
	if err := o.wait(ctx); err != nil {
		return onboard.Result{}, err
	}
	if normToken(req.Token) != o.Token() {
		return onboard.Result{}, fail(onboard.CodeVerifyChain, "the server's root certificate does not match the communication token",
			"Check the communication token: part 3 of the root certificate fingerprint (SHA-256) of the UMS.")
	}
	return o.enroll(ctx, Server, Port, req.OTP)
}

// ByEmail routes the e-mail to the demo UMS when its domain is mapped,
// after a device-code sign-in the demo approves by itself.
func (o *Onboarder) ByEmail(ctx context.Context, email string, signIn func(onboard.DeviceCode)) (onboard.Result, error) {
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email {
		return onboard.Result{}, fail(onboard.CodeInvalidArguments, "the e-mail address is invalid", "")
	}
	if err := o.wait(ctx); err != nil {
		return onboard.Result{}, err
	}
	_, domain, _ := strings.Cut(email, "@")
	if !strings.EqualFold(domain, Domain) {
		return onboard.Result{}, fail(onboard.CodeInvalidArguments, "the Onboarding Service knows no UMS for "+domain,
			"Check the e-mail address, or ask your administrator to map your domain in the Onboarding Service.")
	}
	if signIn != nil {
		signIn(onboard.DeviceCode{UserCode: UserCode, VerificationURI: VerifyURL, VerificationURIComplete: VerifyURL + "?user_code=" + UserCode})
	}
	for i := 0; i < 3; i++ { // authorization_pending, then approved
		if err := o.wait(ctx); err != nil {
			return onboard.Result{}, err
		}
	}
	return o.enroll(ctx, Server, Port, "")
}

func (o *Onboarder) enroll(ctx context.Context, server string, port int, otp string) (onboard.Result, error) {
	o.mu.Lock()
	switch used, known := o.keys[otp]; {
	case otp != "" && !known:
		o.mu.Unlock()
		return onboard.Result{}, fail(onboard.CodeEnroll, "the server refused the first-authentication key",
			"Check the one-time password; create a new first-authentication key in the UMS if in doubt.")
	case otp != "" && used:
		o.mu.Unlock()
		return onboard.Result{}, fail(onboard.CodeEnroll, "the first-authentication key was already used",
			"A one-time key serves one device only: create a new one in the UMS.")
	case o.enrolled[o.UnitID]:
		o.mu.Unlock()
		return onboard.Result{}, fail(onboard.CodeEnroll, "the device already exists on the server",
			"Delete the device with Unit ID "+o.UnitID+" in the UMS, empty the recycle bin, then retry.")
	}
	if otp != "" {
		o.keys[otp] = true
	}
	o.enrolled[o.UnitID] = true
	o.mu.Unlock()
	if err := o.wait(ctx); err != nil {
		return onboard.Result{}, err
	}
	dir := filepath.Join(o.Root, "etc/onramp/ums")
	if err := o.save(dir, server, port); err != nil {
		return onboard.Result{}, &onboard.Error{Code: onboard.CodeSaveCert, Reason: "saving the certificate failed", Err: err,
			Hint: "Check that " + dir + " is writable."}
	}
	return onboard.Result{Server: server, Port: port, UnitID: o.UnitID, CertPath: filepath.Join(dir, "device.crt")}, nil
}

func (o *Onboarder) save(dir, server string, port int) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: o.UnitID},
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().AddDate(2, 0, 0),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, o.caCert, &key.PublicKey, o.caKey)
	if err != nil {
		return err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	meta, _ := json.MarshalIndent(map[string]any{"server": server, "port": port, "unit_id": o.UnitID}, "", "  ")
	files := []struct {
		name string
		data []byte
		perm uint32
	}{
		{"device.key", pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600},
		{"device.crt", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644},
		{"ca.crt", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: o.caDER}), 0o644},
		{"server.json", append(meta, '\n'), 0o644},
	}
	for _, f := range files {
		if err := atomicfile.WriteFile(filepath.Join(dir, f.name), f.data, osMode(f.perm)); err != nil {
			return err
		}
	}
	return nil
}
