package osc

import (
	"fmt"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/onramp-os/onramp/blockdev"
	"github.com/onramp-os/onramp/images"
	"github.com/onramp-os/onramp/tui/widget"
)

// stickPage is step 2, the guide's "Destination USB stick": the candidate
// drives (and the configured extra sticks), refreshed every second.
type stickPage struct {
	env        env
	image      images.Source
	tag        int64 // of the refresh loop; a new loop invalidates the old one
	loaded     bool
	sticks     []Stick
	listErr    error
	cursor     int
	cursorPath string // the highlighted stick, kept across refreshes
}

type drivesListedMsg struct {
	tag    int64
	drives []blockdev.Drive
	err    error
}

type drivesTickMsg struct{ tag int64 }

func newStickPage(e env, image images.Source) stickPage {
	return stickPage{env: e, image: image}
}

// enter starts a refresh loop: list now, then a second after each answer.
func (p *stickPage) enter() tea.Cmd {
	p.tag = widget.NextTag()
	return listDrives(p.tag, p.env.cfg.ListDrives)
}

// leave stops the refresh loop: its next tick or answer is stale.
func (p *stickPage) leave() { p.tag = widget.NextTag() }

func listDrives(tag int64, list func() ([]blockdev.Drive, error)) tea.Cmd {
	return func() tea.Msg {
		ds, err := list()
		return drivesListedMsg{tag: tag, drives: ds, err: err}
	}
}

func (p stickPage) update(msg tea.Msg) (stickPage, tea.Cmd) {
	switch msg := msg.(type) {
	case drivesListedMsg:
		if msg.tag != p.tag {
			return p, nil
		}
		p.loaded, p.listErr = true, msg.err
		p.sticks = append([]Stick(nil), p.env.cfg.Sticks...)
		for _, d := range msg.drives {
			p.sticks = append(p.sticks, StickFromDrive(d))
		}
		p.cursor = 0
		for i, s := range p.sticks {
			if s.Path == p.cursorPath {
				p.cursor = i
			}
		}
		p.track()
		tag := p.tag
		return p, tea.Tick(p.env.cfg.Refresh, func(time.Time) tea.Msg { return drivesTickMsg{tag} })
	case drivesTickMsg:
		if msg.tag != p.tag {
			return p, nil
		}
		return p, listDrives(p.tag, p.env.cfg.ListDrives)
	case tea.KeyMsg:
		if c, ok := widget.MoveCursor(msg.String(), p.cursor, len(p.sticks)); ok {
			p.cursor = c
			p.track()
			return p, nil
		}
		switch msg.String() {
		case "r":
			return p, p.enter()
		case "enter":
			if p.cursor < len(p.sticks) {
				return p, send(stickChosenMsg{image: p.image, stick: p.sticks[p.cursor]})
			}
		}
		p.track()
	}
	return p, nil
}

func (p *stickPage) track() {
	if p.cursor < len(p.sticks) {
		p.cursorPath = p.sticks[p.cursor].Path
	}
}

// stickNote is why a stick deserves a second look, or "".
func stickNote(s Stick, image images.Source) string {
	switch size := imageSize(image); {
	case s.Size > 0 && size > s.Size:
		return fmt.Sprintf("too small: the image needs %s", blockdev.HumanSize(size))
	case s.Size > 0 && s.Size < blockdev.MinInstallerSize:
		return "smaller than the 4 GB the installer needs"
	case s.Size > blockdev.MaxUSBStickSize:
		return "larger than 128 GB: is this really a USB stick?"
	}
	return ""
}

func (p stickPage) view(w, h int, spin string) (string, []widget.KeyHelp) {
	th := p.env.cfg.Theme
	help := []widget.KeyHelp{{Key: "up/down", Does: "choose"}, {Key: "enter", Does: "next"}, {Key: "r", Does: "refresh"}, {Key: "esc", Does: "back"}, {Key: "q", Does: "quit"}}
	var b strings.Builder
	b.WriteString(th.Heading.Render("Choose the USB stick to write "+imageName(p.image)+" to.") + "\n")
	b.WriteString(th.Muted.Render("All data on it will be destroyed. Connect only the stick you want to write.") + "\n\n")
	switch {
	case !p.loaded:
		fmt.Fprintf(&b, "%s Looking for USB sticks%s", spin, th.Ellipsis)
		return b.String(), help
	case len(p.sticks) == 0:
		fmt.Fprintf(&b, "%s %s\n\n", spin, th.Heading.Render("Plug in a USB stick (4 GB or larger)"+th.Ellipsis))
		b.WriteString("osc looks for USB and removable drives every second; the stick appears here as soon as the system sees it.")
		if p.listErr != nil {
			b.WriteString("\n\n" + th.Error.Render("Could not list the drives: "+p.listErr.Error()))
		}
		return b.String(), []widget.KeyHelp{{Key: "r", Does: "refresh"}, {Key: "esc", Does: "back"}, {Key: "q", Does: "quit"}}
	}
	nameW, sizeW := 30, 9
	pathW := max(w-4-nameW-2-sizeW-3, 8)
	b.WriteString(th.Muted.Render("    "+th.Fit("Destination USB stick", nameW)+"  "+widget.PadLeft("Size", sizeW)+"   Device") + "\n")
	rows := max(h-16, 3)
	from, to := widget.Window(len(p.sticks), p.cursor, rows)
	for i := from; i < to; i++ {
		s := p.sticks[i]
		line := th.Fit(s.Label(), nameW) + "  " + widget.PadLeft(blockdev.HumanSize(s.Size), sizeW) + "   " + th.FitLeft(s.Path, pathW)
		b.WriteString(th.Row(i == p.cursor, stickNote(s, p.image) != "", line) + "\n")
	}
	if to-from < len(p.sticks) {
		b.WriteString(th.Muted.Render(fmt.Sprintf("    (%d of %d shown)", to-from, len(p.sticks))) + "\n")
	}
	if note := stickNote(p.sticks[p.cursor], p.image); note != "" {
		b.WriteString("\n" + th.Warning.Render(th.Warn+" "+p.sticks[p.cursor].Label()+": "+note) + "\n")
	} else {
		b.WriteString("\n\n")
	}
	if p.listErr != nil {
		b.WriteString(th.Error.Render("Could not list the drives: "+p.listErr.Error()) + "\n")
	}
	b.WriteString("\n" + th.Muted.Render("The list refreshes every second; press r to refresh now."))
	return b.String(), help
}
