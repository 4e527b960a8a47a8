package support

import (
	"strings"
	"testing"
)

// TestRedactForms: each way a secret is written in the files and logs a
// bundle holds loses its value and keeps its name; what is not a secret
// stays.
func TestRedactForms(t *testing.T) {
	in := `network={
	ssid="Corp"
	key_mgmt=WPA-EAP
	identity="alice"
	password="p@ss w0rd"
	private_key_passwd="kp-secret"
	psk=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
	wep_key0="wepwep"
	sim_pin=9876
}
{"password": "j\"son-pw", "apn": "internet"}
onboarding: {otp: OTP-1234-XY, token: 0011223344556677}
first_authentication_key: FAK-777
pin: '2468'
Authorization: Basic dXNlcjpwYXNz
curl https://bob:url-secret@ums.example.com:8443/
-----BEGIN EC PRIVATE KEY-----
MHcCAQEEIAbc
-----END EC PRIVATE KEY-----
keyboard_layout=de
-----BEGIN PRIVATE KEY-----
cut off`
	r := newRedactor()
	r.learn(in)
	out, n := r.redact(in + "\nlater the log says p@ss w0rd and FAK-777 again")
	for _, secret := range []string{"p@ss w0rd", "kp-secret", "0123456789abcdef", "wepwep", "9876", `j\"son-pw`,
		"OTP-1234-XY", "0011223344556677", "FAK-777", "2468", "dXNlcjpwYXNz", "url-secret", "MHcCAQEEIAbc", "cut off"} {
		if strings.Contains(out, secret) {
			t.Errorf("%q survived:\n%s", secret, out)
		}
	}
	for _, kept := range []string{`ssid="Corp"`, "key_mgmt=WPA-EAP", `identity="alice"`, `password="[REDACTED]"`,
		`"apn": "internet"`, "keyboard_layout=de", "https://bob:[REDACTED]@ums.example.com", "[REDACTED PRIVATE KEY]"} {
		if !strings.Contains(out, kept) {
			t.Errorf("%q lost:\n%s", kept, out)
		}
	}
	if n < 12 {
		t.Errorf("%d redactions counted", n)
	}
	// Redacting twice changes nothing more.
	if again, _ := r.redact(out); again != out {
		t.Errorf("second pass changed the text:\n%s", again)
	}
}

// FuzzRedact: any text, with a secret given as psk= once and repeated
// bare elsewhere, comes out without the secret and without a panic.
func FuzzRedact(f *testing.F) {
	f.Add("ssid=x\n", "secret99")
	f.Add(`{"password":"a","x":1}`, "abcd")
	f.Add("-----BEGIN PRIVATE KEY-----\n", "zzzz9")
	f.Fuzz(func(t *testing.T, text, secret string) {
		if len(secret) < minSecret || strings.Trim(secret, "abcdefghijklmnopqrstuvwxyz0123456789") != "" {
			return
		}
		in := "psk=" + secret + "\n" + text + secret
		r := newRedactor()
		r.learn(in)
		out, _ := r.redact(in)
		if strings.Contains(out, secret) {
			t.Fatalf("%q survived in %q", secret, out)
		}
	})
}
