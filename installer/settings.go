package installer

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/onramp-os/onramp/settings"
)

// upperDir is where a layout 2 system before DATA/settings kept whatever it
// changed in its root, the settings among it: the upper directory of its
// root overlay on DATA.
const upperDir = "system/upper"

// The file type bits of an ext4 inode's mode, as debugfs prints it.
const (
	sIFMT  = 0o170000
	sIFDIR = 0o040000
	sIFREG = 0o100000
	sIFLNK = 0o120000
)

// readSettings reads the device's settings (package settings' set) from
// DATA at offset on path: each entry of the set from DATA/settings, or,
// where DATA/settings holds nothing of that entry, from the overlay upper
// directory of an earlier system (DATA/system/upper). One entry never
// mixes both places (a key from one and its certificate from the other).
// Whatever else either place holds is not a setting and is left behind.
func readSettings(dev string, offset int64) (Files, error) {
	dump, err := dumpData(dev, offset, settings.Dir)
	if err != nil {
		return nil, err
	}
	kept := selectSettings(dump[settings.Dir])
	upper, err := dumpUpper(fmt.Sprintf("%s?offset=%d", dev, offset))
	if err != nil {
		return nil, err
	}
	has := map[string]bool{}
	for n, f := range kept {
		e, _ := settings.Lookup(n, f.Mode.IsDir())
		has[e.Path] = true
	}
	for n, f := range upper {
		if e, _ := settings.Lookup(n, f.Mode.IsDir()); !has[e.Path] {
			kept[n] = f
		}
	}
	return kept, nil
}

// selectSettings keeps the members of the set.
func selectSettings(files Files) Files {
	out := Files{}
	for n, f := range files {
		if settings.Member(n, f.Mode.IsDir()) {
			out[n] = f
		}
	}
	return out
}

// dumpUpper reads the members of the set from DATA/system/upper of dev
// (debugfs' "file?offset=N"). Only the set's own paths are read, not the
// whole upper directory (which holds whatever the old system changed).
// Overlay whiteouts (character devices) are deletions, not settings.
func dumpUpper(dev string) (Files, error) {
	var parents []string
	seen := map[string]bool{}
	for _, e := range settings.Set {
		if d := path.Dir(e.Source()); !seen[d] {
			seen[d] = true
			parents = append(parents, d)
		}
	}
	var script strings.Builder
	for _, d := range parents {
		fmt.Fprintf(&script, "ls -p \"/%s\"\n", path.Join(upperDir, d))
	}
	out, err := runDebugfs(dev, script.String(), "-f", "-")
	if err != nil {
		return nil, err
	}
	// Which sources exist, and as what (the mode's file type bits).
	types := map[string]uint64{}
	block := -1
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "debugfs: ") {
			block++
			continue
		}
		f := strings.Split(line, "/")
		if block < 0 || block >= len(parents) || len(f) < 7 {
			continue
		}
		if mode, err := strconv.ParseUint(f[2], 8, 32); err == nil {
			types[path.Join(parents[block], f[5])] = mode & sIFMT
		}
	}
	tmp, err := os.MkdirTemp("", "onramp-upper-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	var dumps strings.Builder
	var dumped []string
	for _, e := range settings.Set {
		src := e.Source()
		t := types[src]
		want := t == sIFDIR // a Tree or a Glob's directory
		if e.Kind == settings.Single {
			want = t == sIFREG || t == sIFLNK
		}
		if !want {
			continue
		}
		dir := filepath.Join(tmp, filepath.FromSlash(path.Dir(src)))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		fmt.Fprintf(&dumps, "rdump \"/%s\" \"%s\"\n", path.Join(upperDir, src), dir)
		dumped = append(dumped, src)
	}
	if len(dumped) == 0 {
		return Files{}, nil
	}
	if out, err = runDebugfs(dev, dumps.String(), "-f", "-"); err != nil {
		return nil, err
	}
	for _, src := range dumped {
		if _, err := os.Lstat(filepath.Join(tmp, filepath.FromSlash(src))); err != nil {
			return nil, fmt.Errorf("debugfs rdump /%s: %s", path.Join(upperDir, src), strings.TrimSpace(string(out)))
		}
	}
	all, err := readTree(tmp)
	if err != nil {
		return nil, err
	}
	files := selectSettings(all)
	if err := diskMeta(dev, upperDir, files); err != nil {
		return nil, err
	}
	return files, nil
}
