package netcfg

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestValidateDot1X(t *testing.T) {
	for _, tc := range []struct {
		c     Dot1XConfig
		field string
	}{
		{Dot1XConfig{EAP: EAPPEAP, Identity: `dom\alice`, Password: "p w"}, ""},
		{Dot1XConfig{EAP: EAPTLS, Identity: "dev", ClientCert: "/a/c.pem", PrivateKey: "/a/k.pem", CACert: "/a/ca.pem"}, ""},
		{Dot1XConfig{EAP: "md5", Identity: "a", Password: "x"}, "dot1x.eap"},
		{Dot1XConfig{EAP: EAPPEAP, Password: "x"}, "dot1x.identity"},
		{Dot1XConfig{EAP: EAPPEAP, Identity: `a"b`, Password: "x"}, "dot1x.identity"},
		{Dot1XConfig{EAP: EAPPEAP, Identity: "a"}, "dot1x.password"},
		{Dot1XConfig{EAP: EAPPEAP, Identity: "a", Password: "x\ny"}, "dot1x.password"},
		{Dot1XConfig{EAP: EAPPEAP, Identity: "a", Password: "x", CACert: "ca.pem"}, "dot1x.ca_cert"},
		{Dot1XConfig{EAP: EAPTLS, Identity: "a"}, "dot1x.client_cert"},
		{Dot1XConfig{EAP: EAPTLS, Identity: "a", ClientCert: "/c", PrivateKey: "/k\"x"}, "dot1x.private_key"},
		{Dot1XConfig{EAP: EAPTLS, Identity: "a", ClientCert: "/c", KeyPassword: "a\rb"}, "dot1x.key_password"},
	} {
		err := ValidateDot1X(tc.c)
		var fe *FieldError
		switch {
		case tc.field == "" && err != nil:
			t.Errorf("%+v: %v", tc.c, err)
		case tc.field != "" && (!errors.As(err, &fe) || fe.Field != tc.field):
			t.Errorf("%+v: %v, want a %s error", tc.c, err, tc.field)
		}
	}
}

// Certificate files are read bounded and must hold what they are for.
func TestCheckDot1XFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cert := "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
	key := "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n"
	ca, dev, k, both := write("ca.pem", cert), write("dev.pem", cert), write("dev.key", key), write("both.pem", cert+key)
	big := write("big.pem", strings.Repeat("A", MaxCertFile+1))
	for _, tc := range []struct {
		c     Dot1XConfig
		field string
	}{
		{Dot1XConfig{EAP: EAPTLS, CACert: ca, ClientCert: dev, PrivateKey: k}, ""},
		{Dot1XConfig{EAP: EAPTLS, ClientCert: both}, ""},
		{Dot1XConfig{EAP: EAPPEAP, CACert: ca}, ""},
		{Dot1XConfig{EAP: EAPTLS, ClientCert: dev}, "dot1x.client_cert"}, // no key in it
		{Dot1XConfig{EAP: EAPTLS, ClientCert: dev, PrivateKey: ca}, "dot1x.private_key"},
		{Dot1XConfig{EAP: EAPTLS, ClientCert: k, PrivateKey: k}, "dot1x.client_cert"},
		{Dot1XConfig{EAP: EAPPEAP, CACert: filepath.Join(dir, "missing.pem")}, "dot1x.ca_cert"},
		{Dot1XConfig{EAP: EAPPEAP, CACert: big}, "dot1x.ca_cert"},
	} {
		err := CheckDot1XFiles(tc.c)
		var fe *FieldError
		switch {
		case tc.field == "" && err != nil:
			t.Errorf("%+v: %v", tc.c, err)
		case tc.field != "" && (!errors.As(err, &fe) || fe.Field != tc.field):
			t.Errorf("%+v: %v, want a %s error", tc.c, err, tc.field)
		}
	}
}
