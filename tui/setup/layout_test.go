package setup

import (
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/onramp-os/onramp/firstboot"
	"github.com/onramp-os/onramp/i18n"
	"github.com/onramp-os/onramp/internal/testutil"
	"github.com/onramp-os/onramp/sysconf"
	"github.com/onramp-os/onramp/tui/widget"
)

// TestEveryLanguageFits walks the flow in every language and checks each
// screen fills 80x24 exactly with the whole step header; then the minimum
// size and a resize.
func TestEveryLanguageFits(t *testing.T) {
	for _, l := range sysconf.Languages {
		t.Run(l.Code, func(t *testing.T) {
			cfg, _ := demoSetup(t, l.Locale)
			d := drive(t, cfg)
			tr := i18n.For(l.Code)
			check := func() {
				t.Helper()
				s := d.screen()
				testutil.RequireScreenSize(t, s, 80, 24)
				header := strings.SplitN(s, "\n", 2)[0]
				if !strings.Contains(header, "["+tr.T(firstboot.StepKeys[d.m.cur.step()])+"]") {
					t.Errorf("%s: the header lacks the current step:\n%s", d.page(), header)
				}
			}
			check()
			d.toKeyboard()
			check()
			d.send(enter, space, enter).expectPage("network")
			check()
			d.send(enter).typ("office-secret-42").send(enter).expectPage("timezone")
			check()
			d.send(enter).expectPage("region")
			check()
			d.send(esc, space, enter, enter).expectPage("email")
			check()
		})
	}
}

func TestResizeRelaysOut(t *testing.T) {
	cfg, _ := demoSetup(t, "")
	d := drive(t, cfg).toNetwork()
	d.send(tea.WindowSizeMsg{Width: 120, Height: 40})
	testutil.RequireScreenSize(t, d.screen(), 120, 40)
	d.send(tea.WindowSizeMsg{Width: 80, Height: 24})
	testutil.RequireScreenSize(t, d.screen(), 80, 24)
}

func TestNoColorAndConsoleTheme(t *testing.T) {
	cfg, _ := demoSetup(t, "")
	d := drive(t, cfg).toNetwork()
	if strings.Contains(d.m.View(), "\x1b[") {
		t.Error("the plain theme drew escape sequences")
	}
	for _, r := range d.m.View() {
		if r >= 0x2800 && r <= 0x28ff || strings.ContainsRune("╭╮╰╯", r) {
			t.Fatalf("the console theme drew %q", r)
		}
	}
}

func TestNoColorEnvironment(t *testing.T) {
	t.Setenv("NO_COLOR", "1")
	var buf strings.Builder
	th := widget.DetectTheme(&buf, "xterm-256color")
	cfg, _ := demoSetup(t, "")
	cfg.Theme = th
	d := drive(t, cfg).toKeyboard()
	if th.Name != "console" || strings.Contains(d.m.View(), "\x1b[") {
		t.Errorf("NO_COLOR: theme %s, escape sequences drawn: %v", th.Name, strings.Contains(d.m.View(), "\x1b["))
	}
}
