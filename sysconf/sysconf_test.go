package sysconf

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func readFile(t *testing.T, r Root, p string) string {
	t.Helper()
	data, err := os.ReadFile(r.Path(p))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestLayoutsFromSnapshotAndRoot(t *testing.T) {
	r := Root{Dir: t.TempDir()}
	layouts, err := r.Layouts()
	if err != nil {
		t.Fatal(err)
	}
	de, ok := FindLayout(layouts, "de")
	if !ok || de.Description != "German" {
		t.Fatalf("de layout %+v", de)
	}
	if v, ok := de.Variant("nodeadkeys"); !ok || v.Description != "German (no dead keys)" {
		t.Errorf("de nodeadkeys: %+v %v", v, ok)
	}
	// A root with its own list wins over the snapshot.
	lst := "! layout\n  xx   Testish\n! variant\n  yy   xx: Testish (why)\n  zz   qq: unknown layout\n"
	if err := os.MkdirAll(filepath.Dir(r.Path(BaseLstPath)), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(r.Path(BaseLstPath), []byte(lst), 0o644); err != nil {
		t.Fatal(err)
	}
	layouts, err = r.Layouts()
	if err != nil {
		t.Fatal(err)
	}
	if len(layouts) != 1 || layouts[0].Name != "xx" || len(layouts[0].Variants) != 1 || layouts[0].Variants[0].Name != "yy" {
		t.Fatalf("root list: %+v", layouts)
	}
}

func TestEveryLanguagePreselectsAnExistingLayout(t *testing.T) {
	layouts, err := ParseBaseLst(strings.NewReader(string(xkbSnapshot)))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range Languages {
		lay, ok := FindLayout(layouts, l.Layout)
		if !ok {
			t.Errorf("%s: layout %q unknown", l.Code, l.Layout)
			continue
		}
		if _, ok := lay.Variant(l.Variant); !ok {
			t.Errorf("%s: variant %q of %q unknown", l.Code, l.Variant, l.Layout)
		}
	}
}

func TestWriteLocaleAndKeyboard(t *testing.T) {
	r := Root{Dir: t.TempDir()}
	de, _ := LanguageFor("de_DE.UTF-8")
	if err := r.WriteLocale(de); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, r, "/etc/locale.conf"); got != "LANG=de_DE.UTF-8\n" {
		t.Errorf("locale.conf %q", got)
	}
	if err := r.WriteKeyboard("de", "nodeadkeys"); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, r, "/etc/vconsole.conf"); got != "KEYMAP=de-nodeadkeys\n" {
		t.Errorf("vconsole.conf %q", got)
	}
	x := readFile(t, r, "/etc/X11/xorg.conf.d/00-keyboard.conf")
	if !strings.Contains(x, `Option "XkbLayout" "de"`) || !strings.Contains(x, `Option "XkbVariant" "nodeadkeys"`) {
		t.Errorf("00-keyboard.conf:\n%s", x)
	}
}

func TestZones(t *testing.T) {
	snap, err := Root{Dir: t.TempDir()}.Zones()
	if err != nil {
		t.Fatal(err)
	}
	if z, ok := FindZone(snap, "America/Argentina/Buenos_Aires"); !ok || z.City != "Argentina/Buenos Aires" || z.Region != "America" {
		t.Errorf("Buenos Aires: %+v %v", z, ok)
	}
	if _, ok := FindZone(snap, "UTC"); !ok {
		t.Error("UTC missing")
	}
	if _, ok := FindZone(snap, "posix/Europe/Berlin"); ok {
		t.Error("posix/ offered")
	}
	if len(snap) < 300 {
		t.Errorf("only %d zones in the snapshot", len(snap))
	}
	r := Root{Dir: t.TempDir()}
	for _, p := range []string{"Europe/Berlin", "Etc/GMT+1", "posix/Europe/Berlin", "zone.tab"} {
		f := filepath.Join(r.Path(ZoneinfoDir), p)
		_ = os.MkdirAll(filepath.Dir(f), 0o755)
		_ = os.WriteFile(f, []byte("TZif"), 0o644)
	}
	zones, err := r.Zones()
	if err != nil {
		t.Fatal(err)
	}
	if len(zones) != 2 || zones[0].Name != "Europe/Berlin" || zones[1].Name != UTC {
		t.Errorf("zones from the root: %+v", zones)
	}
	if got := Regions(snap); got[0] != "Africa" || got[len(got)-1] != UTC {
		t.Errorf("regions %v", got)
	}
}

func TestWriteTimezoneAndAdjtime(t *testing.T) {
	r := Root{Dir: t.TempDir()}
	if err := r.WriteTimezone("Europe/Berlin"); err != nil {
		t.Fatal(err)
	}
	if l, _ := os.Readlink(r.Path("/etc/localtime")); l != "../usr/share/zoneinfo/Europe/Berlin" {
		t.Errorf("localtime -> %q", l)
	}
	if err := r.WriteTimezone("../../etc/passwd"); err == nil {
		t.Error("a path outside zoneinfo was accepted")
	}
	if err := r.WriteAdjtime(); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, r, "/etc/adjtime"); !strings.HasSuffix(got, "UTC\n") {
		t.Errorf("adjtime %q", got)
	}
}

func TestParseClock(t *testing.T) {
	got, err := ParseClock("2026-11-27", "10:00", time.UTC)
	if err != nil || !got.Equal(time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)) {
		t.Fatalf("%v %v", got, err)
	}
	for _, c := range [][2]string{{"2026-02-30", "10:00"}, {"27.11.2026", "10:00"}, {"2026-11-27", "25:00"}, {"1999-01-01", "00:00"}, {"2026-11-27", "10"}} {
		if _, err := ParseClock(c[0], c[1], time.UTC); err == nil {
			t.Errorf("%v accepted", c)
		}
	}
}

func TestOSReleaseAndHostname(t *testing.T) {
	o := ParseOSRelease([]byte("# c\nNAME=\"Onramp OS\"\nVERSION_ID=12.1\nPRETTY_NAME='Onramp OS 12.1'\n"))
	if o.Name != "Onramp OS" || o.VersionID != "12.1" || o.Title() != "Onramp OS 12.1" {
		t.Errorf("%+v", o)
	}
	if (OSRelease{}).Title() != "Linux" {
		t.Error("default title")
	}
	r := Root{Dir: t.TempDir()}
	if err := r.WriteHostname("ITC005056938D22"); err != nil || r.Hostname() != "ITC005056938D22" {
		t.Errorf("hostname: %v %q", err, r.Hostname())
	}
	for _, bad := range []string{"", "-a", "a..b", "a_b", strings.Repeat("a", 64)} {
		if ValidHostname(bad) == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestEULAFallbackAndRecord(t *testing.T) {
	r := Root{Dir: t.TempDir()}
	if _, err := r.EULA("de"); err == nil {
		t.Fatal("no text, no error")
	}
	_ = os.MkdirAll(r.Path(EULADir), 0o755)
	_ = os.WriteFile(r.Path(EULADir+"/en.txt"), []byte("terms"), 0o644)
	e, err := r.EULA("de")
	if err != nil || e.Language != "en" || e.Text != "terms" {
		t.Fatalf("%+v %v", e, err)
	}
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := r.RecordEULA(e, at); err != nil {
		t.Fatal(err)
	}
	var rec EULAAcceptance
	if err := json.Unmarshal([]byte(readFile(t, r, "/var/lib/onramp/eula-accepted.json")), &rec); err != nil {
		t.Fatal(err)
	}
	if rec.SHA256 != e.SHA256() || rec.Language != "en" || !rec.Accepted.Equal(at) {
		t.Errorf("%+v", rec)
	}
}

func TestStateRoundTripAndDone(t *testing.T) {
	r := Root{Dir: t.TempDir()}
	if _, ok, err := r.LoadState(); ok || err != nil {
		t.Fatalf("fresh root: %v %v", ok, err)
	}
	st := SetupState{Step: "timezone", Language: "de", Layout: "de", Network: "wlan:Lab"}
	if err := r.SaveState(st); err != nil {
		t.Fatal(err)
	}
	got, ok, err := r.LoadState()
	if !ok || err != nil || got.Step != "timezone" || got.Network != "wlan:Lab" {
		t.Fatalf("%+v %v %v", got, ok, err)
	}
	if r.Done() {
		t.Error("done before MarkDone")
	}
	if err := r.MarkDone(time.Now()); err != nil || !r.Done() {
		t.Errorf("MarkDone: %v", err)
	}
}

func TestDetector(t *testing.T) {
	zones := makeZones([]string{"Europe/Berlin", "Europe/Paris"})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"ip":"192.0.2.1","timezone":"Europe/Paris"}`))
	}))
	defer srv.Close()
	ctx := context.Background()
	d := Detector{DHCP: func(context.Context) string { return "Europe/Berlin" }, GeoIPURL: srv.URL, Zones: zones}
	if got, err := d.Detect(ctx); err != nil || got != (Detected{Zone: "Europe/Berlin", Source: "dhcp"}) {
		t.Errorf("dhcp: %+v %v", got, err)
	}
	d.DHCP = func(context.Context) string { return "" }
	if got, err := d.Detect(ctx); err != nil || got != (Detected{Zone: "Europe/Paris", Source: "geoip"}) {
		t.Errorf("geoip: %+v %v", got, err)
	}
	d.GeoIPURL = ""
	if _, err := d.Detect(ctx); err == nil {
		t.Error("no source, no error")
	}
	if ParseGeoIP([]byte("Asia/Tokyo\n")) != "Asia/Tokyo" || ParseGeoIP([]byte(`{"time_zone":{"name":"Asia/Tokyo"}}`)) != "Asia/Tokyo" {
		t.Error("ParseGeoIP")
	}
}
