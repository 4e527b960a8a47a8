package proxy

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/onramp-os/onramp/netcfg"
)

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		c     Config
		field string // "" valid
	}{
		{Config{}, ""},
		{Config{Host: "proxy.corp.example", Port: 3128}, ""},
		{Config{Host: "192.0.2.1", Port: 8080, Username: "alice", Password: "p w"}, ""},
		{Config{Host: "proxy", Port: 3128, NoProxy: []string{".corp.example", "192.0.2.0/24", "localhost", "2001:db8::1"}}, ""},
		{Config{PAC: "http://wpad.corp.example/wpad.dat"}, ""},
		{Config{Host: "proxy", Port: 0}, "proxy.port"},
		{Config{Host: "proxy", Port: 70000}, "proxy.port"},
		{Config{Host: "pro xy", Port: 1}, "proxy.host"},
		{Config{Host: "proxy", Port: 1, Password: "Zq9"}, "proxy.username"},
		{Config{Host: "proxy", Port: 1, Username: "a:b"}, "proxy.username"},
		{Config{Host: "proxy", Port: 1, Username: "a", Password: "x\ny"}, "proxy.password"},
		{Config{Host: "proxy", Port: 1, NoProxy: []string{"not a host"}}, "proxy.no_proxy"},
		{Config{PAC: "ftp://x/wpad.dat"}, "proxy.pac"},
		{Config{PAC: "http://x/p.pac", Host: "proxy", Port: 1}, "proxy.pac"},
		{Config{NoProxy: []string{"x"}}, "proxy.host"},
	} {
		err := Validate(tc.c)
		var fe *netcfg.FieldError
		switch {
		case tc.field == "" && err != nil:
			t.Errorf("%+v: %v", tc.c, err)
		case tc.field != "" && (!errors.As(err, &fe) || fe.Field != tc.field):
			t.Errorf("%+v: %v, want a %s error", tc.c, err, tc.field)
		}
		if err != nil && tc.c.Password != "" && strings.Contains(err.Error(), tc.c.Password) {
			t.Errorf("the error shows the password: %v", err)
		}
	}
}

func TestDirect(t *testing.T) {
	c := Config{Host: "p", Port: 1, NoProxy: ParseNoProxy(".corp.example, intranet;192.0.2.0/24 2001:db8::/32")}
	for host, want := range map[string]bool{
		"ums.corp.example": true, "corp.example": true, "xcorp.example": false, "intranet": true,
		"intranet.other": false, "192.0.2.77": true, "198.51.100.1": false, "[2001:db8::5]": true, "ums.example.com": false,
	} {
		if got := c.Direct(host); got != want {
			t.Errorf("Direct(%q) = %v, want %v", host, got, want)
		}
	}
}

// The environment file keeps every kind of proxy and reads back the same;
// it is 0600 only when it holds a password, and a zero configuration
// removes it.
func TestWriteRead(t *testing.T) {
	root := t.TempDir()
	for _, c := range []Config{
		{Host: "proxy.corp.example", Port: 3128, Username: "dom\\alice", Password: "it's $ecret @ 100%", NoProxy: []string{".corp.example", "192.0.2.0/24"}},
		{Host: "192.0.2.1", Port: 8080},
		{Host: "2001:db8::1", Port: 8080},
		{PAC: "http://wpad.corp.example/wpad.dat", Username: "bob", Password: "pac 'pw'"},
		{PAC: "http://wpad.corp.example/wpad.dat"},
	} {
		if err := Write(root, c); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(File(root))
		if err != nil {
			t.Fatal(err)
		}
		if want := os.FileMode(0o644); c.Password != "" && fi.Mode().Perm() != 0o600 || c.Password == "" && fi.Mode().Perm() != want {
			t.Errorf("%+v: mode %v", c, fi.Mode())
		}
		back, err := Read(root)
		if err != nil || !reflect.DeepEqual(back, c) {
			t.Errorf("read back %+v %v, want %+v", back, err, c)
		}
	}
	data, _ := os.ReadFile(File(root))
	if !strings.Contains(string(data), "ONRAMP_PROXY_PAC='http://wpad.corp.example/wpad.dat'") {
		t.Errorf("file:\n%s", data)
	}
	if err := Write(root, Config{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(File(root)); !os.IsNotExist(err) {
		t.Errorf("no proxy left the file: %v", err)
	}
	if c, err := Read(root); err != nil || !c.IsZero() {
		t.Errorf("no file: %+v %v", c, err)
	}
}

// The PAC functions behave as browsers' do, and a PAC file that loops is
// stopped.
func TestPAC(t *testing.T) {
	resolve := func(h string) string {
		if h == "ums.corp.example" {
			return "192.0.2.40"
		}
		return ""
	}
	s, err := ParsePAC(`function FindProxyForURL(url, host) {
		if (localHostOrDomainIs(host, "www.lab.example")) return "PROXY lab:1";
		if (isPlainHostName(host)) return "DIRECT";
		if (isInNet(host, "192.0.2.0", "255.255.255.0")) return "PROXY inner:3128";
		if (shExpMatch(host, "*.test?.example")) return "PROXY glob:8080";
		if (!isResolvable(host) && dnsDomainLevels(host) == 2 && dnsDomainIs(host, ".example")) return "PROXY unres:1; DIRECT";
		return "PROXY " + myIpAddress() + ":9";
	}`, "198.51.100.7", resolve)
	if err != nil {
		t.Fatal(err)
	}
	for host, want := range map[string]string{
		"intranet": "DIRECT", "www": "PROXY lab:1", "ums.corp.example": "PROXY inner:3128", "192.0.2.9": "PROXY inner:3128",
		"a.test1.example": "PROXY glob:8080", "nowhere.b.example": "PROXY unres:1; DIRECT", "x.org": "PROXY 198.51.100.7:9",
	} {
		got, err := s.FindProxyForURL("https://"+host+"/", host)
		if err != nil || got != want {
			t.Errorf("%s: %q %v, want %q", host, got, err, want)
		}
	}
	loop, err := ParsePAC(`function FindProxyForURL(u, h) { for (;;) {} }`, "", resolve)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := loop.FindProxyForURL("https://x/", "x"); err == nil {
		t.Error("a looping PAC file returned")
	}
	for _, bad := range []string{"function (", "var x = 1;"} {
		s, err := ParsePAC(bad, "", resolve)
		if err == nil {
			_, err = s.FindProxyForURL("https://x/", "x")
		}
		if err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// The date and time conditions as Netscape's PAC definition and browsers
// give them: inclusive ranges that wrap around, "GMT" for UTC, false for
// arguments they do not take.
func TestPACDateTime(t *testing.T) {
	// Monday 7 December 2026, 22:30:15 UTC; 23:30:15 in Berlin.
	utc := time.Date(2026, 12, 7, 22, 30, 15, 0, time.UTC)
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no time zone database:", err)
	}
	old := time.Local
	time.Local = berlin
	t.Cleanup(func() { time.Local = old })
	for cond, want := range map[string]bool{
		`weekdayRange("MON")`: true, `weekdayRange("TUE")`: false, `weekdayRange("MON", "FRI")`: true,
		`weekdayRange("SAT", "SUN")`: false, `weekdayRange("FRI", "MON")`: true, `weekdayRange("TUE", "SUN")`: false,
		`weekdayRange("MON", "GMT")`: true, `weekdayRange("MONDAY")`: false, `weekdayRange()`: false,
		`dateRange(7)`: true, `dateRange(8)`: false, `dateRange("DEC")`: true, `dateRange(2026)`: true, `dateRange(2025)`: false,
		`dateRange(1, 15)`: true, `dateRange(8, 31)`: false, `dateRange("NOV", "JAN")`: true, `dateRange("JAN", "NOV")`: false,
		`dateRange(1, "DEC", 6, "DEC")`: false, `dateRange(1, "DEC", 7, "DEC")`: true, `dateRange(20, "NOV", 10, "JAN")`: true,
		`dateRange("DEC", 2026, "JAN", 2027)`: true, `dateRange(1, "JAN", 2027, 31, "DEC", 2027)`: false,
		`dateRange(7, "DEC", 2026, 7, "DEC", 2026, "GMT")`: true, `dateRange(1, "DEC")`: false, `dateRange("XYZ")`: false,
		`timeRange(23)`: true, `timeRange(22, "GMT")`: true, `timeRange(22)`: false, `timeRange(9, 17)`: false,
		`timeRange(22, 6)`: true, `timeRange(22, 23)`: false, `timeRange(23, 0)`: true, `timeRange(8, 0, 17, 30)`: false,
		`timeRange(23, 30, 23, 30)`: true, `timeRange(23, 30, 16, 23, 30, 59)`: false, `timeRange(23, 30, 15, 23, 30, 15)`: true,
		`timeRange(22, 0, 0, 22, 30, 14, "GMT")`: false, `timeRange(22, 0, 0, 22, 30, 15, "GMT")`: true, `timeRange(24)`: false,
		`timeRange(1, 2, 3)`: false,
	} {
		s, err := ParsePAC(`function FindProxyForURL(u, h) { return (`+cond+`) ? "DIRECT" : "PROXY no:1"; }`, "", func(string) string { return "" })
		if err != nil {
			t.Fatal(err)
		}
		s.now = func() time.Time { return utc }
		got, err := s.FindProxyForURL("https://x/", "x")
		if err != nil || (got == "DIRECT") != want {
			t.Errorf("%s at %s: %q %v, want %v", cond, utc.In(berlin), got, err, want)
		}
	}
}

func TestParseResult(t *testing.T) {
	got, err := parseResult("PROXY a:3128; SOCKS s:1080;DIRECT; HTTPS b")
	want := []route{{proxy: "a:3128"}, {direct: true}, {proxy: "b:80"}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("%+v %v", got, err)
	}
	for _, bad := range []string{"", "SOCKS s:1", "BOGUS x", "PROXY"} {
		if _, err := parseResult(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// FuzzParseResult: whatever a PAC file returns never panics, and a
// result read is a list of usable routes.
func FuzzParseResult(f *testing.F) {
	for _, s := range []string{"DIRECT", "PROXY a:1; DIRECT", "HTTPS [2001:db8::1]:443", ";;", "PROXY a b c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		routes, err := parseResult(s)
		if err == nil && len(routes) == 0 {
			t.Errorf("%q: no routes and no error", s)
		}
	})
}

// FuzzRead: a damaged environment file is an error or a valid
// configuration, never a panic.
func FuzzRead(f *testing.F) {
	f.Add("https_proxy='http://a:b@proxy:3128'\nno_proxy='x,.y'\n")
	f.Add("ONRAMP_PROXY_PAC='http://wpad/wpad.dat'\n")
	f.Add("https_proxy=http://[::1\n")
	f.Fuzz(func(t *testing.T, data string) {
		root := t.TempDir()
		if err := os.MkdirAll(root+"/etc/onramp", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(File(root), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := Read(root)
		if err == nil && Validate(c) != nil {
			t.Errorf("read an invalid configuration %+v", c)
		}
	})
}
