package sysconf

import (
	"bufio"
	"bytes"
	_ "embed"
	"errors"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
)

// ZoneinfoDir is where tzdata keeps the zones.
const ZoneinfoDir = "/usr/share/zoneinfo"

// Zone is a tz database time zone the user can pick: Region/City.
type Zone struct {
	Name   string // "America/Argentina/Buenos_Aires"
	Region string // "America"
	City   string // "Argentina/Buenos Aires": for people, underscores as spaces
}

// regions are the tz areas offered; the rest (Etc, posix, right, legacy
// names like "CET") are not places anyone lives in.
var regions = map[string]bool{
	"Africa": true, "America": true, "Antarctica": true, "Arctic": true, "Asia": true,
	"Atlantic": true, "Australia": true, "Europe": true, "Indian": true, "Pacific": true,
}

// UTC is offered as a region of its own.
const UTC = "UTC"

// zonesSnapshot lists the zones of Go's embedded tzdata, for a root without
// /usr/share/zoneinfo (scripts/gen-sysconf-data.sh refreshes it).
//
//go:embed data/zones.txt
var zonesSnapshot []byte

// Zones lists the time zones of ROOT/usr/share/zoneinfo, or of the embedded
// snapshot when the root has none, sorted by name, UTC last.
func (r Root) Zones() ([]Zone, error) {
	var names []string
	dir := r.Path(ZoneinfoDir)
	err := fs.WalkDir(os.DirFS(dir), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == "." {
			return nil
		}
		region, _, _ := strings.Cut(p, "/")
		if !regions[region] {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if !d.IsDir() && strings.Contains(p, "/") && !strings.ContainsAny(path.Base(p), ".") {
			names = append(names, p)
		}
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return SnapshotZones(), nil
	} else if err != nil {
		return nil, err
	}
	return makeZones(names), nil
}

// SnapshotZones lists the zones of the embedded snapshot: those of a base
// system that is not at hand.
func SnapshotZones() []Zone {
	var names []string
	sc := bufio.NewScanner(bytes.NewReader(zonesSnapshot))
	for sc.Scan() {
		if n := strings.TrimSpace(sc.Text()); n != "" {
			names = append(names, n)
		}
	}
	return makeZones(names)
}

func makeZones(names []string) []Zone {
	sort.Strings(names)
	zones := make([]Zone, 0, len(names)+1)
	for _, n := range names {
		region, city, ok := strings.Cut(n, "/")
		if !ok || !regions[region] {
			continue
		}
		zones = append(zones, Zone{Name: n, Region: region, City: strings.ReplaceAll(city, "_", " ")})
	}
	return append(zones, Zone{Name: UTC, Region: UTC, City: UTC})
}

// FindZone finds a zone by its tz name.
func FindZone(zones []Zone, name string) (Zone, bool) {
	i := sort.Search(len(zones)-1, func(i int) bool { return zones[i].Name >= name })
	if i < len(zones)-1 && zones[i].Name == name {
		return zones[i], true
	}
	if n := len(zones); n > 0 && zones[n-1].Name == name {
		return zones[n-1], true
	}
	return Zone{}, false
}

// Regions are the distinct regions of zones, in order.
func Regions(zones []Zone) []string {
	var out []string
	for _, z := range zones {
		if len(out) == 0 || out[len(out)-1] != z.Region {
			out = append(out, z.Region)
		}
	}
	return out
}

// WriteTimezone points /etc/localtime at the zone with a relative symlink,
// as systemd expects. The zone file itself need not exist in the root (an
// offline root may get tzdata later); the name must be a known zone.
func (r Root) WriteTimezone(zone string) error {
	if zone == "" || strings.Contains(zone, "..") || strings.HasPrefix(zone, "/") {
		return errors.New("invalid time zone name")
	}
	return symlink(r, "../usr/share/zoneinfo/"+zone, "/etc/localtime")
}
