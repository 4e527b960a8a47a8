package blockdev

import (
	"fmt"
	"strings"

	"github.com/onramp-os/onramp/internal/exitcode"
)

// Size limits behind the warnings of Check.
const (
	MinInstallerSize = 4_000_000_000   // the installer medium needs 4 GB
	MaxUSBStickSize  = 128_000_000_000 // beyond this a "stick" is more likely a real disk
)

// Candidates returns the drives `osc drives` offers by default: removable or
// USB drives that do not hold the running system.
func Candidates(ds []Drive) []Drive {
	var out []Drive
	for _, d := range ds {
		if (d.Removable || d.USB) && !d.System {
			out = append(out, d)
		}
	}
	return out
}

// Check decides whether an image of imageSize bytes may be written to d.
// Refusals come in this order: the system disk (never, even with force),
// read-only, in use, encrypted volumes, neither removable nor USB (these
// four give way to force), and an image larger than the drive (never). Warnings are for the
// user to read: sizes that look wrong and every check force overrode.
func (d Drive) Check(imageSize int64, force bool) (warnings []string, err error) {
	if d.System {
		uses := d.SystemUses
		if len(uses) == 0 {
			uses = []string{"the running system"}
		}
		return nil, refused("%s is the system disk (it holds %s)", d.Path, strings.Join(uses, ", "))
	}
	if d.ReadOnly {
		if !force {
			return nil, refused("%s is read-only (write-protect switch?); use --force to try anyway", d.Path)
		}
		warnings = append(warnings, fmt.Sprintf("%s is read-only; trying anyway (--force)", d.Path))
	}
	if d.Mounted {
		what := strings.Join(d.InUse, "; ")
		if what == "" {
			what = "mounted or held by another device"
		}
		if !force {
			return nil, refused("%s is in use: %s; unmount it first or use --force", d.Path, what)
		}
		warnings = append(warnings, fmt.Sprintf("%s is in use (%s); writing anyway (--force)", d.Path, what))
	}
	if len(d.Encrypted) > 0 {
		what := strings.Join(d.Encrypted, ", ")
		if !force {
			return nil, refused("%s holds an encrypted volume (%s) that cannot be recovered without its key; use --force if you are sure", d.Path, what)
		}
		warnings = append(warnings, fmt.Sprintf("%s holds an encrypted volume (%s); writing anyway (--force)", d.Path, what))
	}
	if !d.Removable && !d.USB {
		if !force {
			return nil, refused("%s is not a removable or USB drive; use --force if you are sure", d.Path)
		}
		warnings = append(warnings, fmt.Sprintf("%s is not a removable or USB drive; writing anyway (--force)", d.Path))
	}
	if imageSize > d.Size {
		return nil, refused("image needs %s, %s holds %s", HumanSize(imageSize), d.Path, HumanSize(d.Size))
	}
	if d.Size < MinInstallerSize {
		warnings = append(warnings, fmt.Sprintf("%s (%s) is smaller than the 4 GB the installer needs", d.Path, HumanSize(d.Size)))
	}
	if d.Size > MaxUSBStickSize {
		warnings = append(warnings, fmt.Sprintf("%s (%s) is larger than 128 GB: is this really a USB stick?", d.Path, HumanSize(d.Size)))
	}
	return warnings, nil
}

// Describe names the drive for people: "SanDisk Cruzer Blade (15.6 GB, /dev/sdb)".
func (d Drive) Describe() string {
	vendor, model := strings.TrimSpace(d.Vendor), strings.TrimSpace(d.Model)
	name := model
	switch {
	case vendor != "" && model == "":
		name = vendor
	case vendor != "" && !strings.HasPrefix(strings.ToLower(model), strings.ToLower(vendor)):
		name = vendor + " " + model
	}
	name = strings.Join(strings.Fields(name), " ")
	if name == "" {
		name = "unnamed disk"
	}
	return fmt.Sprintf("%s (%s, %s)", name, HumanSize(d.Size), d.Path)
}

// HumanSize formats bytes in SI units with one decimal ("15.6 GB",
// "512.0 MB", "4.0 kB"); below 1 kB it counts bytes ("512 B").
func HumanSize(bytes int64) string {
	sign := ""
	v := float64(bytes)
	if bytes < 0 {
		sign, v = "-", -v
	}
	if v < 1000 {
		return fmt.Sprintf("%s%d B", sign, int64(v))
	}
	units := []string{"kB", "MB", "GB", "TB", "PB", "EB"}
	unit := 0
	// Move up a unit when rounding to one decimal would print "1000.0".
	for v /= 1000; v >= 999.95 && unit < len(units)-1; unit++ {
		v /= 1000
	}
	return fmt.Sprintf("%s%.1f %s", sign, v, units[unit])
}

func refused(format string, args ...any) error {
	return exitcode.New(exitcode.Refused, format, args...)
}
