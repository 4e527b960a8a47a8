package installer

import (
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/diskfs/go-diskfs/backend/file"
	"github.com/diskfs/go-diskfs/partition/gpt"

	"github.com/onramp-os/onramp/blockdev"
	"github.com/onramp-os/onramp/images"
)

// backupsDir is the folder of the backups on an installer stick's
// OSC-BACKUP partition (BackupDirFor).
const backupsDir = "osc-backups"

// CheckWriteTarget is images.CheckTarget for osc write, plus a warning when
// the target is an installer stick whose OSC-BACKUP partition holds backups
// of settings and licenses: writing an image over it destroys them, so the
// user is asked a second time.
func CheckWriteTarget(src images.Source, target string, force bool) (images.TargetCheck, error) {
	c, err := images.CheckTarget(src, target, force)
	if err != nil {
		return c, err
	}
	n, damaged := stickBackups(target, c.Drive)
	if n > 0 {
		c.Warnings = append(c.Warnings, fmt.Sprintf("%s holds %d backup(s) of settings and licenses from earlier installations (%s on its %s partition); writing destroys them: copy them off first",
			target, n, backupsDir, BackupLabel))
	}
	if damaged != nil {
		c.Warnings = append(c.Warnings, fmt.Sprintf("%s has an %s partition osc cannot read (%v): any backups on it cannot be counted, and writing destroys them",
			target, BackupLabel, damaged))
	}
	return c, nil
}

// stickBackups counts the backup archives in osc-backups on the partition
// named OSC-BACKUP of the GPT on target, read-only. Anything unreadable
// counts as none: this only adds a warning (d: the target's drive as
// CheckTarget found it, nil for a file); a damaged FAT on that
// partition is returned (errDamagedFAT), for a warning of its own.
func stickBackups(target string, d *blockdev.Drive) (int, error) {
	t, _, err := readOnlyTargetOf(target, d)
	if err != nil {
		return 0, nil
	}
	defer t.Close()
	if t.openRead() != nil || !t.gptHeadersSane() {
		return 0, nil
	}
	tbl, err := gpt.Read(file.New(t.f, true), t.SectorSize, t.SectorSize)
	if err != nil {
		return 0, nil
	}
	for _, p := range tbl.Partitions {
		if p.Name != BackupLabel {
			continue
		}
		sector := int64(t.SectorSize)
		fsys, err := openFAT(t.f, int64(p.Start)*sector, int64(p.End-p.Start+1)*sector, sector)
		if errors.Is(err, errDamagedFAT) {
			return 0, err
		}
		if err != nil {
			return 0, nil
		}
		entries, err := fsys.fs.ReadDir(backupsDir)
		if err != nil {
			return 0, nil
		}
		n := 0
		for _, e := range entries {
			if !e.IsDir() && strings.HasSuffix(strings.ToLower(e.Name()), ".tar") && path.Base(e.Name()) == e.Name() {
				n++
			}
		}
		return n, nil
	}
	return 0, nil
}
