package setup

import (
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
)

// clickOn clicks the first cell of text where the screen shows it, so the
// row arithmetic is checked against what is drawn.
func (d *driver) clickOn(text string) *driver {
	d.t.Helper()
	for y, l := range strings.Split(d.screen(), "\n") {
		if i := strings.Index(l, text); i >= 0 {
			return d.send(tea.MouseMsg{X: ansi.StringWidth(l[:i]), Y: y, Action: tea.MouseActionPress, Button: tea.MouseButtonLeft})
		}
	}
	d.t.Fatalf("the screen lacks %q:\n%s", text, d.screen())
	return d
}

func TestMouseChoosesListRows(t *testing.T) {
	cfg, _ := demoSetup(t, "")
	d := drive(t, cfg)
	d.clickOn("Deutsch").expectPage("language").expect("Wählen Sie Ihre Sprache")
	d.clickOn("Deutsch").expectPage("keyboard")
	if d.m.choice.Lang.Code != "de" {
		t.Fatalf("language %q", d.m.choice.Lang.Code)
	}
	d.clickOn("German (de)").expectPage("pick:kbd.layout.pick") // the layout field opens its list
	d.send(esc).expectPage("keyboard")
}

func TestMouseTicksTheLicenseAndPressesButtons(t *testing.T) {
	cfg, _ := demoSetup(t, "")
	d := drive(t, cfg).toEULA().expect("( Continue )")
	d.clickOn("Continue").expectPage("eula") // blocked until accepted
	d.clickOn("I accept the license terms").expect("[x] I accept", "[ Continue ]")
	d.clickOn("Continue").expectPage("network")
}

func TestMouseOnTheNetworkAndItsForms(t *testing.T) {
	cfg, _ := demoSetup(t, "")
	d := drive(t, cfg).toNetwork()
	d.clickOn("Connect manually to a network").expectPage("network")
	if d.row() != rowHidden {
		t.Fatalf("row %q", d.row())
	}
	d.clickOn("Connect manually to a network").expectPage("hidden").expect("< Security key >")
	d.clickOn("< Security key >").expect("< Username and password >")
	d.clickOn("Back").expectPage("network")
	// A warning line above the body moves every row down by one.
	d.m.warn = "the state could not be saved"
	d.clickOn("Office").clickOn("Office").expectPage("wlan").expect("Connect to Office")
}

func TestMouseOnTheTimeZoneLists(t *testing.T) {
	cfg, _ := demoSetup(t, "")
	d := drive(t, cfg).toTimezone().send(enter).expectPage("region")
	d.clickOn("Europe").clickOn("Europe").expectPage("city").expect("Choose the city in Europe")
	d.clickOn("Berlin").clickOn("Berlin").expectPage("clock").expect("Europe/Berlin")
}

func TestMouseIgnoredUnderTheInfoDialogAndOutsideTheBody(t *testing.T) {
	cfg, _ := demoSetup(t, "")
	d := drive(t, cfg)
	d.send(tea.MouseMsg{X: 5, Y: 0, Action: tea.MouseActionPress, Button: tea.MouseButtonLeft})  // the header
	d.send(tea.MouseMsg{X: 5, Y: 23, Action: tea.MouseActionPress, Button: tea.MouseButtonLeft}) // the help line
	d.expectPage("language")
	if d.m.tr.Lang != "en" {
		t.Fatalf("a click outside the body changed the language to %s", d.m.tr.Lang)
	}
	d.send(f1).clickOn("Unit ID").expectPage("language")
	d.send(esc).clickOn("Deutsch").clickOn("Deutsch").expectPage("keyboard")
}
