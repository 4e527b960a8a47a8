package setup

import (
	"fmt"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/onramp-os/onramp/netcfg"
	"github.com/onramp-os/onramp/sysconf"
	"github.com/onramp-os/onramp/tui/widget"
)

// The budget: filtering the whole time-zone list, and a list of
// 500 wireless networks, per keystroke (filter and redraw) in ≤ 1 ms.

func benchTyping(b *testing.B, l *filterList, query string) {
	t := widget.PlainTheme()
	tr := func(k string, a ...any) string { return k }
	keys := []tea.KeyMsg{}
	for _, r := range query {
		keys = append(keys, runes(string(r)))
	}
	bs := key(tea.KeyBackspace)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k := keys[i%len(keys)]
		if i%len(keys) == 0 && len(l.query) > 0 {
			for len(l.query) > 0 {
				l.key(bs, 18)
			}
		}
		l.key(k, 18)
		_ = l.view(t, tr, 76, 18)
	}
}

func BenchmarkFilterTimeZones(b *testing.B) {
	zones, err := sysconf.Root{Dir: b.TempDir()}.Zones()
	if err != nil {
		b.Fatal(err)
	}
	l := newZoneList(zones, "")
	if len(l.items) < 400 {
		b.Fatalf("only %d zones", len(l.items))
	}
	benchTyping(b, l, "america")
}

func BenchmarkFilterWLAN500(b *testing.B) {
	var items []listItem
	for i := 0; i < 500; i++ {
		n := netcfg.Network{SSID: fmt.Sprintf("Network-%03d-Floor%d", i, i%7), Signal: -40 - i%50, Security: netcfg.Security(i % 5)}
		items = append(items, listItem{label: n.SSID, id: "wlan:" + n.SSID, detail: fmt.Sprintf("%-15s %s", n.Security, signalBars(n.Bars()))})
	}
	benchTyping(b, newFilterList(items), "floor3")
}
