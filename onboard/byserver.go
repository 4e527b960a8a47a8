package onboard

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"unicode"
)

// ByServer enrolls with the one-time-password flow of DESIGN.md:
//
//  1. a bootstrap TLS 1.3 session fetches cacerts and is used for nothing
//     else;
//  2. the root among them must match the communication token, else nothing
//     more is sent (46);
//  3. a new session trusting only that root posts simpleenroll with the
//     CSR (CN = Unit ID) and Basic auth (Unit ID, one-time password);
//  4. key, certificate, chain and server.json are saved.
//
// Every failure is an *Error with its code; a cancelled ctx returns the
// context's error.
func (c *Client) ByServer(ctx context.Context, req ServerRequest) (Result, error) {
	host, port, token, err := validateServerRequest(req)
	if err != nil {
		return Result{}, err
	}
	unitID, err := c.deviceUnitID()
	if err != nil {
		return Result{}, err
	}
	if err := c.checkWritable(); err != nil {
		return Result{}, err
	}
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	base := "https://" + addr + estPath
	c.log.Info("onboarding by server", "server", addr, "unit_id", unitID)

	certs, err := c.fetchCACerts(ctx, base)
	if err != nil {
		return Result{}, withServer(err, addr)
	}
	roots, others := splitRoots(certs)
	if len(roots) == 0 {
		return Result{}, withServer(fail(CodeCACerts, nil, "the CA certificates from %s contain no root certificate (incomplete chain)", addr), addr)
	}
	var root *x509.Certificate
	for _, r := range roots {
		if token.Matches(FingerprintOf(r.Raw)) {
			root = r
		}
	}
	if root == nil {
		// Only that they differ: echoing the server's part would hand
		// whoever answered the token to type.
		return Result{}, fail(CodeVerifyChain, nil, "the root certificate of %s does not match the communication token", addr)
	}
	chain := chainTo(root, others)
	t := &estTarget{base: base, root: root, chain: chain, client: c.httpClient(trustOnly(root, chain, host), umsCodes, true)}
	defer closeIdle(t.client)
	return c.enrollAndSave(ctx, t, unitID, req.OTP, ServerInfo{Server: host, Port: port, Method: MethodOTP})
}

// withServer puts the server address into the curl check of code 37's hint.
func withServer(err error, addr string) error {
	if e, ok := err.(*Error); ok && e.Code == CodeCACerts {
		e.Hint = strings.Replace(e.Hint, "SERVER:PORT", addr, 1)
	}
	return err
}

// enrollAndSave is steps 3 and 4, shared by both flows.
func (c *Client) enrollAndSave(ctx context.Context, t *estTarget, unitID, password string, info ServerInfo) (Result, error) {
	key, csr, err := newKeyAndCSR(unitID)
	if err != nil {
		return Result{}, err
	}
	leaf, err := c.enroll(ctx, t, "simpleenroll", unitID, password, key, csr)
	if err != nil {
		return Result{}, err
	}
	info.UnitID = unitID
	info.Serial = leaf.SerialNumber.Text(16)
	info.RootSHA256 = FingerprintOf(t.root.Raw).String()
	info.EnrolledAt = c.now().UTC()
	path, err := c.save(key, leaf, t.chain, info)
	if err != nil {
		return Result{}, err
	}
	c.log.Info("enrolled", "server", info.Server, "port", info.Port, "unit_id", unitID, "serial", info.Serial)
	return Result{Server: info.Server, Port: info.Port, UnitID: unitID, CertPath: path}, nil
}

func (c *Client) deviceUnitID() (string, error) {
	id, err := c.unitID()
	if err != nil {
		return "", fail(CodeESTInit, err, "determine the Unit ID")
	}
	if !ValidUnitID(id) {
		return "", fail(CodeESTInit, nil, "%q is not a Unit ID (12 upper-case hexadecimal characters)", id)
	}
	return id, nil
}

// fetchCACerts is step 1. The bootstrap session cannot verify the server
// yet (the root comes from this very answer), so it checks nothing but
// carries nothing either: the token check decides.
func (c *Client) fetchCACerts(ctx context.Context, base string) ([]*x509.Certificate, error) {
	boot := c.httpClient(&tls.Config{InsecureSkipVerify: true}, umsCodes, false) // #nosec G402 -- see above
	defer closeIdle(boot)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"cacerts", nil)
	if err != nil {
		return nil, fail(CodeESTInit, err, "build the cacerts request")
	}
	resp, err := boot.Do(req)
	if err != nil {
		return nil, asError(ctx, err, CodeCACerts, "get cacerts")
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxESTBody))
	if err != nil {
		return nil, asError(ctx, err, CodeCACerts, "read cacerts")
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fail(CodeCACerts, nil, "cacerts: %s", serverReason(resp, body))
	}
	certs, err := ParseCertsOnly(body)
	if err != nil {
		return nil, fail(CodeCACerts, err, "decode cacerts")
	}
	return certs, nil
}

// trustOnly is a TLS configuration that accepts a server only if its
// certificate chains to root (the CA chain's intermediates may complete a
// chain the server sends incompletely) and is for host, the server as
// dialled: a name among its DNS SANs, an IP address (without brackets)
// among its IP SANs. The host is checked here rather than through the
// session's ServerName, which TLS leaves empty for an IP address.
func trustOnly(root *x509.Certificate, chain []*x509.Certificate, host string) *tls.Config {
	return &tls.Config{
		// Verification is done in VerifyConnection, against root alone.
		InsecureSkipVerify: true, // #nosec G402
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return &tls.CertificateVerificationError{Err: fmt.Errorf("the server sent no certificate")}
			}
			roots := x509.NewCertPool()
			roots.AddCert(root)
			inter := x509.NewCertPool()
			for _, c := range append(cs.PeerCertificates[1:], chain...) {
				inter.AddCert(c)
			}
			_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{
				Roots: roots, Intermediates: inter, DNSName: host,
				KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
			})
			if err != nil {
				return &tls.CertificateVerificationError{UnverifiedCertificates: cs.PeerCertificates, Err: err}
			}
			return nil
		},
	}
}

// validateServerRequest checks the user's input (32 on any problem) and
// returns host, port (default 8443) and the parsed token.
func validateServerRequest(req ServerRequest) (string, int, CommunicationToken, error) {
	host := strings.TrimSpace(req.Server)
	host = strings.TrimPrefix(strings.TrimPrefix(host, "https://"), "HTTPS://")
	host = strings.TrimSuffix(host, "/")
	if err := validHost(host); err != nil {
		return "", 0, "", fail(CodeInvalidArguments, nil, "server address: %v", err)
	}
	host = strings.Trim(host, "[]")
	port := req.Port
	if port == 0 {
		port = DefaultPort
	}
	if port < 1 || port > 65535 {
		return "", 0, "", fail(CodeInvalidArguments, nil, "port %d is not between 1 and 65535", req.Port)
	}
	if req.OTP == "" || len(req.OTP) > 256 || strings.IndexFunc(req.OTP, unicode.IsControl) >= 0 {
		return "", 0, "", fail(CodeInvalidArguments, nil, "the one-time password is empty, too long or contains control characters")
	}
	token, err := ParseToken(req.Token)
	if err != nil {
		return "", 0, "", fail(CodeInvalidArguments, err, "check the communication token")
	}
	return host, port, token, nil
}

// validHost accepts an IP address (IPv6 with or without brackets) or a DNS
// name of at most 255 characters.
func validHost(h string) error {
	if h == "" {
		return fmt.Errorf("empty")
	}
	if ip := net.ParseIP(strings.Trim(h, "[]")); ip != nil {
		return nil
	}
	if len(h) > 255 {
		return fmt.Errorf("longer than 255 characters")
	}
	for _, label := range strings.Split(strings.TrimSuffix(h, "."), ".") {
		if label == "" || len(label) > 63 {
			return fmt.Errorf("%q is not a host name", h)
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return fmt.Errorf("%q is not a host name", h)
			}
		}
		if label[0] == '-' || label[len(label)-1] == '-' {
			return fmt.Errorf("%q is not a host name", h)
		}
	}
	return nil
}
