package setup

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest"

	"github.com/onramp-os/onramp/demo"
	"github.com/onramp-os/onramp/firstboot"
	"github.com/onramp-os/onramp/internal/exitcode"
	"github.com/onramp-os/onramp/internal/testutil"
	"github.com/onramp-os/onramp/support"
	"github.com/onramp-os/onramp/sysconf"
	"github.com/onramp-os/onramp/tui/widget"
)

// setupNow is the clock of every setup test.
var setupNow = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

// demoSetup is a config on the simulated device (no delays) with a fresh
// root, in language lang ("" = English).
func demoSetup(t *testing.T, lang string) (Config, *demo.Device) {
	t.Helper()
	root := t.TempDir()
	d, err := demo.New(root, demo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	cfg := Config{Config: firstboot.Config{Sys: sysconf.Root{Dir: root}, Net: d.Net, Onboarder: d.Onboarder,
		Now: func() time.Time { return setupNow }}, Version: "1.0-test", Theme: widget.PlainTheme()}
	cfg.Prefill.Language = lang
	cfg.SaveSupport = savedToStick
	return cfg, d
}

// savedToStick and noStick stand in for support.ToStick: the screens only
// show its answer (package support tests the saving itself).
func savedToStick(context.Context, []string) (support.Saved, error) {
	return support.Saved{Device: "/dev/sdc1", Drive: "SanDisk Cruzer Blade", FSType: "vfat",
		File: "onramp-support-005056938D22-20261206T230000Z.zip"}, nil
}

func noStick(context.Context, []string) (support.Saved, error) {
	return support.Saved{}, exitcode.Wrap(exitcode.Refused, fmt.Errorf("%w: no removable drive is connected", support.ErrNoStick))
}

// driver runs a Model synchronously: each Cmd is run and its message fed
// back until nothing is left, so a test sends keys and reads the settled
// screen. Spinner ticks are dropped (they would tick forever).
type driver struct {
	t    *testing.T
	m    *Model
	quit bool
}

func drive(t *testing.T, cfg Config) *driver {
	t.Helper()
	d := &driver{t: t, m: New(cfg)}
	d.run(d.m.Init())
	return d
}

func (d *driver) run(cmd tea.Cmd) {
	queue := []tea.Cmd{cmd}
	for len(queue) > 0 {
		c := queue[0]
		queue = queue[1:]
		if c == nil || d.quit {
			continue
		}
		switch msg := c().(type) {
		case nil, spinner.TickMsg:
		case tea.BatchMsg:
			queue = append(queue, msg...)
		case tea.QuitMsg:
			d.quit = true
		default:
			_, next := d.m.Update(msg)
			queue = append(queue, next)
		}
	}
}

// send feeds messages (keys) one after the other.
func (d *driver) send(msgs ...tea.Msg) *driver {
	for _, msg := range msgs {
		m := msg
		d.run(func() tea.Msg { return m })
	}
	return d
}

// typ types text into the focused field or list.
func (d *driver) typ(s string) *driver { return d.send(runes(s)) }

func (d *driver) screen() string { return ansi.Strip(d.m.View()) }

// expect fails unless the screen shows every text.
func (d *driver) expect(texts ...string) *driver {
	d.t.Helper()
	s := d.screen()
	for _, x := range texts {
		if !strings.Contains(s, x) {
			d.t.Fatalf("the screen lacks %q:\n%s", x, s)
		}
	}
	return d
}

func (d *driver) page() string { return d.m.cur.name() }

func (d *driver) expectPage(name string) *driver {
	d.t.Helper()
	if d.page() != name {
		d.t.Fatalf("on page %q, want %q:\n%s", d.page(), name, d.screen())
	}
	return d
}

var (
	enter = key(tea.KeyEnter)
	esc   = key(tea.KeyEsc)
	tab   = key(tea.KeyTab)
	space = tea.KeyMsg{Type: tea.KeySpace, Runes: []rune{' '}}
	down  = key(tea.KeyDown)
	f1    = key(tea.KeyF1)
	f9    = key(tea.KeyF9)
	ctrlU = key(tea.KeyCtrlU)
)

// Walks to the screens of the flow, each from the one before.
func (d *driver) toKeyboard() *driver { return d.send(enter).expectPage("keyboard") }
func (d *driver) toEULA() *driver     { return d.toKeyboard().send(enter).expectPage("eula") }
func (d *driver) toNetwork() *driver  { return d.toEULA().send(space, enter).expectPage("network") }
func (d *driver) toTimezone() *driver {
	return d.toNetwork().send(enter).typ("office-secret-42").send(enter).expectPage("timezone")
}
func (d *driver) toEmail() *driver {
	return d.toTimezone().send(space, enter).expectPage("tzconfirm").send(enter).expectPage("email")
}
func (d *driver) toServer() *driver { return d.toEmail().send(tab, tab, enter).expectPage("server") }

// requireSetupGolden compares a screen with testdata/setup_<name>.golden
// (go test -update rewrites it) and checks it fills exactly 80x24.
func requireSetupGolden(t *testing.T, name, view string) {
	t.Helper()
	view = ansi.Strip(view)
	testutil.RequireScreenSize(t, view, 80, 24)
	path := filepath.Join(packageDir, "testdata", "setup_"+name+".golden")
	if f := flag.Lookup("update"); f != nil && f.Value.String() == "true" {
		if err := os.WriteFile(path, []byte(view+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./tui -run %s -update writes it)", err, t.Name())
	}
	if string(want) != view+"\n" {
		t.Errorf("screen differs from %s:\n--- got\n%s\n--- want\n%s", path, view, want)
	}
}

// startSetup runs the assistant in a teatest program at 80x24.
func startSetup(t *testing.T, cfg Config) *teatest.TestModel {
	t.Helper()
	tm := teatest.NewTestModel(t, New(cfg), teatest.WithInitialTermSize(80, 24))
	t.Cleanup(func() { _ = tm.Quit() })
	return tm
}

func finalSetup(t *testing.T, tm *teatest.TestModel) *Model {
	t.Helper()
	_ = tm.Quit()
	return tm.FinalModel(t, teatest.WithFinalTimeout(15*time.Second)).(*Model)
}

func shiftTab() tea.KeyMsg { return key(tea.KeyShiftTab) }

func key(k tea.KeyType) tea.KeyMsg { return tea.KeyMsg{Type: k} }

func runes(s string) tea.KeyMsg { return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)} }

// packageDir is the directory the tests started in: the package's.
var packageDir, _ = os.Getwd()
