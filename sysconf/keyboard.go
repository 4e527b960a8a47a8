package sysconf

import (
	"bufio"
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// Layout is an xkeyboard-config layout with its variants.
type Layout struct {
	Name        string // "de"
	Description string // "German"
	Variants    []Variant
}

// Variant is a variant of a layout.
type Variant struct {
	Name        string // "nodeadkeys"
	Description string // "German (no dead keys)"
}

// Variant finds a variant of l by name; "" is the layout itself.
func (l Layout) Variant(name string) (Variant, bool) {
	if name == "" {
		return Variant{Description: l.Description}, true
	}
	for _, v := range l.Variants {
		if v.Name == name {
			return v, true
		}
	}
	return Variant{}, false
}

// xkbSnapshot is base.lst from Debian's xkb-data, for a root without
// xkeyboard-config (scripts/gen-sysconf-data.sh refreshes it).
//
//go:embed data/base.lst
var xkbSnapshot []byte

// BaseLstPath is where xkeyboard-config keeps its list of layouts.
const BaseLstPath = "/usr/share/X11/xkb/rules/base.lst"

// Layouts lists the keyboard layouts from ROOT's base.lst, or from the
// embedded snapshot when the root has none, sorted by description.
func (r Root) Layouts() ([]Layout, error) {
	data, err := r.read(BaseLstPath)
	if errors.Is(err, os.ErrNotExist) {
		data = xkbSnapshot
	} else if err != nil {
		return nil, err
	}
	return ParseBaseLst(bytes.NewReader(data))
}

// SnapshotLayouts lists the layouts of the embedded snapshot: those of a
// base system that is not at hand.
func SnapshotLayouts() ([]Layout, error) { return ParseBaseLst(bytes.NewReader(xkbSnapshot)) }

// ParseBaseLst reads the "! layout" and "! variant" sections of an
// xkeyboard-config rules list. Variants name their layout in the
// description ("de: German (no dead keys)"); one naming an unknown layout
// is dropped.
func ParseBaseLst(rd io.Reader) ([]Layout, error) {
	sc := bufio.NewScanner(rd)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	section := ""
	var layouts []Layout
	index := map[string]int{}
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), " \t\r")
		if strings.HasPrefix(line, "!") {
			section = strings.TrimSpace(line[1:])
			continue
		}
		name, desc, ok := splitEntry(line)
		if !ok {
			continue
		}
		switch section {
		case "layout":
			if _, dup := index[name]; dup {
				continue
			}
			index[name] = len(layouts)
			layouts = append(layouts, Layout{Name: name, Description: desc})
		case "variant":
			owner, vdesc, ok := strings.Cut(desc, ":")
			if !ok {
				continue
			}
			i, known := index[strings.TrimSpace(owner)]
			if !known {
				continue
			}
			layouts[i].Variants = append(layouts[i].Variants, Variant{Name: name, Description: strings.TrimSpace(vdesc)})
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(layouts) == 0 {
		return nil, errors.New("no keyboard layouts in the list")
	}
	sort.SliceStable(layouts, func(i, j int) bool {
		return strings.ToLower(layouts[i].Description) < strings.ToLower(layouts[j].Description)
	})
	return layouts, nil
}

// splitEntry splits "  name   description" lines.
func splitEntry(line string) (name, desc string, ok bool) {
	if !strings.HasPrefix(line, " ") {
		return "", "", false
	}
	f := strings.TrimSpace(line)
	i := strings.IndexAny(f, " \t")
	if i <= 0 {
		return "", "", false
	}
	return f[:i], strings.TrimSpace(f[i:]), true
}

// FindLayout finds a layout by name.
func FindLayout(layouts []Layout, name string) (Layout, bool) {
	for _, l := range layouts {
		if l.Name == name {
			return l, true
		}
	}
	return Layout{}, false
}

// ConsoleKeymap is the console (kbd) keymap for an xkb layout and variant,
// named as kbd's xkb-derived keymaps are: "de", "de-nodeadkeys".
func ConsoleKeymap(layout, variant string) string {
	if variant == "" {
		return layout
	}
	return layout + "-" + variant
}

// WriteKeyboard writes /etc/vconsole.conf and
// /etc/X11/xorg.conf.d/00-keyboard.conf for the layout and variant.
func (r Root) WriteKeyboard(layout, variant string) error {
	if layout == "" {
		return errors.New("no keyboard layout")
	}
	if err := r.write("/etc/vconsole.conf", []byte("KEYMAP="+ConsoleKeymap(layout, variant)+"\n"), 0o644); err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString("# Written by the setup assistant.\n")
	b.WriteString("Section \"InputClass\"\n")
	b.WriteString("        Identifier \"system-keyboard\"\n")
	b.WriteString("        MatchIsKeyboard \"on\"\n")
	fmt.Fprintf(&b, "        Option \"XkbLayout\" \"%s\"\n", layout)
	if variant != "" {
		fmt.Fprintf(&b, "        Option \"XkbVariant\" \"%s\"\n", variant)
	}
	b.WriteString("EndSection\n")
	return r.write("/etc/X11/xorg.conf.d/00-keyboard.conf", []byte(b.String()), 0o644)
}
