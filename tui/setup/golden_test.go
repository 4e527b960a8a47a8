package setup

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/teatest"

	"github.com/onramp-os/onramp/demo"
	"github.com/onramp-os/onramp/i18n"
	"github.com/onramp-os/onramp/tui/widget"
)

// The setup golden tests run the assistant as a program at 80x24 (teatest)
// on the simulated device, in English and German, drive it by keys and
// compare the last screen with testdata/setup_<screen>_<lang>.golden
// (go test ./tui -run TestSetupGolden -update rewrites them). The progress
// screens (setup_golden_progress_test.go) hold the device where it works,
// and the spinner has a single frame, so they are the same on every run.

// wait is a step that waits for a catalog text (in the test's language)
// or, with raw, for a literal text.
type wait struct {
	key   string
	raw   bool
	args  []any
	words int // only the first words (the text wraps after them)
}

func w(key string, args ...any) wait { return wait{key: key, args: args} }
func lit(text string) wait           { return wait{key: text, raw: true} }
func wFirst(n int, key string) wait  { return wait{key: key, words: n} }

var (
	toKeyboard = []any{enter, w("kbd.try")}
	toEULA     = append(toKeyboard, enter, lit("0%"))
	toNetwork  = append(toEULA, space, enter, lit("Home-5G"))
	toTZ       = append(toNetwork, enter, w("wlan.key"), runes("office-secret-42"), enter, w("tz.auto"))
	toEmail    = append(toTZ, space, enter, w("tz.found.heading"), enter, w("ob.email.heading"))
	toServer   = append(toEmail, tab, tab, enter, w("ob.server.heading"))
	toToken    = append(toServer, runes(demo.Server), tab, tab, runes(demo.OneTimeKey(1)), enter, w("ob.token.heading"))
	downTo     = func(n int) []any {
		var s []any
		for i := 0; i < n; i++ {
			s = append(s, down)
		}
		return s
	}
)

func seq(parts ...[]any) []any {
	var out []any
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

var setupScreens = []struct {
	name  string
	steps []any
}{
	{"language", nil},
	{"keyboard", toKeyboard},
	{"layout_picker", seq(toKeyboard, []any{shiftTab(), shiftTab(), enter, w("kbd.layout.pick")})},
	{"eula", toEULA},
	{"network", toNetwork},
	{"wlan_wrong_key", seq(toNetwork, []any{enter, w("wlan.key"), runes("office-wrong-1"), enter, w("net.err.wrongkey")})},
	{"wlan_peap", seq(toNetwork, []any{down, enter, w("wlan.password")})},
	{"hidden", seq(toNetwork, downTo(5), []any{enter, w("hidden.auth"), tab, runes("Onramp-Lab"), tab, runes("short")})},
	{"wired_invalid", seq(toNetwork, downTo(7), []any{enter, w("wired.address"), runes("192.0.2.10"), tab, runes("/24"), tab, runes("10.0.0.1")})},
	{"wired_ipv6_invalid", seq(toNetwork, downTo(7), []any{enter, w("wired.address"), tab, tab, tab, tab, tab, tab,
		runes("2001:db8::10/64"), tab, runes("2001:db9::1")})},
	{"mobile", seq(toNetwork, downTo(8), []any{enter, w("mobile.pin")})},
	{"timezone", toTZ},
	{"timezone_detected", seq(toTZ, []any{space, enter, w("tz.found.heading")})},
	{"region", seq(toTZ, []any{enter, w("tz.region"), runes("berl"), lit("Europe/Berlin")})},
	{"city", seq(toTZ, []any{enter, w("tz.region")}, downTo(7), []any{enter, lit("11:00")})},
	{"clock", seq(toTZ, []any{enter, w("tz.region"), runes("berl"), lit("Europe/Berlin"), enter, lit("11:00"), enter, w("clock.date")})},
	{"email", toEmail},
	{"server", toServer},
	{"token", toToken},
	{"onboard_error", seq(toToken, []any{runes("0000000000000000"), enter, lit("(46)")})},
	{"success", seq(toServer, []any{runes(demo.Server), tab, tab, runes(demo.OneTimeKey(1)), enter, w("ob.token.heading"), tokenKey{}, enter, w("ob.success")})},
	{"starter", seq(toServer, []any{tab, tab, tab, tab, enter, w("starter.heading")})},
	{"info", seq(toKeyboard, []any{f1, lit("005056938D22")})},
}

// tokenKey types the demo server's communication token.
type tokenKey struct{}

// goldenScreen is a screen of TestSetupGolden: the steps that reach it
// and, for a progress screen, hold, which makes the device wait at that
// point until the test ends.
type goldenScreen struct {
	name  string
	steps []any
	hold  func(cfg *Config, gate <-chan struct{})
	save  widget.SaveSupportFunc // instead of savedToStick
}

// supportScreens are error screens after F9 saved support information,
// or found no stick.
var supportScreens = []goldenScreen{
	{name: "onboard_error_support", steps: seq(toToken, []any{runes("0000000000000000"), enter, lit("(46)"), f9, wFirst(2, "support.saved")})},
	{name: "wlan_wrong_key_nostick", save: noStick,
		steps: seq(toNetwork, []any{enter, w("wlan.key"), runes("office-wrong-1"), enter, w("net.err.wrongkey"), f9, wFirst(3, "support.nostick")})},
}

func TestSetupGolden(t *testing.T) {
	var screens []goldenScreen
	for _, sc := range setupScreens {
		screens = append(screens, goldenScreen{name: sc.name, steps: sc.steps})
	}
	screens = append(screens, progressScreens...)
	screens = append(screens, supportScreens...)
	for _, lang := range []string{"en", "de"} {
		for _, sc := range screens {
			t.Run(sc.name+"_"+lang, func(t *testing.T) { runSetupGolden(t, sc, lang) })
		}
	}
}

// runSetupGolden drives the assistant to a screen and compares it. The
// spinner has one frame, so a progress screen looks the same whenever it
// is taken.
func runSetupGolden(t *testing.T, sc goldenScreen, lang string) {
	cfg, _ := demoSetup(t, map[string]string{"en": "", "de": "de_DE"}[lang])
	cfg.Theme.Spinner = spinner.Spinner{Frames: cfg.Theme.Spinner.Frames[:1], FPS: cfg.Theme.Spinner.FPS}
	steps := append([]any{w("list.search")}, sc.steps...)
	if sc.hold != nil { // a progress screen: its steps say what to wait for first
		gate := make(chan struct{})
		t.Cleanup(func() { close(gate) })
		sc.hold(&cfg, gate)
		steps = sc.steps
	}
	if sc.save != nil {
		cfg.SaveSupport = sc.save
	}
	tr := i18n.For(lang)
	tm := startSetup(t, cfg)
	for _, st := range steps {
		switch st := st.(type) {
		case wait:
			text := st.key
			if !st.raw {
				text = tr.T(st.key, st.args...)
			}
			if f := strings.Fields(text); st.words > 0 && len(f) > st.words {
				text = strings.Join(f[:st.words], " ")
			}
			waitText(t, tm, text)
		case tokenKey:
			tm.Send(runes(demo.Token()))
		case tea.Msg:
			tm.Send(st)
		}
	}
	requireSetupGolden(t, sc.name+"_"+lang, finalSetup(t, tm).View())
}

func waitText(t *testing.T, tm *teatest.TestModel, text string) {
	t.Helper()
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte(text)) },
		teatest.WithDuration(10*time.Second), teatest.WithCheckInterval(5*time.Millisecond))
}
