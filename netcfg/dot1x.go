package netcfg

import (
	"bytes"
	"crypto"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/onramp-os/onramp/internal/atomicfile"
	pkcs12 "software.sslmate.com/src/go-pkcs12"
)

// Wired 802.1X: a switch port that lets a device in only after it
// authenticated with EAP. wpa_supplicant's wired driver speaks EAPOL on
// the link; the live connection and the installed OS use the same
// settings (Dot1XSettings).

// Why 802.1X failed, for errors.Is.
var (
	ErrDot1XAuth        = errors.New("802.1X authentication failed: the identity, password or certificate was not accepted")
	ErrDot1XSilent      = errors.New("no 802.1X authenticator answered on this port")
	ErrDot1XServerCert  = errors.New("802.1X: the authentication server's certificate is not signed by the given CA")
	ErrDot1XKeyPassword = errors.New("802.1X: the key password does not open the device's certificate file")
)

// EAP is the 802.1X authentication method of a wired port.
type EAP string

// The methods offered ("802.1X" on the wired form).
const (
	EAPPEAP EAP = "peap" // user name + password inside TLS (PEAP/MSCHAPv2)
	EAPTLS  EAP = "tls"  // the device's certificate and private key (EAP-TLS)
)

// Dot1XConfig is what authenticating on an 802.1X port takes. Certificate
// and key files are PEM, or ClientCert is a PKCS#12 file (.p12/.pfx, as
// Windows CAs export them) holding the certificate and its key, opened
// with KeyPassword; CACert, when given, is the CA the authentication
// server's certificate must chain to (without it any server is accepted,
// which exposes a PEAP password to a rogue one).
type Dot1XConfig struct {
	EAP         EAP
	Identity    string
	Password    string // PEAP (a secret)
	CACert      string // path, optional
	ClientCert  string // EAP-TLS: the device's certificate (path): PEM, or PKCS#12 with the key
	PrivateKey  string // EAP-TLS: its key (path); "" when ClientCert holds the key too
	KeyPassword string // EAP-TLS: the key file's (or PKCS#12 file's) passphrase, "" when it has none (a secret)
}

// MaxCertFile bounds a certificate or key file: real ones are a few KiB.
const MaxCertFile = 256 << 10

// ValidateDot1X checks the form's values without touching files (answers
// are checked ahead of time, on another machine). Field names are the
// answers file's keys under network.wired.
func ValidateDot1X(c Dot1XConfig) error {
	switch c.EAP {
	case EAPPEAP, EAPTLS:
	default:
		return fieldErr("dot1x.eap", "use peap or tls")
	}
	if strings.TrimSpace(c.Identity) == "" {
		return fieldErr("dot1x.identity", "enter the identity (user name)")
	}
	if strings.ContainsAny(c.Identity, "\r\n\"") {
		return fieldErr("dot1x.identity", "the identity holds a line break or a quote")
	}
	for _, f := range []struct{ name, v string }{{"dot1x.password", c.Password}, {"dot1x.key_password", c.KeyPassword}} {
		if strings.ContainsAny(f.v, "\r\n") {
			return fieldErr(f.name, "the password holds a line break")
		}
	}
	for _, f := range []struct{ name, v string }{{"dot1x.ca_cert", c.CACert}, {"dot1x.client_cert", c.ClientCert}, {"dot1x.private_key", c.PrivateKey}} {
		if f.v != "" && (!filepath.IsAbs(f.v) || strings.ContainsAny(f.v, "\r\n\"")) {
			return fieldErr(f.name, "give the file's absolute path, like /media/usb/ca.pem")
		}
	}
	switch c.EAP {
	case EAPPEAP:
		if c.Password == "" {
			return fieldErr("dot1x.password", "enter the password")
		}
	case EAPTLS:
		if c.ClientCert == "" {
			return fieldErr("dot1x.client_cert", "EAP-TLS needs the device's certificate file")
		}
	}
	return nil
}

// CheckDot1XFiles reads the certificate and key files c names and checks
// they hold what they must: PEM certificates, a PEM private key (in
// PrivateKey, or in ClientCert when PrivateKey is empty), or a PKCS#12
// ClientCert that KeyPassword opens and that holds a certificate and its
// key. It runs on the device, before wpa_supplicant is started.
func CheckDot1XFiles(c Dot1XConfig) error {
	check := func(field, path string, want func(string) bool, what string) error {
		if path == "" {
			return nil
		}
		data, err := readBounded(path)
		if err != nil {
			return fieldErr(field, "%v", err)
		}
		for rest := data; ; {
			var b *pem.Block
			if b, rest = pem.Decode(rest); b == nil {
				return fieldErr(field, "%s holds no %s (PEM)", path, what)
			}
			if want(b.Type) {
				return nil
			}
		}
	}
	isCert := func(t string) bool { return t == "CERTIFICATE" }
	isKey := func(t string) bool { return strings.HasSuffix(t, "PRIVATE KEY") }
	if err := check("dot1x.ca_cert", c.CACert, isCert, "certificate"); err != nil {
		return err
	}
	if c.EAP != EAPTLS {
		return nil
	}
	if data, err := readBounded(c.ClientCert); err == nil && isPKCS12(data) {
		return checkPKCS12(c, data)
	}
	if err := check("dot1x.client_cert", c.ClientCert, isCert, "certificate"); err != nil {
		return err
	}
	if c.PrivateKey == "" {
		return check("dot1x.client_cert", c.ClientCert, isKey, "private key (or give private_key)")
	}
	return check("dot1x.private_key", c.PrivateKey, isKey, "private key")
}

// isPKCS12 tells a PKCS#12 file (DER: a SEQUENCE) from PEM text.
func isPKCS12(data []byte) bool {
	return len(data) > 4 && data[0] == 0x30 && !bytes.Contains(data, []byte("-----BEGIN"))
}

// IsPKCS12File reports whether path is a PKCS#12 file: by its name as the
// installed system keeps it (client.p12) or where it cannot be read, else
// by its content.
func IsPKCS12File(path string) bool {
	if ext := strings.ToLower(filepath.Ext(path)); ext == ".p12" || ext == ".pfx" {
		return true
	}
	data, err := readBounded(path)
	return err == nil && isPKCS12(data)
}

// checkPKCS12 opens ClientCert's PKCS#12 data with KeyPassword: it must
// hold the device's certificate and the key that matches it, and no
// separate private key file may be given.
func checkPKCS12(c Dot1XConfig, data []byte) error {
	if c.PrivateKey != "" {
		return fieldErr("dot1x.private_key", "%s is a PKCS#12 file holding the key: leave the private key file empty", c.ClientCert)
	}
	key, cert, _, err := pkcs12.DecodeChain(data, c.KeyPassword)
	switch {
	case errors.Is(err, pkcs12.ErrIncorrectPassword):
		return fmt.Errorf("%s: %w", c.ClientCert, ErrDot1XKeyPassword)
	case err != nil:
		return fieldErr("dot1x.client_cert", "%s holds no certificate and key (PEM or PKCS#12): %v", c.ClientCert, err)
	}
	var pub interface{ Equal(crypto.PublicKey) bool }
	if signer, ok := key.(crypto.Signer); ok {
		pub, _ = signer.Public().(interface{ Equal(crypto.PublicKey) bool })
	}
	if pub == nil || !pub.Equal(cert.PublicKey) {
		return fieldErr("dot1x.client_cert", "the key in %s does not belong to its certificate", c.ClientCert)
	}
	return nil
}

// readBounded reads a certificate or key file of at most MaxCertFile bytes.
func readBounded(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxCertFile+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(data) > MaxCertFile {
		return nil, fmt.Errorf("%s is larger than %d KiB", path, MaxCertFile>>10)
	}
	return data, nil
}

// Dot1XSettings are the wpa_supplicant network variables of c, for the
// live join (over the control interface) and the installed OS's file.
// eapol_flags=0: a wired port has no dynamic WEP keys to wait for.
func Dot1XSettings(c Dot1XConfig) []SupplicantSetting {
	s := []SupplicantSetting{{Name: "key_mgmt", Value: "IEEE8021X"}, {Name: "eapol_flags", Value: "0"},
		{Name: "identity", Value: quote(c.Identity)}}
	switch c.EAP {
	case EAPPEAP:
		s = append(s, SupplicantSetting{Name: "eap", Value: "PEAP"},
			SupplicantSetting{Name: "password", Value: quote(c.Password), Secret: true},
			SupplicantSetting{Name: "phase2", Value: `"auth=MSCHAPV2"`})
	case EAPTLS:
		key := c.PrivateKey
		if key == "" {
			key = c.ClientCert
		}
		s = append(s, SupplicantSetting{Name: "eap", Value: "TLS"})
		if !IsPKCS12File(c.ClientCert) { // a PKCS#12 file is given as the key alone: it holds the certificate
			s = append(s, SupplicantSetting{Name: "client_cert", Value: quote(c.ClientCert)})
		}
		s = append(s, SupplicantSetting{Name: "private_key", Value: quote(key)})
		if c.KeyPassword != "" {
			s = append(s, SupplicantSetting{Name: "private_key_passwd", Value: quote(c.KeyPassword), Secret: true})
		}
	}
	if c.CACert != "" {
		s = append(s, SupplicantSetting{Name: "ca_cert", Value: quote(c.CACert)})
	}
	return s
}

// WiredSupplicantFile is where a wired link's 802.1X configuration goes,
// the file Debian's wpa_supplicant-wired@IFACE.service reads.
func WiredSupplicantFile(root, iface string) string {
	return filepath.Join(root, "etc/wpa_supplicant", "wpa_supplicant-wired-"+iface+".conf")
}

// Dot1XDir is where the certificate and key files of a wired link's
// 802.1X configuration are kept for the installed OS (the paths the user
// gave are on a stick or in a temporary place).
func Dot1XDir(root, iface string) string {
	return filepath.Join(root, "etc/onramp/network/8021x", iface)
}

// writeDot1X keeps c for iface: the certificate files copied into
// Dot1XDir and wpa_supplicant-wired-IFACE.conf, all 0600 (passwords, the
// private key). With c nil, a configuration kept before is removed, so a
// link set up again without 802.1X does not go on authenticating.
func writeDot1X(root, iface string, c *Dot1XConfig) error {
	if c == nil {
		errs := []error{os.Remove(WiredSupplicantFile(root, iface)), os.RemoveAll(Dot1XDir(root, iface))}
		for _, err := range errs {
			if err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
		}
		return nil
	}
	if err := ValidateDot1X(*c); err != nil {
		return err
	}
	if err := CheckDot1XFiles(*c); err != nil {
		return err
	}
	kept := *c
	dir := Dot1XDir("", iface)
	for _, f := range []struct {
		path *string
		name string
	}{{&kept.CACert, "ca.pem"}, {&kept.ClientCert, "client.pem"}, {&kept.PrivateKey, "client.key"}} {
		if *f.path == "" {
			continue
		}
		if f.name == "client.pem" && IsPKCS12File(*f.path) {
			f.name = "client.p12"
		}
		data, err := readBounded(*f.path)
		if err != nil {
			return err
		}
		if err := atomicfile.WriteFileIn(root, filepath.Join(dir, f.name), data, 0o600); err != nil {
			return err
		}
		*f.path = filepath.Join("/", dir, f.name)
	}
	var b bytes.Buffer
	b.WriteString("# Written by the setup assistant.\nctrl_interface=/run/wpa_supplicant\nap_scan=0\n\nnetwork={\n")
	for _, s := range Dot1XSettings(kept) {
		fmt.Fprintf(&b, "\t%s=%s\n", s.Name, s.Value)
	}
	b.WriteString("}\n")
	return atomicfile.WriteFileIn(root, WiredSupplicantFile("", iface), b.Bytes(), 0o600)
}

// ReadDot1X reads back the 802.1X configuration kept for iface; nil when
// there is none. File paths are those of the installed OS.
func ReadDot1X(root, iface string) (*Dot1XConfig, error) {
	path := WiredSupplicantFile(root, iface)
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	vars := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), "="); ok {
			vars[k] = strings.TrimSuffix(strings.TrimPrefix(v, `"`), `"`)
		}
	}
	c := &Dot1XConfig{Identity: vars["identity"], Password: vars["password"], CACert: vars["ca_cert"],
		ClientCert: vars["client_cert"], PrivateKey: vars["private_key"], KeyPassword: vars["private_key_passwd"]}
	if c.ClientCert == "" && IsPKCS12File(c.PrivateKey) { // the PKCS#12 file holds both
		c.ClientCert, c.PrivateKey = c.PrivateKey, ""
	}
	switch vars["eap"] {
	case "PEAP":
		c.EAP = EAPPEAP
	case "TLS":
		c.EAP = EAPTLS
	default:
		return nil, fmt.Errorf("%s: eap %q is neither PEAP nor TLS", path, vars["eap"])
	}
	return c, nil
}
