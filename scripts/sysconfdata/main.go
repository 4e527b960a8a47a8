// Command sysconfdata writes the snapshots sysconf embeds for roots without
// the data: the xkeyboard-config rules list (from the base.lst given, which
// scripts/gen-sysconf-data.sh takes out of Debian's xkb-data) and the zone
// names of Go's embedded tzdata ($GOROOT/lib/time/zoneinfo.zip).
package main

import (
	"archive/zip"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
)

func main() {
	baseLst := flag.String("base-lst", "", "xkeyboard-config rules/base.lst to copy")
	zoneZip := flag.String("zoneinfo-zip", filepath.Join(runtime.GOROOT(), "lib", "time", "zoneinfo.zip"), "Go's tzdata zip")
	out := flag.String("out", "sysconf/data", "output folder")
	flag.Parse()
	if err := run(*baseLst, *zoneZip, *out); err != nil {
		fmt.Fprintln(os.Stderr, "sysconfdata:", err)
		os.Exit(1)
	}
}

func run(baseLst, zoneZip, out string) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	if baseLst != "" {
		data, err := os.ReadFile(baseLst)
		if err != nil {
			return err
		}
		if !strings.Contains(string(data), "! layout") {
			return fmt.Errorf("%s has no layout section", baseLst)
		}
		if err := os.WriteFile(filepath.Join(out, "base.lst"), data, 0o644); err != nil {
			return err
		}
	}
	z, err := zip.OpenReader(zoneZip)
	if err != nil {
		return err
	}
	defer z.Close()
	var names []string
	for _, f := range z.File {
		if !strings.HasSuffix(f.Name, "/") && strings.Contains(f.Name, "/") {
			names = append(names, f.Name)
		}
	}
	sort.Strings(names)
	return os.WriteFile(filepath.Join(out, "zones.txt"), []byte(strings.Join(names, "\n")+"\n"), 0o644)
}
