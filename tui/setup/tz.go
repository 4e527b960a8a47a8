package setup

import (
	"context"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/onramp-os/onramp/firstboot"
	"github.com/onramp-os/onramp/sysconf"
	"github.com/onramp-os/onramp/tui/widget"
)

// newTZPage asks whether to detect the time zone automatically.
func newTZPage(m *Model) *formPage {
	auto := &field{kind: fieldCheck, label: "tz.auto", checked: m.cfg.Prefill.Timezone == "auto"}
	p := &formPage{id: "timezone", heading: "tz.heading", stepv: firstboot.StepTimezone}
	p.note = func(m *Model) string { return m.t("tz.note") }
	p.form = &form{fields: []*field{auto}, buttons: []button{
		{label: "btn.back", press: m.back},
		{label: "btn.continue", primary: true, press: func() tea.Cmd {
			if auto.checked {
				return m.goTo(&tzDetectPage{})
			}
			return m.goTo(newRegionPage(m, ""))
		}},
	}}
	return p
}

type tzDetectedMsg struct {
	tag   int64
	found sysconf.Detected
	loc   *time.Location
	err   error
}

// tzDetectPage runs the detection (DHCP option 101, then geo-IP).
type tzDetectPage struct{}

func (*tzDetectPage) name() string         { return "tzdetect" }
func (*tzDetectPage) step() firstboot.Step { return firstboot.StepTimezone }
func (*tzDetectPage) transient() bool      { return true }

func (p *tzDetectPage) enter(m *Model) tea.Cmd {
	tag, cfg := m.busy(), m.cfg
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(cfg.Context, 20*time.Second)
		defer cancel()
		found, err := cfg.Detector.Detect(ctx)
		msg := tzDetectedMsg{tag: tag, found: found, err: err}
		if err == nil {
			msg.loc, msg.err = time.LoadLocation(found.Zone)
		}
		return msg
	}
}

func (p *tzDetectPage) update(m *Model, msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tzDetectedMsg:
		if !m.current(msg.tag) {
			return nil
		}
		if msg.err != nil {
			return m.replace(newRegionPage(m, m.t("tz.notfound")))
		}
		return m.replace(newTZConfirmPage(m, msg.found, msg.loc))
	case tea.KeyMsg:
		if msg.String() == "esc" {
			return m.back()
		}
	}
	return nil
}

func (p *tzDetectPage) view(m *Model, w, h int) (string, []widget.KeyHelp) {
	return m.cfg.Theme.Heading.Render(m.t("tz.heading")) + "\n\n" + m.spin.View() + " " + m.t("tz.detecting"),
		[]widget.KeyHelp{{Key: "Esc", Does: m.t("help.back")}}
}

// newTZConfirmPage shows the detected zone for confirmation.
func newTZConfirmPage(m *Model, found sysconf.Detected, loc *time.Location) tzFormPage {
	p := &formPage{id: "tzconfirm", heading: "tz.found.heading", stepv: firstboot.StepTimezone}
	p.note = func(m *Model) string {
		return m.t("tz.found", found.Zone, m.t("tz.source."+found.Source)) + "\n" +
			m.t("tz.localtime", m.cfg.Now().In(loc).Format("2006-01-02 15:04"))
	}
	p.form = &form{buttons: []button{
		{label: "btn.back", press: m.back},
		{label: "tz.manual", press: func() tea.Cmd { return m.goTo(newRegionPage(m, "")) }},
		{label: "btn.continue", primary: true, press: func() tea.Cmd { return applyTZCmd(m, found.Zone, nil) }},
	}}
	p.form.focus = 2
	return tzFormPage{p}
}

type tzAppliedMsg struct {
	zone string
	err  error
}

func applyTZCmd(m *Model, zone string, manual *time.Time) tea.Cmd {
	cfg := m.cfg
	return func() tea.Msg {
		return tzAppliedMsg{zone: zone, err: firstboot.ApplyTimezone(&cfg.Config, zone, manual)}
	}
}

// tzApplied moves on after the zone was written, or shows why not on the
// page p.
func tzApplied(m *Model, p *formPage, msg tzAppliedMsg) tea.Cmd {
	if msg.err != nil {
		p.err = m.t("tz.err.apply", msg.err)
		return nil
	}
	m.choice.Zone = msg.zone
	return m.startStep(firstboot.StepOnboarding)
}

// tzFormPage is a formPage that also takes the result of applying a zone.
type tzFormPage struct{ *formPage }

func (p tzFormPage) update(m *Model, msg tea.Msg) tea.Cmd {
	if a, ok := msg.(tzAppliedMsg); ok {
		return tzApplied(m, p.formPage, a)
	}
	return p.formPage.update(m, msg)
}

// newClockPage sets date and time by hand, prefilled with the current
// time in the chosen zone. An unchanged time is not set.
func newClockPage(m *Model, zone string, loc *time.Location) tzFormPage {
	now := m.cfg.Now().In(loc)
	date := textField("clock.date", nil)
	clock := textField("clock.time", nil)
	date.set(now.Format("2006-01-02"))
	clock.set(now.Format("15:04"))
	if d, c, ok := firstboot.AnsweredClock(m.cfg.Prefill); ok {
		date.set(d)
		clock.set(c)
	}
	date.max, clock.max = 10, 8
	parse := func() (time.Time, error) { return sysconf.ParseClock(date.value(), clock.value(), loc) }
	date.check = func(v string) string {
		if _, err := sysconf.ParseClock(v, "00:00", loc); err != nil {
			return m.t("err.field.date")
		}
		return ""
	}
	clock.check = func(v string) string {
		if _, err := sysconf.ParseClock("2026-01-01", v, loc); err != nil {
			return m.t("err.field.time")
		}
		return ""
	}
	p := &formPage{id: "clock", heading: "clock.heading", stepv: firstboot.StepTimezone}
	p.note = func(m *Model) string { return m.t("clock.note", zone) }
	p.form = &form{fields: []*field{date, clock}, buttons: []button{
		{label: "btn.back", press: m.back},
		{label: "btn.continue", primary: true, press: func() tea.Cmd {
			t, err := parse()
			if err != nil {
				return nil
			}
			var manual *time.Time
			if date.value() != now.Format("2006-01-02") || clock.value() != now.Format("15:04") {
				manual = &t
			}
			return applyTZCmd(m, zone, manual)
		}},
	}}
	return tzFormPage{p}
}
