package support

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/onramp-os/onramp/blockdev"
	"github.com/onramp-os/onramp/installer"
	"github.com/onramp-os/onramp/internal/exitcode"
	"github.com/onramp-os/onramp/internal/fatimage"
)

// MountDir is where ToStick mounts a stick that is not mounted yet.
var MountDir = "/run/onramp/support"

// stickTypes are the file systems a bundle is written to, with the mount
// options that make the bundle 0600 where the file system has no modes.
var stickTypes = map[string]string{
	"vfat":  "fmask=0177,dmask=0077",
	"exfat": "fmask=0177,dmask=0077",
	"ext4":  "",
}

// Saved says where ToStick put the bundle.
type Saved struct {
	Device string // the partition (or whole-disk file system), "/dev/sdc1"
	Drive  string // vendor and model, "SanDisk Cruzer Blade"
	FSType string
	File   string // the bundle's name on the stick
	// MountPoint is where the stick stays mounted when it was mounted
	// before; "" when ToStick mounted it and has unmounted it again.
	MountPoint string
	Manifest   Manifest
}

func (s Saved) String() string {
	where := s.Device
	if s.Drive != "" {
		where += " (" + s.Drive + ")"
	}
	if s.MountPoint != "" {
		return fmt.Sprintf("saved %s on %s, mounted at %s", s.File, where, s.MountPoint)
	}
	return fmt.Sprintf("saved %s on %s; the stick can be removed", s.File, where)
}

// ErrNoStick is the kind of error ToStick returns when no removable drive
// has a file system it may write to; nothing was written then.
var ErrNoStick = errors.New("no USB stick with a FAT, exFAT or ext4 file system found")

// stick is a file system ToStick may write to.
type stick struct {
	drive  blockdev.Drive
	part   blockdev.Partition
	fsType string
}

// ToStick writes the bundle to the first removable drive with a FAT, exFAT
// or ext4 file system: where it is mounted read-write already, or mounted
// for the write and unmounted after it (synced either way). The partitions
// of an installer ISO written to a stick are never written. With no such
// drive it returns an error of kind Refused wrapping ErrNoStick, naming
// what it saw, and writes nothing.
func ToStick(ctx context.Context, o Options) (Saved, error) {
	s, err := findStick(ctx, o.Exclude)
	if err != nil {
		return Saved{}, err
	}
	var buf bytes.Buffer
	m, err := Write(ctx, &buf, o)
	if err != nil {
		return Saved{}, err
	}
	saved := Saved{Device: s.part.Path, Drive: strings.TrimSpace(s.drive.Vendor + " " + s.drive.Model),
		FSType: s.fsType, File: FileName(m.UnitID, m.Created), Manifest: m}
	if mp, ok := writableMount(s.part.Mounts); ok {
		if err := writeNew(filepath.Join(mp, saved.File), buf.Bytes()); err != nil {
			return Saved{}, err
		}
		syncFS(mp)
		saved.MountPoint = mp
		return saved, nil
	}
	mp, err := mount(s)
	if noFSDriver(err) && s.fsType == "vfat" {
		// A kernel without FAT support (a minimal live system): mtools
		// writes the file system without mounting it.
		return saved, copyToFAT(ctx, s, saved.File, buf.Bytes())
	}
	if err != nil {
		return Saved{}, err
	}
	werr := writeNew(filepath.Join(mp, saved.File), buf.Bytes())
	syncFS(mp)
	if err := unmount(mp); err != nil {
		return Saved{}, errors.Join(werr, err)
	}
	return saved, werr
}

// findStick picks the file system to write to.
func findStick(ctx context.Context, exclude []string) (stick, error) {
	drives, err := blockdev.List()
	if err != nil {
		return stick{}, err
	}
	var seen []string
	for _, d := range drives {
		if !d.Removable && !d.USB {
			continue
		}
		if excluded(d, exclude) {
			seen = append(seen, d.Path+": the drive this screen is about")
			continue
		}
		switch {
		case d.System:
			seen = append(seen, d.Path+": the system disk")
			continue
		case d.ReadOnly:
			seen = append(seen, d.Path+": read-only")
			continue
		}
		parts, err := blockdev.Partitions(d.Name)
		if err != nil {
			seen = append(seen, fmt.Sprintf("%s: %v", d.Path, err))
			continue
		}
		if len(parts) == 0 { // a file system on the whole stick
			mounts, _ := blockdev.MountsOf(d.Name)
			parts = []blockdev.Partition{{Name: d.Name, Path: d.Path, Size: d.Size, Mounts: mounts}}
		}
		// The FAT boot image inside an installer ISO written to the stick
		// looks like a partition but belongs to the image.
		iso := installer.ISOEnd(d.Path)
		for _, p := range parts {
			if p.Start < iso {
				seen = append(seen, p.Path+": part of the installer image on the stick")
				continue
			}
			fsType := probeType(ctx, p)
			if _, ok := stickTypes[fsType]; !ok {
				if fsType == "" {
					fsType = "no file system"
				}
				seen = append(seen, fmt.Sprintf("%s: %s, not FAT, exFAT or ext4", p.Path, fsType))
				continue
			}
			if len(p.Mounts) > 0 {
				if _, ok := writableMount(p.Mounts); !ok {
					seen = append(seen, p.Path+": mounted read-only")
					continue
				}
			}
			return stick{drive: d, part: p, fsType: fsType}, nil
		}
	}
	if len(seen) == 0 {
		return stick{}, exitcode.Wrap(exitcode.Refused, fmt.Errorf("%w: no removable drive is connected", ErrNoStick))
	}
	return stick{}, exitcode.Wrap(exitcode.Refused, fmt.Errorf("%w (%s)", ErrNoStick, strings.Join(seen, "; ")))
}

// excluded reports whether d is one of the paths (resolved, so a
// /dev/disk/by-id link names its disk too).
func excluded(d blockdev.Drive, paths []string) bool {
	for _, p := range paths {
		if p == d.Path {
			return true
		}
		if r, err := filepath.EvalSymlinks(p); err == nil && r == d.Path {
			return true
		}
		if x, err := blockdev.Lookup(p); err == nil && x.Name == d.Name {
			return true
		}
	}
	return false
}

// probeType asks blkid for the file system type of p ("" when none).
func probeType(ctx context.Context, p blockdev.Partition) string {
	node, cleanup, err := nodeOf(p)
	if err != nil {
		return ""
	}
	defer cleanup()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "blkid", "-p", "-o", "value", "-s", "TYPE", node).Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// copyToFAT writes data as name into the root of the FAT file system of s
// with mcopy, then flushes the device.
func copyToFAT(ctx context.Context, s stick, name string, data []byte) error {
	node, cleanup, err := nodeOf(s.part)
	if err != nil {
		return err
	}
	defer cleanup()
	tree, err := fatimage.NewTree()
	if err != nil {
		return err
	}
	defer tree.Remove()
	if err := tree.Add(name, bytes.NewReader(data)); err != nil {
		return err
	}
	if err := tree.CopyTo(ctx, node, 0); err != nil {
		return fmt.Errorf("write %s to %s: %w", name, s.part.Path, err)
	}
	f, err := os.OpenFile(node, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// ToDir writes the bundle into the folder dir, named as on a stick: where
// the demos put it instead of a stick.
func ToDir(ctx context.Context, dir string, o Options) (Saved, error) {
	var buf bytes.Buffer
	m, err := Write(ctx, &buf, o)
	if err != nil {
		return Saved{}, err
	}
	saved := Saved{Device: dir, File: FileName(m.UnitID, m.Created), MountPoint: dir, Manifest: m}
	return saved, writeNew(filepath.Join(dir, saved.File), buf.Bytes())
}
