package support

import (
	"regexp"
	"sort"
	"strings"
)

// Redacted stands where a secret was.
const Redacted = "[REDACTED]"

// secretName matches the names under which secrets are kept in the files
// and logs a bundle holds: wpa_supplicant's psk, wep_key0..3, password and
// private_key_passwd, the answers file's key, pin, otp and token, JSON's
// "password", and anything ending in one of these after a separator
// (first_authentication_key, communication_token). key_mgmt or keyboard
// are not secrets: the name must end there.
const secretName = `(?:[a-z0-9]+[_.-])*(?:psk|wep_key[0-3]|password|passwd|passphrase|private_key_passwd|pin|puk|otp|one_?time_?password|token|secret|key|credentials?)`

var (
	// pairRE is NAME=VALUE, NAME: VALUE, "NAME": "VALUE" and the like; the
	// value is quoted or runs to white space or a separator.
	pairRE = regexp.MustCompile(`(?i)((?:^|[\s{,;&?("'])["']?` + secretName + `["']?[ \t]*[:=][ \t]*)("(?:[^"\\\n]|\\.)*"|'[^'\n]*'|[^\s,;&}"')]+)`)
	// authRE is an HTTP Authorization header: the whole rest of the line.
	authRE = regexp.MustCompile(`(?i)((?:proxy-)?authorization["']?[ \t]*[:=][ \t]*)[^\n]+`)
	// urlRE is a password in a URL (scheme://user:password@host).
	urlRE = regexp.MustCompile(`(?i)(\b[a-z][a-z0-9+.-]*://[^/\s:@]+:)[^@\s/]+@`)
	// pemRE is a PEM private key block of any kind (PKCS#8, EC, RSA,
	// encrypted), also one cut off by a size cap.
	pemRE = regexp.MustCompile(`(?s)-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\z)`)
)

// minSecret is the shortest value learned as a secret to scrub everywhere:
// shorter ones (a boolean, a port) would eat ordinary text.
const minSecret = 4

// redactor removes secrets from text. It learns the values of every
// secret-named field it sees, so that a value kept in one file (the WLAN
// key of wpa_supplicant.conf, the one-time password of an answers file) is
// scrubbed wherever else it turns up too: in the journal, a command's
// output, a file name.
type redactor struct {
	known map[string]bool
}

func newRedactor() *redactor { return &redactor{known: map[string]bool{}} }

// learn records the secret values in text.
func (r *redactor) learn(text string) {
	for _, m := range pairRE.FindAllStringSubmatch(text, -1) {
		r.add(m[2])
	}
	for _, m := range urlRE.FindAllStringSubmatch(text, -1) {
		r.add(strings.TrimSuffix(m[0][len(m[1]):], "@"))
	}
}

func (r *redactor) add(v string) {
	v = strings.TrimSpace(v)
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
		v = v[1 : len(v)-1]
	}
	if len(v) < minSecret || v == Redacted || strings.EqualFold(v, "null") {
		return
	}
	r.known[v] = true
	// JSON and YAML escape quotes and backslashes: know that form too.
	if e := strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v); e != v {
		r.known[e] = true
	}
}

// redact returns text without secrets and how many it removed.
func (r *redactor) redact(text string) (string, int) {
	n := 0
	text = pemRE.ReplaceAllStringFunc(text, func(string) string { n++; return "[REDACTED PRIVATE KEY]" })
	text = authRE.ReplaceAllStringFunc(text, func(m string) string {
		n++
		return authRE.FindStringSubmatch(m)[1] + Redacted
	})
	text = urlRE.ReplaceAllStringFunc(text, func(m string) string {
		n++
		return urlRE.FindStringSubmatch(m)[1] + Redacted + "@"
	})
	text = pairRE.ReplaceAllStringFunc(text, func(m string) string {
		sub := pairRE.FindStringSubmatch(m)
		if strings.Trim(sub[2], `"'`) == Redacted {
			return m
		}
		n++
		q := ""
		if c := sub[2][0]; c == '"' || c == '\'' {
			q = string(c)
		}
		return sub[1] + q + Redacted + q
	})
	// Longest first, so a secret containing another is removed whole.
	values := make([]string, 0, len(r.known))
	for v := range r.known {
		values = append(values, v)
	}
	sort.Slice(values, func(i, j int) bool { return len(values[i]) > len(values[j]) })
	for _, v := range values {
		if c := strings.Count(text, v); c > 0 {
			n += c
			text = strings.ReplaceAll(text, v, Redacted)
		}
	}
	return text, n
}
