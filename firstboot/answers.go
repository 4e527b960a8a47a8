package firstboot

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/onramp-os/onramp/netcfg"
	"github.com/onramp-os/onramp/sysconf"
	"go.yaml.in/yaml/v3"
)

// Answers is an answers file (docs/answers.md): every step's input, for a
// headless run or to prefill the screens.
type Answers struct {
	Language   string
	Keyboard   KeyboardAnswer
	EULA       string // "accept"
	Network    NetworkAnswer
	Timezone   string // a tz name or "auto"
	Time       string // "2026-11-27T10:00:00", optional
	Onboarding OnboardingAnswer
	// RootPasswordHash is root's password as a crypt(3) hash: it opens
	// the rescue consoles once the setup is done (sysconf.RootPasswordPath).
	RootPasswordHash string

	// lines maps each key's path ("network.wlan.key") to its line in the
	// file, so that CheckAnswers' errors name the line too.
	lines map[string]int
}

// KeyboardAnswer is the keyboard layout and variant.
type KeyboardAnswer struct{ Layout, Variant string }

// NetworkAnswer is how to get online; Skip (or omitted) keeps what works.
type NetworkAnswer struct {
	Skip      bool
	Interface string
	Wired     *WiredAnswer
	WLAN      *WLANAnswer
	Mobile    *MobileAnswer
	Proxy     *ProxyAnswer // with any of them, or alone (the network kept as it is)
}

// WiredAnswer is "dhcp" (DHCP true: DHCPv4 and IPv6 from router
// advertisements) or a mapping: IPv4 static (address) or "dhcp"/"off"
// (ipv4), IPv6 "auto", "static" (address6) or "off" (ipv6).
type WiredAnswer struct {
	DHCP    bool
	IPv4    string // "dhcp", "off"; "" is static with Address, else dhcp
	Address string // "192.0.2.10/24"
	Gateway string
	Domain  string
	DNS     []string
	IPv6    string // "auto", "static", "off"; "" is static with Address6, else auto
	// Address6 is "2001:db8::10/64"; Gateway6 and DNS6 go with it.
	Address6 string
	Gateway6 string
	DNS6     []string
	Dot1X    *Dot1XAnswer // 802.1X on the port
}

// WLANAnswer joins a wireless network.
type WLANAnswer struct {
	SSID     string
	Hidden   bool
	Auth     string // open | psk | peap
	Username string
	Key      string
}

// MobileAnswer connects the modem.
type MobileAnswer struct {
	Country, Provider, APN, PIN string
}

// OnboardingAnswer is by e-mail, by server, or skipped.
type OnboardingAnswer struct {
	Skip   bool
	Email  string
	Server string
	Port   int
	OTP    string
	Token  string
}

func (a Answers) LanguageCode() string {
	s, _, _ := strings.Cut(a.Language, ".")
	if i := strings.IndexAny(s, "_-"); i > 0 {
		return strings.ToLower(s[:i])
	}
	return strings.ToLower(s)
}

// AnswerError is an invalid answers file, naming the field
// ("network.wlan.key") and, when known, its line.
type AnswerError struct {
	Field string
	Line  int
	Msg   string
	// Device is set when the value was valid but the device could not do
	// it (a wrong network key, no modem): a failure, not a usage error.
	Device bool
}

func (e *AnswerError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("answers: %s (line %d): %s", e.Field, e.Line, e.Msg)
	}
	return fmt.Sprintf("answers: %s: %s", e.Field, e.Msg)
}

func answerErr(field string, n *yaml.Node, format string, args ...any) error {
	e := &AnswerError{Field: field, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line = n.Line
	}
	return e
}

// ParseAnswers reads an answers file. Unknown keys and values of the wrong
// shape are errors naming the field; the values themselves are checked by
// CheckAnswers against the device's lists.
func ParseAnswers(data []byte) (Answers, error) {
	var a Answers
	root, err := ParseDocument(data)
	if err != nil {
		return a, err
	}
	err = fields(root, "", map[string]func(*yaml.Node, string) error{
		"language":           str(&a.Language),
		"eula":               str(&a.EULA),
		"timezone":           str(&a.Timezone),
		"time":               str(&a.Time),
		"root_password_hash": str(&a.RootPasswordHash),
		"keyboard": func(n *yaml.Node, p string) error {
			return fields(n, p, map[string]func(*yaml.Node, string) error{"layout": str(&a.Keyboard.Layout), "variant": str(&a.Keyboard.Variant)})
		},
		"network":    func(n *yaml.Node, p string) error { return parseNetwork(n, p, &a.Network) },
		"onboarding": func(n *yaml.Node, p string) error { return parseOnboarding(n, p, &a.Onboarding) },
	})
	if err == nil {
		a.lines = map[string]int{}
		recordLines(root, "", a.lines)
	}
	return a, err
}

// MaxAnswersSize bounds an answers file: a few hundred bytes are typical.
const MaxAnswersSize = 1 << 20

// ParseDocument reads data as exactly one YAML document (answers files of
// both programs) and returns its root. Errors are *AnswerError for the
// field "(file)" with the line where known; they never quote the file's
// text, so a mistyped secret is not printed: an unquoted value starting
// with * is an alias to YAML ("key: *Secret" reads as a reference to an
// anchor named Secret).
func ParseDocument(data []byte) (*yaml.Node, error) {
	if len(data) > MaxAnswersSize {
		return nil, &AnswerError{Field: "(file)", Msg: fmt.Sprintf("larger than %d bytes", MaxAnswersSize)}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &AnswerError{Field: "(file)", Msg: "the file is empty"}
		}
		return nil, yamlError(data, err)
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, &AnswerError{Field: "(file)", Msg: "the file is empty"}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		line := 0
		if err == nil {
			line = extra.Line
		}
		return nil, &AnswerError{Field: "(file)", Line: line, Msg: "more than one YAML document (---): give every answer in one"}
	}
	return doc.Content[0], nil
}

var (
	yamlLine   = regexp.MustCompile(`line (\d+): `)
	yamlQuoted = regexp.MustCompile(`'[^']*'|"[^"]*"`)
	yamlAnchor = regexp.MustCompile(`unknown anchor '([^']*)' referenced`)
)

// yamlError turns a YAML syntax error into an AnswerError without any text
// of the file in it.
func yamlError(data []byte, err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	e := &AnswerError{Field: "(file)"}
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		e.Line, _ = strconv.Atoi(m[1])
		msg = strings.Replace(msg, m[0], "", 1)
	}
	if m := yamlAnchor.FindStringSubmatch(msg); m != nil {
		for i, l := range strings.Split(string(data), "\n") {
			if strings.Contains(l, "*"+m[1]) {
				e.Line = i + 1
				break
			}
		}
		e.Msg = "a value starting with * or & is YAML syntax (an alias or an anchor): put the value in quotes"
		return e
	}
	e.Msg = "not valid YAML: " + yamlQuoted.ReplaceAllString(msg, "'…'")
	return e
}

// recordLines notes the line of every mapping key below n.
func recordLines(n *yaml.Node, path string, lines map[string]int) {
	if n.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		p := n.Content[i].Value
		if path != "" {
			p = path + "." + p
		}
		lines[p] = n.Content[i].Line
		recordLines(n.Content[i+1], p, lines)
	}
}

// lineOf is the line of field, or of the nearest enclosing key given; 0
// when none was (a required key left out).
func (a Answers) lineOf(field string) int {
	for f := field; f != ""; {
		if l, ok := a.lines[f]; ok {
			return l
		}
		i := strings.LastIndex(f, ".")
		if i < 0 {
			break
		}
		f = f[:i]
	}
	return 0
}

// fields decodes a mapping key by key; an unknown or repeated key is an
// error naming it.
func fields(n *yaml.Node, path string, handlers map[string]func(*yaml.Node, string) error) error {
	if n.Kind != yaml.MappingNode {
		return answerErr(orFile(path), n, "expected a mapping of keys")
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.Value == "" {
			return answerErr(orFile(path), k, "a key must be a plain name")
		}
		p := k.Value
		if path != "" {
			p = path + "." + k.Value
		}
		h, ok := handlers[k.Value]
		if !ok {
			return answerErr(p, k, "unknown key")
		}
		if seen[k.Value] {
			return answerErr(p, k, "given twice")
		}
		seen[k.Value] = true
		if err := h(v, p); err != nil {
			return err
		}
	}
	return nil
}

func orFile(p string) string {
	if p == "" {
		return "(file)"
	}
	return p
}

func str(dst *string) func(*yaml.Node, string) error {
	return func(n *yaml.Node, p string) error {
		if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
			return answerErr(p, n, "expected a text value")
		}
		*dst = n.Value
		return nil
	}
}

func boolean(dst *bool) func(*yaml.Node, string) error {
	return func(n *yaml.Node, p string) error {
		if n.Kind != yaml.ScalarNode {
			return answerErr(p, n, "expected true or false")
		}
		b, err := strconv.ParseBool(n.Value)
		if err != nil {
			return answerErr(p, n, "expected true or false, not %s", shown(n.Value))
		}
		*dst = b
		return nil
	}
}

func integer(dst *int) func(*yaml.Node, string) error {
	return func(n *yaml.Node, p string) error {
		v, err := strconv.Atoi(n.Value)
		if n.Kind != yaml.ScalarNode || err != nil {
			return answerErr(p, n, "expected a number")
		}
		*dst = v
		return nil
	}
}

func strList(dst *[]string) func(*yaml.Node, string) error {
	return func(n *yaml.Node, p string) error {
		if n.Kind == yaml.ScalarNode {
			*dst = []string{n.Value}
			return nil
		}
		if n.Kind != yaml.SequenceNode {
			return answerErr(p, n, "expected a list")
		}
		for _, c := range n.Content {
			if c.Kind != yaml.ScalarNode {
				return answerErr(p, c, "expected a list of addresses")
			}
			*dst = append(*dst, c.Value)
		}
		return nil
	}
}

func isScalar(n *yaml.Node, v string) bool { return n.Kind == yaml.ScalarNode && n.Value == v }

func parseNetwork(n *yaml.Node, p string, a *NetworkAnswer) error {
	if isScalar(n, "skip") || (n.Kind == yaml.ScalarNode && n.Tag == "!!null") {
		a.Skip = true
		return nil
	}
	err := fields(n, p, map[string]func(*yaml.Node, string) error{
		"interface": str(&a.Interface),
		"wired": func(n *yaml.Node, p string) error {
			a.Wired = &WiredAnswer{}
			if isScalar(n, "dhcp") {
				a.Wired.DHCP = true
				return nil
			}
			w := a.Wired
			return fields(n, p, map[string]func(*yaml.Node, string) error{
				"ipv4": str(&w.IPv4), "address": str(&w.Address), "gateway": str(&w.Gateway), "domain": str(&w.Domain), "dns": strList(&w.DNS),
				"ipv6": str(&w.IPv6), "address6": str(&w.Address6), "gateway6": str(&w.Gateway6), "dns6": strList(&w.DNS6),
				"dot1x": parseDot1X(&w.Dot1X)})
		},
		"proxy": parseProxy(&a.Proxy),
		"wlan": func(n *yaml.Node, p string) error {
			a.WLAN = &WLANAnswer{}
			w := a.WLAN
			return fields(n, p, map[string]func(*yaml.Node, string) error{
				"ssid": str(&w.SSID), "hidden": boolean(&w.Hidden), "auth": str(&w.Auth), "username": str(&w.Username), "key": str(&w.Key)})
		},
		"mobile": func(n *yaml.Node, p string) error {
			a.Mobile = &MobileAnswer{}
			mo := a.Mobile
			return fields(n, p, map[string]func(*yaml.Node, string) error{
				"country": str(&mo.Country), "provider": str(&mo.Provider), "apn": str(&mo.APN), "pin": str(&mo.PIN)})
		},
	})
	if err != nil {
		return err
	}
	ways := 0
	for _, set := range []bool{a.Wired != nil, a.WLAN != nil, a.Mobile != nil} {
		if set {
			ways++
		}
	}
	if ways == 0 && a.Proxy != nil {
		a.Skip = true // only the proxy: the connection stays as it is
		return nil
	}
	if ways != 1 {
		return answerErr(p, n, "give exactly one of wired, wlan or mobile (or skip)")
	}
	return nil
}

func parseOnboarding(n *yaml.Node, p string, a *OnboardingAnswer) error {
	if isScalar(n, "skip") {
		a.Skip = true
		return nil
	}
	err := fields(n, p, map[string]func(*yaml.Node, string) error{
		"email": func(n *yaml.Node, p string) error {
			if n.Kind == yaml.MappingNode { // email: {server: ...} as in the schema's comment
				return fields(n, p, serverFields(a))
			}
			return str(&a.Email)(n, p)
		},
		"server": str(&a.Server), "port": integer(&a.Port), "otp": str(&a.OTP), "token": str(&a.Token),
	})
	if err != nil {
		return err
	}
	if a.Email != "" && a.Server != "" {
		return answerErr(p, n, "give either email or server, not both")
	}
	if a.Email == "" && a.Server == "" {
		return answerErr(p, n, "give email, or server with port, otp and token, or skip")
	}
	return nil
}

func serverFields(a *OnboardingAnswer) map[string]func(*yaml.Node, string) error {
	return map[string]func(*yaml.Node, string) error{
		"server": str(&a.Server), "port": integer(&a.Port), "otp": str(&a.OTP), "token": str(&a.Token)}
}

// CheckAnswersAhead validates answers prepared for a device that is not at
// hand (the first-boot section of osc's install answers): against the
// keyboard layouts and time zones the base system ships (the embedded
// snapshots) and the given provider database.
func CheckAnswersAhead(a Answers, providers netcfg.ProviderDB) error {
	layouts, err := sysconf.SnapshotLayouts()
	if err != nil {
		return fmt.Errorf("keyboard layouts: %w", err)
	}
	return CheckAnswers(a, layouts, sysconf.SnapshotZones(), providers)
}

// shown is a value of the file as an error quotes it: at most 40
// characters, so that a huge value does not become a huge error line.
// Only values that are not secrets are ever shown.
func shown(v string) string {
	if r := []rune(v); len(r) > 40 {
		return strconv.Quote(string(r[:40])) + "…"
	}
	return strconv.Quote(v)
}
