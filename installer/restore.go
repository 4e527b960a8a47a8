package installer

import (
	"context"

	"github.com/onramp-os/onramp/internal/exitcode"
)

// Restore puts the settings and licenses of backup b back onto t. On a
// layout 2 installation DATA is rebuilt with the backup's settings and
// licenses and the apps it holds now. On a disk without an installation
// (an install failed after the old table was reset) opt.Payload is
// installed with the backup as the migration source; without a payload
// that is Refused with the reason.
func Restore(ctx context.Context, t *Target, b *Backup, opt Options) (*Result, error) {
	if err := t.open(); err != nil {
		return nil, err
	}
	ex, err := t.ReadExisting()
	if err != nil {
		return nil, err
	}
	if ex.Layout == LayoutVersion && ex.data != nil && ex.Problem == "" {
		return t.restoreData(ctx, ex, b)
	}
	if opt.Payload == nil {
		return nil, exitcode.New(exitcode.Refused, "%s holds no installation to restore into; give --source with the installer payload to install and restore in one go", t.Path)
	}
	opt.FromBackup = b
	opt.MigrateSettings, opt.MigrateLicenses = Auto, Auto
	plan, err := Prepare(t, opt)
	if err != nil {
		return nil, err
	}
	return Install(ctx, t, plan, opt)
}

func (t *Target) restoreData(ctx context.Context, ex *Existing, b *Backup) (*Result, error) {
	apps, err := dumpData(t.Path, ex.data.Start, "apps")
	if err != nil {
		return nil, err
	}
	if err := t.release(); err != nil {
		return nil, err
	}
	if err := makeData(ctx, t.Path, *ex.data, b.Settings, b.Licenses, apps["apps"], nil); err != nil {
		return nil, err
	}
	if err := t.open(); err != nil {
		return nil, err
	}
	if err := t.sync(); err != nil {
		return nil, err
	}
	if err := t.verifyData(b.Settings, b.Licenses); err != nil {
		return nil, err
	}
	return &Result{Target: t.Path, Existing: ex, Backup: b.Path,
		MigratedSettings: b.Settings.Count(), MigratedLicenses: b.Licenses.Count()}, nil
}
