package osc

import (
	"fmt"
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/onramp-os/onramp/blockdev"
	"github.com/onramp-os/onramp/images"
	"github.com/onramp-os/onramp/internal/exitcode"
	"github.com/onramp-os/onramp/tui/widget"
)

// confirmPage is step 3: the safety checks run, then the question "All data
// on X will be destroyed", default No. A refusal is shown with what to do
// and cannot be confirmed; a warning (unusual size) asks a second time.
type confirmPage struct {
	env      env
	image    images.Source
	stick    Stick
	tag      int64
	checking bool
	check    images.TargetCheck
	err      error
	second   bool // the warnings question is open
	focus    int  // 0 No (default), 1 Yes
}

type targetCheckedMsg struct {
	tag   int64
	check images.TargetCheck
	err   error
}

func newConfirmPage(e env, image images.Source, stick Stick) confirmPage {
	return confirmPage{env: e, image: image, stick: stick}
}

// enter runs the safety checks.
func (p *confirmPage) enter() tea.Cmd {
	p.tag, p.checking, p.err, p.second, p.focus = widget.NextTag(), true, nil, false, 0
	tag, check, image, stick := p.tag, p.env.cfg.CheckTarget, p.image, p.stick
	return func() tea.Msg {
		c, err := check(image, stick.Path)
		if err == nil && stick.Drive == nil {
			// A file standing in for a stick is named and judged like one.
			c.Description = fmt.Sprintf("%s (%s file %s)", stick.Name, blockdev.HumanSize(stick.Size), stick.Path)
			if note := stickNote(stick, image); note != "" && !strings.HasPrefix(note, "too small") {
				c.Warnings = append(c.Warnings, fmt.Sprintf("%s (%s) is %s", stick.Name, blockdev.HumanSize(stick.Size), note))
			}
		}
		return targetCheckedMsg{tag: tag, check: c, err: err}
	}
}

func (p *confirmPage) leave() { p.tag = widget.NextTag() }

func (p confirmPage) update(msg tea.Msg) (confirmPage, tea.Cmd) {
	switch msg := msg.(type) {
	case targetCheckedMsg:
		if msg.tag == p.tag {
			p.checking, p.check, p.err = false, msg.check, msg.err
		}
	case tea.KeyMsg:
		if p.checking {
			return p, nil
		}
		if p.err != nil {
			switch msg.String() {
			case "r":
				return p, p.enter()
			case "enter":
				return p, send(backMsg{})
			}
			return p, nil
		}
		switch msg.String() {
		case "left", "right", "tab", "shift+tab", "h", "l":
			p.focus = 1 - p.focus
		case "n":
			return p, send(backMsg{})
		case "enter", " ":
			if p.focus == 0 {
				return p, send(backMsg{})
			}
			if len(p.check.Warnings) > 0 && !p.second {
				p.second, p.focus = true, 0
				return p, nil
			}
			return p, send(confirmedMsg{image: p.image, stick: p.stick, check: p.check})
		}
	}
	return p, nil
}

func (p confirmPage) view(w int, spin string) (string, []widget.KeyHelp) {
	th := p.env.cfg.Theme
	var b strings.Builder
	if p.checking {
		fmt.Fprintf(&b, "%s Checking %s%s", spin, p.stick.Name, th.Ellipsis)
		return b.String(), []widget.KeyHelp{{Key: "esc", Does: "back"}, {Key: "q", Does: "quit"}}
	}
	if p.err != nil {
		return p.refusalView(), []widget.KeyHelp{{Key: "r", Does: "check again"}, {Key: "enter/esc", Does: "choose another stick"}, {Key: "q", Does: "quit"}}
	}
	help := []widget.KeyHelp{{Key: "left/right", Does: "choose"}, {Key: "enter", Does: "select"}, {Key: "esc", Does: "back"}, {Key: "q", Does: "quit"}}
	if p.second {
		b.WriteString(th.Warning.Render(th.Warn+" Please check the stick once more.") + "\n\n")
		for _, wmsg := range p.check.Warnings {
			b.WriteString(th.Warning.Render(th.Warn) + " " + wmsg + "\n")
		}
		b.WriteString("\n" + th.Heading.Render("Write to "+p.check.Description+" anyway?") + "\n\n")
		b.WriteString(th.Buttons([]string{"No", "Yes, write anyway"}, p.focus))
		return b.String(), help
	}
	b.WriteString(th.Heading.Render("Write the installer image to the USB stick?") + "\n\n")
	label := ""
	if p.image.Label != "" {
		label = ", " + p.image.Label
	}
	fmt.Fprintf(&b, "  Image:  %s (%s%s)\n", imageName(p.image), blockdev.HumanSize(imageSize(p.image)), label)
	fmt.Fprintf(&b, "  Stick:  %s\n\n", p.check.Description)
	b.WriteString(th.Warning.Render(th.Warn+" "+p.check.ConfirmText()) + "\n")
	for _, wmsg := range p.check.Warnings {
		b.WriteString(th.Warning.Render(th.Warn) + " " + wmsg + "\n")
	}
	b.WriteString("\nosc writes the image, then reads the stick back and compares it.\n\n")
	b.WriteString(th.Buttons([]string{"No", "Yes, write"}, p.focus))
	return b.String(), help
}

// refusalView says why osc will not write the stick and what to do.
func (p confirmPage) refusalView() string {
	th := p.env.cfg.Theme
	var b strings.Builder
	b.WriteString(th.Error.Render(th.Warn+" osc will not write to "+p.stick.Name+".") + "\n\n")
	b.WriteString(p.err.Error() + "\n\n")
	b.WriteString(th.Heading.Render("What to do") + "\n")
	switch exitcode.KindOf(p.err) {
	case exitcode.Refused:
		b.WriteString("Choose another stick. osc never writes to the disk the system runs from; " +
			"a stick that is mounted (opened in a file manager) must be ejected first; " +
			"a stick smaller than the image cannot hold it. " +
			"Press r to check again once the cause is gone.")
	default:
		b.WriteString("Check that the stick is still plugged in, then press r to check again, or choose another stick.")
	}
	b.WriteString("\n\n" + th.Buttons([]string{"Choose another stick"}, 0))
	return b.String()
}
