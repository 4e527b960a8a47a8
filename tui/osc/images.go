package osc

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/onramp-os/onramp/blockdev"
	"github.com/onramp-os/onramp/images"
	"github.com/onramp-os/onramp/tui/widget"
)

// imagePage is step 1, the guide's "Isofile" list: the ISO files in the
// folder, each with its size and volume label.
type imagePage struct {
	env     env
	tag     int64
	loading bool
	dir     string // the folder as shown: absolute when it was "."
	dirErr  error
	items   []imageItem
	cursor  int
}

// imageItem is one file of the list; err says why it cannot be written.
type imageItem struct {
	src  images.Source
	name string
	err  error
}

type imagesScannedMsg struct {
	tag    int64
	dir    string
	dirErr error
	items  []imageItem
}

func newImagePage(e env) imagePage {
	return imagePage{env: e, dir: e.cfg.Dir, loading: true, tag: widget.NextTag()}
}

// enter (re)scans the folder, dropping a scan still under way.
func (p *imagePage) enter() tea.Cmd {
	p.tag = widget.NextTag()
	return p.scan()
}

func (p imagePage) scan() tea.Cmd { return scanImages(p.tag, p.env.cfg.Dir, p.env.cfg.Images) }

// scanImages lists the *.iso files of dir after the extra images and
// inspects each one.
func scanImages(tag int64, dir string, extra []string) tea.Cmd {
	return func() tea.Msg {
		msg := imagesScannedMsg{tag: tag, dir: dir}
		if dir == "." {
			if wd, err := os.Getwd(); err == nil {
				msg.dir = wd
			}
		}
		paths := append([]string(nil), extra...)
		entries, err := os.ReadDir(dir)
		msg.dirErr = err
		var found []string
		for _, e := range entries {
			if strings.EqualFold(filepath.Ext(e.Name()), ".iso") && !e.IsDir() {
				found = append(found, filepath.Join(dir, e.Name()))
			}
		}
		sort.Strings(found)
		for _, p := range append(paths, found...) {
			src, err := images.Inspect(p)
			msg.items = append(msg.items, imageItem{src: src, name: filepath.Base(p), err: err})
		}
		return msg
	}
}

func (p imagePage) update(msg tea.Msg) (imagePage, tea.Cmd) {
	switch msg := msg.(type) {
	case imagesScannedMsg:
		if msg.tag != p.tag {
			return p, nil
		}
		keep := ""
		if p.cursor < len(p.items) {
			keep = p.items[p.cursor].src.Path
		}
		p.loading, p.dir, p.dirErr, p.items, p.cursor = false, msg.dir, msg.dirErr, msg.items, 0
		for i, it := range p.items {
			if it.src.Path == keep && keep != "" {
				p.cursor = i
			}
		}
	case tea.KeyMsg:
		if c, ok := widget.MoveCursor(msg.String(), p.cursor, len(p.items)); ok {
			p.cursor = c
			return p, nil
		}
		switch msg.String() {
		case "r":
			p.loading = true
			return p, p.enter()
		case "enter":
			if p.loading || p.cursor >= len(p.items) || p.items[p.cursor].err != nil {
				return p, nil
			}
			return p, send(imageChosenMsg{image: p.items[p.cursor].src})
		}
	}
	return p, nil
}

// view draws the list; h is the terminal height, for how many rows fit.
func (p imagePage) view(w, h int, spin string) (string, []widget.KeyHelp) {
	th := p.env.cfg.Theme
	help := []widget.KeyHelp{{Key: "up/down", Does: "choose"}, {Key: "enter", Does: "next"}, {Key: "r", Does: "look again"}, {Key: "q", Does: "quit"}}
	var b strings.Builder
	if p.loading && p.items == nil {
		fmt.Fprintf(&b, "%s Looking for ISO files in %s%s", spin, p.dir, th.Ellipsis)
		return b.String(), help
	}
	if len(p.items) == 0 {
		b.WriteString(th.Heading.Render("No installer image found.") + "\n\n")
		if p.dirErr != nil {
			fmt.Fprintf(&b, "osc could not read the folder %s: %v.\n\n", p.dir, unwrapPathError(p.dirErr))
		} else {
			fmt.Fprintf(&b, "osc looked for ISO files (*.iso) in %s and found none.\n\n", p.dir)
		}
		b.WriteString("Unzip the OS Creator download and start osc in its folder, or name the folder that holds the ISO file:\n\n")
		b.WriteString("    osc --dir /path/to/folder\n\n")
		b.WriteString(th.Muted.Render("Press r to look again."))
		return b.String(), []widget.KeyHelp{{Key: "r", Does: "look again"}, {Key: "q", Does: "quit"}}
	}

	b.WriteString(th.Heading.Render("Choose the installer image (ISO file) to write.") + "\n")
	b.WriteString(th.Muted.Render("Folder: "+p.dir) + "\n")
	if p.dirErr != nil {
		b.WriteString(th.Warning.Render(fmt.Sprintf("Could not read it: %v", unwrapPathError(p.dirErr))) + "\n")
	}
	b.WriteString("\n")
	nameW, sizeW := 34, 9
	labelW := max(w-4-nameW-2-sizeW-3, 8)
	b.WriteString(th.Muted.Render("    "+th.Fit("Isofile", nameW)+"  "+widget.PadLeft("Size", sizeW)+"   Volume label") + "\n")
	rows := max(h-14, 3)
	from, to := widget.Window(len(p.items), p.cursor, rows)
	for i := from; i < to; i++ {
		it := p.items[i]
		label := it.src.Label
		if it.err != nil {
			label = "cannot be read"
		} else if label == "" {
			label = "-"
		}
		size := "?"
		if it.err == nil {
			size = blockdev.HumanSize(imageSize(it.src))
		}
		line := th.Fit(it.name, nameW) + "  " + widget.PadLeft(size, sizeW) + "   " + th.Fit(label, labelW)
		b.WriteString(th.Row(i == p.cursor, it.err != nil, line) + "\n")
	}
	if to-from < len(p.items) {
		b.WriteString(th.Muted.Render(fmt.Sprintf("    (%d of %d shown)", to-from, len(p.items))) + "\n")
	}
	if it := p.items[p.cursor]; it.err != nil {
		b.WriteString("\n" + th.Error.Render(th.Warn+" "+it.err.Error()) + "\n")
		b.WriteString("This file cannot be written: download the image again.")
	} else {
		b.WriteString("\n" + th.Muted.Render(it.src.Path))
	}
	return b.String(), help
}

// imageSize is the number of bytes a stick receives.
func imageSize(src images.Source) int64 {
	if src.Size > 0 {
		return src.Size
	}
	return src.FileSize
}

// unwrapPathError drops the path a *os.PathError repeats, since the screen
// names the folder already.
func unwrapPathError(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// imageName is the file name of an image, as the lists show it.
func imageName(src images.Source) string { return filepath.Base(src.Path) }
