package installer

import (
	"fmt"
	"os"

	"github.com/onramp-os/onramp/blockdev"
	"github.com/onramp-os/onramp/internal/exitcode"
	"github.com/onramp-os/onramp/license"
)

// Inspection is what `osc inspect` and the installer's More Info show about
// a target: the drive and any installation on it.
type Inspection struct {
	Path      string          `json:"path"`
	Size      int64           `json:"size"`
	Drive     *blockdev.Drive `json:"drive,omitempty"`
	Existing  *Existing       `json:"existing"`
	Settings  int             `json:"settings"`
	Licenses  int             `json:"licenses"`
	HasSystem bool            `json:"has_installation"`
	// SettingsFiles are the settings a migration would carry, by path.
	SettingsFiles []Setting `json:"settings_files"`
	// LicenseStates are the licenses verified for this machine.
	LicenseStates []license.Status `json:"license_states"`
}

// Setting is one entry of the settings on a target, as `osc inspect`
// lists it. It never holds content: the set includes the device's private
// key.
type Setting struct {
	Path   string `json:"path"` // on the installed system: /etc/locale.conf
	Type   string `json:"type"` // file, dir or symlink
	Mode   string `json:"mode"` // octal
	UID    int    `json:"uid"`
	GID    int    `json:"gid"`
	Size   int    `json:"size,omitempty"`
	Target string `json:"target,omitempty"`
}

// SettingsList describes files (settings as read from a target) by path.
func SettingsList(files Files) []Setting {
	out := make([]Setting, 0, len(files))
	for _, n := range files.Names() {
		f := files[n]
		e := entryOf(n, f)
		out = append(out, Setting{Path: "/" + n, Type: e.Type, Mode: e.Mode, UID: f.UID, GID: f.GID,
			Size: len(f.Data), Target: f.Target})
	}
	return out
}

// Inspect reads a target without writing or holding it exclusively, so a
// mounted disk can be inspected too.
func Inspect(path string) (*Inspection, error) {
	t, d, err := readOnlyTarget(path)
	if err != nil {
		return nil, err
	}
	in := &Inspection{Path: path, Drive: d}
	defer t.Close()
	ex, err := t.ReadExisting()
	if err != nil {
		return nil, fmt.Errorf("inspect %s: %w", path, err)
	}
	in.Size, in.Existing = t.Size, ex
	in.Settings, in.Licenses, in.HasSystem = ex.Settings.Count(), ex.Licenses.Count(), ex.Layout > 0
	in.SettingsFiles = SettingsList(ex.Settings)
	in.LicenseStates = LicenseStates(ex)
	return in, nil
}

// readOnlyTarget describes path (a block device or an image file) for
// reading only, never exclusively, so a mounted disk can be read too.
func readOnlyTarget(path string) (*Target, *blockdev.Drive, error) {
	return readOnlyTargetOf(path, nil)
}

// readOnlyTargetOf is readOnlyTarget for a block device already looked
// up (d; nil to look it up).
func readOnlyTargetOf(path string, d *blockdev.Drive) (*Target, *blockdev.Drive, error) {
	isBlock, err := blockdev.IsBlockDevice(path)
	if err != nil {
		return nil, nil, exitcode.New(exitcode.Usage, "target %s: %v", path, err)
	}
	t := &Target{Path: path, Block: isBlock, SectorSize: sector512, readOnly: true}
	if !isBlock {
		fi, err := os.Stat(path)
		if err != nil {
			return nil, nil, exitcode.New(exitcode.Usage, "target %s: %v", path, err)
		}
		if !fi.Mode().IsRegular() {
			return nil, nil, exitcode.New(exitcode.Usage, "%s is neither a block device nor an image file", path)
		}
		t.Size = fi.Size()
		return t, nil, nil
	}
	if d == nil {
		found, err := blockdev.Lookup(path)
		if err != nil {
			return nil, nil, exitcode.New(exitcode.Usage, "target %s: %v", path, err)
		}
		d = &found
	}
	t.Size = d.Size
	if d.LogicalBlockSize > 0 {
		t.SectorSize = d.LogicalBlockSize
	}
	return t, d, nil
}
