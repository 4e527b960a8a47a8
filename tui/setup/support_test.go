package setup

import (
	"errors"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

// TestLoadFailureSavesSupport: the screen of a setup that cannot start
// offers F9, and F9 saves and says where; any other key still quits.
func TestLoadFailureSavesSupport(t *testing.T) {
	cfg, _ := demoSetup(t, "")
	m := New(cfg)
	m.Update(loadedMsg{err: errors.New("time zones: no zoneinfo")})
	if v := ansi.Strip(m.View()); !strings.Contains(v, "F9 Save support info") || !strings.Contains(v, "The setup cannot start.") {
		t.Fatalf("load failure screen:\n%s", v)
	}
	_, cmd := m.Update(f9)
	if cmd == nil {
		t.Fatal("F9 started nothing")
	}
	if v := ansi.Strip(m.View()); !strings.Contains(v, "Saving support information") {
		t.Errorf("no busy line:\n%s", v)
	}
	m.Update(cmd())
	if v := ansi.Strip(m.View()); !strings.Contains(v, "onramp-support-005056938D22-") || !strings.Contains(v, "/dev/sdc1 (SanDisk Cruzer Blade)") {
		t.Errorf("result not shown:\n%s", v)
	}
	if _, cmd := m.Update(enter); cmd == nil || m.Outcome().Err == nil {
		t.Error("Enter no longer quits with the load error")
	}
}

// TestSupportOnlyOnErrorScreens: F9 does nothing where nothing failed, and
// a result stays with the screen it was saved from.
func TestSupportOnlyOnErrorScreens(t *testing.T) {
	cfg, _ := demoSetup(t, "")
	d := drive(t, cfg).toNetwork()
	d.send(f9)
	if s := d.screen(); strings.Contains(s, "F9") || strings.Contains(s, "Support information") {
		t.Fatalf("F9 on the network page:\n%s", s)
	}
	d.send(enter).typ("office-wrong-1").send(enter)
	if s := d.screen(); !strings.Contains(s, "F9 Save support info") {
		t.Fatalf("wrong-key screen without F9:\n%s", s)
	}
	d.send(f9)
	if s := d.screen(); !strings.Contains(s, "Support information saved as") {
		t.Fatalf("no result:\n%s", s)
	}
	d.send(esc)
	if s := d.screen(); strings.Contains(s, "Support information saved") {
		t.Errorf("the result followed to another page:\n%s", s)
	}
}
