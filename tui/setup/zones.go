package setup

import (
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/onramp-os/onramp/firstboot"
	"github.com/onramp-os/onramp/sysconf"
	"github.com/onramp-os/onramp/tui/widget"
)

// regionPage lists the tz regions; typing searches every zone, so
// "berlin" finds Europe/Berlin without choosing Europe first.
type regionPage struct {
	list *filterList
	note string
	all  *filterList // every zone, used while a query is typed
}

func newRegionPage(m *Model, note string) *regionPage {
	var items []listItem
	for _, r := range sysconf.Regions(m.data.Zones) {
		items = append(items, listItem{label: r, id: r})
	}
	p := &regionPage{list: newFilterList(items), note: note, all: newZoneList(m.data.Zones, "")}
	if z, ok := sysconf.FindZone(m.data.Zones, m.zoneHint()); ok {
		p.list.selectID(z.Region)
	}
	return p
}

// newZoneList lists the zones of region ("" for all) by city.
func newZoneList(zones []sysconf.Zone, region string) *filterList {
	var items []listItem
	for _, z := range zones {
		if region == "" || z.Region == region {
			label := z.City
			if region == "" && z.Name != sysconf.UTC {
				label = z.Region + "/" + z.City
			}
			items = append(items, listItem{label: label, id: z.Name})
		}
	}
	return newFilterList(items)
}

func (*regionPage) name() string         { return "region" }
func (*regionPage) step() firstboot.Step { return firstboot.StepTimezone }

func (p *regionPage) active() *filterList {
	if len(p.all.query) > 0 {
		return p.all
	}
	return p.list
}

func (p *regionPage) update(m *Model, msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.MouseMsg:
		p.active().wheel(msg)
	case tea.KeyMsg:
		switch msg.String() {
		case "esc":
			return m.back()
		case "enter":
			it, ok := p.active().selected()
			if !ok {
				return nil
			}
			if p.active() == p.all || it.id == sysconf.UTC {
				return m.goTo(newCityPage(m, "", it.id))
			}
			return m.goTo(newCityPage(m, it.id, m.zoneHint()))
		}
		// Typing filters all zones; movement keys move in what is shown.
		if msg.Type == tea.KeyRunes || msg.Type == tea.KeySpace || msg.String() == "backspace" || msg.String() == "ctrl+u" {
			p.all.key(msg, m.bodyRows())
			return nil
		}
		p.active().key(msg, m.bodyRows())
	case clickMsg:
		if _, again := listClick(m, p.active(), msg, p.top(m), m.bodyRows()-4); again {
			return p.update(m, enterKey)
		}
	}
	return nil
}

// top is what the page shows above the list.
func (p *regionPage) top(m *Model) string {
	t := m.cfg.Theme
	body := t.Heading.Render(m.t("tz.region")) + "\n"
	if p.note != "" {
		body += t.Warning.Render(p.note) + "\n"
	}
	return body + "\n"
}

func (p *regionPage) view(m *Model, w, h int) (string, []widget.KeyHelp) {
	body := p.top(m) + p.active().view(m.cfg.Theme, m.t, w, h-4)
	return body, []widget.KeyHelp{{Key: "Enter", Does: m.t("help.choose")}, {Key: "Esc", Does: m.t("help.back")}, {Key: m.t("help.type"), Does: m.t("help.search")}}
}

// cityPage lists a region's zones with their local time.
type cityPage struct {
	region string
	list   *filterList
	locs   map[string]*time.Location
	tag    int64
}

type locsMsg struct {
	tag  int64
	locs map[string]*time.Location
}

func newCityPage(m *Model, region, selected string) *cityPage {
	zones := m.data.Zones
	if region == "" { // one zone chosen from the search: it alone
		z, _ := sysconf.FindZone(zones, selected)
		zones = []sysconf.Zone{z}
		region = z.Region
	}
	p := &cityPage{region: region, list: newZoneList(zones, region)}
	p.list.selectID(selected)
	return p
}

func (*cityPage) name() string         { return "city" }
func (*cityPage) step() firstboot.Step { return firstboot.StepTimezone }

// enter loads the region's zones for the local-time column.
func (p *cityPage) enter(m *Model) tea.Cmd {
	if p.locs != nil {
		return nil
	}
	p.tag = m.busy()
	tag := p.tag
	var names []string
	for _, it := range p.list.items {
		names = append(names, it.id)
	}
	return func() tea.Msg {
		locs := map[string]*time.Location{}
		for _, n := range names {
			if l, err := time.LoadLocation(n); err == nil {
				locs[n] = l
			}
		}
		return locsMsg{tag: tag, locs: locs}
	}
}

func (p *cityPage) update(m *Model, msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case locsMsg:
		if msg.tag == p.tag {
			p.locs = msg.locs
		}
	case tzAppliedMsg:
		return nil
	case tea.MouseMsg:
		p.list.wheel(msg)
	case tea.KeyMsg:
		switch msg.String() {
		case "esc":
			return m.back()
		case "enter":
			it, ok := p.list.selected()
			if !ok {
				return nil
			}
			loc := p.locs[it.id]
			if loc == nil {
				return nil // still loading; the list says so
			}
			return m.goTo(newClockPage(m, it.id, loc))
		}
		p.list.key(msg, m.bodyRows()-3)
	case clickMsg:
		if _, again := listClick(m, p.list, msg, p.top(m), m.bodyRows()-2); again {
			return p.update(m, enterKey)
		}
	}
	return nil
}

// top is what the page shows above the list.
func (p *cityPage) top(m *Model) string {
	head := m.cfg.Theme.Heading.Render(m.t("tz.city", p.region))
	if p.locs == nil {
		head += "  " + m.spin.View()
	}
	return head + "\n\n"
}

func (p *cityPage) view(m *Model, w, h int) (string, []widget.KeyHelp) {
	t := m.cfg.Theme
	now := m.cfg.Now()
	for i := range p.list.items {
		it := &p.list.items[i]
		if l := p.locs[it.id]; l != nil {
			it.detail = now.In(l).Format("15:04")
		}
	}
	body := p.top(m) + p.list.view(t, m.t, w, h-2)
	return strings.TrimRight(body, "\n"), []widget.KeyHelp{{Key: "Enter", Does: m.t("help.choose")}, {Key: "Esc", Does: m.t("help.back")}, {Key: m.t("help.type"), Does: m.t("help.search")}}
}
