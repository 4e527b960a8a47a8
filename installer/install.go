package installer

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/onramp-os/onramp/images"
	"github.com/onramp-os/onramp/internal/exitcode"
	"github.com/onramp-os/onramp/sysconf"
)

// Mode is a --migrate-settings / --migrate-licenses choice.
type Mode string

// The migration modes: auto migrates what was found, yes insists there is
// something, no leaves it (it is still backed up).
const (
	Auto Mode = "auto"
	Yes  Mode = "yes"
	No   Mode = "no"
)

// ParseMode reads a mode flag value.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case Auto, Yes, No:
		return m, nil
	}
	return "", exitcode.New(exitcode.Usage, "%q is not auto, yes or no", s)
}

// Phases of an install, as progress reports them.
const (
	PhaseInspect images.Phase = "inspect"
	PhaseBackup  images.Phase = "backup"
	PhaseWrite   images.Phase = "write"
	PhaseVerify  images.Phase = "verify"
	PhaseTable   images.Phase = "table"
	PhaseRestore images.Phase = "restore"
	PhaseDone    images.Phase = "done"
)

// Options control one install.
type Options struct {
	// Payload must have passed Verify.
	Payload         *images.Payload
	MigrateSettings Mode
	MigrateLicenses Mode
	// BackupDir receives the backup of what is found on the target.
	BackupDir string
	// FromBackup migrates from this backup instead of the target (osc
	// restore onto a disk whose install failed).
	FromBackup *Backup
	// Progress, when set, receives progress reports.
	Progress func(images.Progress)
	// RestoreCommand formats the hint given when an install fails after
	// the first destructive write; %s is the backup path.
	RestoreCommand string
	// FirstBoot, when set, is written into DATA as FirstBootAnswersPath
	// (mode 0600): the setup assistant's answers for the installed
	// system's first boot.
	FirstBoot []byte
	now       func() time.Time
}

// Result says what an install did.
type Result struct {
	Target   string    `json:"target"`
	Layout   Layout    `json:"layout"`
	Existing *Existing `json:"existing"`
	Backup   string    `json:"backup,omitempty"`
	// BackupInMemory: the backup is on a RAM file system (InMemory).
	BackupInMemory   bool `json:"backup_in_memory,omitempty"`
	MigratedSettings int  `json:"migrated_settings"`
	MigratedLicenses int  `json:"migrated_licenses"`
	// FirstBootSkipped: Options.FirstBoot was not written, since the
	// migrated settings are of a device whose setup is done.
	FirstBootSkipped bool   `json:"first_boot_skipped,omitempty"`
	SystemSHA256     string `json:"system_sha256"`
}

// Plan is what an install will do, decided before any write: the user sees
// it (More Info) before confirming.
type Plan struct {
	Layout   Layout
	Existing *Existing
	Settings bool // migrate settings
	Licenses bool // migrate licenses
	// bios is GRUB's images for legacy BIOS boot; nil without.
	bios *biosBoot
}

// Prepare opens the target, reads the existing installation and decides the
// layout and the migration. Nothing is written.
func Prepare(t *Target, opt Options) (*Plan, error) {
	m := opt.Payload.Manifest
	if t.Size < m.MinTargetSize {
		return nil, exitcode.New(exitcode.Refused, "%s holds %d bytes; %s %s needs at least %d", t.Path, t.Size, m.OSName, m.Version, m.MinTargetSize)
	}
	layout, err := PlanLayout(t.Size, t.SectorSize, m.SlotSize)
	if err != nil {
		return nil, err
	}
	if err := t.open(); err != nil {
		return nil, err
	}
	ex, err := t.ReadExisting()
	if err != nil {
		return nil, err
	}
	if opt.FromBackup != nil {
		b := opt.FromBackup
		ex = &Existing{Table: ex.Table, Layout: b.Meta.Layout, OSName: b.Meta.OSName, OSVersion: b.Meta.OSVersion,
			Settings: b.Settings, Licenses: b.Licenses}
	}
	plan := &Plan{Layout: layout, Existing: ex}
	if plan.bios, err = readBIOSBoot(opt.Payload, layout.Part(LabelBIOS), t.SectorSize); err != nil {
		return nil, err
	}
	if plan.Settings, err = decide("settings", opt.MigrateSettings, len(ex.Settings)); err != nil {
		return nil, err
	}
	if plan.Licenses, err = decide("licenses", opt.MigrateLicenses, len(ex.Licenses)); err != nil {
		return nil, err
	}
	if ex.Problem != "" && (opt.MigrateSettings != No || opt.MigrateLicenses != No) {
		return nil, exitcode.New(exitcode.Refused, "%s holds an installation whose data cannot be read (%s); "+
			"to install anyway and lose it, use --migrate-settings no --migrate-licenses no", t.Path, ex.Problem)
	}
	return plan, nil
}

func decide(what string, m Mode, found int) (bool, error) {
	switch m {
	case No:
		return false, nil
	case Yes:
		if found == 0 {
			return false, exitcode.New(exitcode.Usage, "--migrate-%s yes, but the target holds no %s", what, what)
		}
		return true, nil
	case Auto, "":
		return found > 0, nil
	}
	return false, exitcode.New(exitcode.Usage, "migrate %s: unknown mode %q", what, m)
}

// Install carries out plan on t in the safe order: backup (verified), reset
// the old table, write and verify everything but the table, write the GPT
// last, then check the migrated files against the backup. After the reset
// any failure resets the table again and the error names the backup.
func Install(ctx context.Context, t *Target, plan *Plan, opt Options) (res *Result, err error) {
	if opt.now == nil {
		opt.now = time.Now
	}
	rep := newReporter(t.Path, opt.Progress)
	ex := plan.Existing
	res = &Result{Target: t.Path, Layout: plan.Layout, Existing: ex}
	backup := opt.FromBackup
	if backup == nil && len(ex.Settings)+len(ex.Licenses) > 0 {
		rep.phase(PhaseBackup, 0)
		if err := checkBackupDir(opt.BackupDir, t); err != nil {
			return nil, err
		}
		if backup, err = writeBackup(opt.BackupDir, t.Path, ex, opt.now()); err != nil {
			return nil, err
		}
	}
	backupPath := ""
	if backup != nil {
		backupPath = backup.Path
	}
	res.Backup = backupPath
	inMemory := backupPath != "" && InMemory(filepath.Dir(backupPath))
	res.BackupInMemory = inMemory
	if err := ctx.Err(); err != nil {
		return nil, exitcode.Wrap(exitcode.Aborted, fmt.Errorf("stopped before anything was written to %s: %w", t.Path, err))
	}

	// From here on the target changes: a failure must leave a disk that
	// does not boot, and say where the backup is.
	defer func() {
		if err == nil {
			return
		}
		if rerr := t.resetTable(); rerr != nil {
			err = fmt.Errorf("%w (and resetting the partition table failed too: %v)", err, rerr)
		}
		err = exitcode.Wrap(kindOf(err), fmt.Errorf("installation failed; the partition table was reset so the disk does not boot a half-written system: %w%s",
			err, restoreHint(opt.RestoreCommand, backupPath, inMemory)))
		res = nil
	}()
	settings, licenses := Files{}, Files{}
	if plan.Settings {
		settings = ex.Settings
	}
	if plan.Licenses {
		licenses = ex.Licenses
	}
	firstBoot := opt.FirstBoot
	if _, done := settings[strings.TrimPrefix(sysconf.DonePath, "/")]; done && firstBoot != nil {
		// The migrated settings are a set-up device: it boots ready and
		// the assistant does not run, so its answers (which may hold a
		// one-time password) are not left on DATA.
		firstBoot = nil
		res.FirstBootSkipped = true
	}
	if !t.Block && (firstBoot != nil || len(settings) > 0) {
		// The image will hold a one-time password or the device's private
		// key: only its owner may read it, as with any other secret.
		if err := os.Chmod(t.Path, 0o600); err != nil {
			return nil, fmt.Errorf("restrict %s to its owner: %w", t.Path, err)
		}
	}
	if err := t.resetTable(); err != nil {
		return nil, err
	}
	sum, err := t.writeAll(ctx, opt.Payload, plan, settings, licenses, firstBoot, rep)
	if err != nil {
		return nil, err
	}
	res.SystemSHA256 = sum
	rep.phase(PhaseTable, 0)
	if err := t.writeTable(plan.Layout); err != nil {
		return nil, err
	}
	rep.phase(PhaseRestore, 0)
	if err := t.verifyData(settings, licenses); err != nil {
		return nil, err
	}
	res.MigratedSettings, res.MigratedLicenses = settings.Count(), licenses.Count()
	rep.phase(PhaseDone, 0)
	return res, nil
}

func kindOf(err error) exitcode.Kind {
	if errors.Is(err, context.Canceled) {
		return exitcode.Aborted
	}
	return exitcode.KindOf(err)
}

func restoreHint(cmd, backup string, inMemory bool) string {
	if backup == "" {
		return ". Nothing needed migrating; run the installation again"
	}
	if cmd == "" {
		cmd = "osc restore --backup %s"
	}
	hint := fmt.Sprintf(". Settings and licenses are safe in the backup %s; restore them with: %s", backup, fmt.Sprintf(cmd, backup))
	if inMemory {
		hint += ". The backup is kept in memory only: restore it or copy it to a USB stick before switching the device off"
	}
	return hint
}

func verifyFailed(format string, args ...any) error {
	return exitcode.New(exitcode.VerifyFailed, format, args...)
}
