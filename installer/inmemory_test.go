//go:build linux

package installer

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onramp-os/onramp/internal/testutil"
)

// TestBackupInMemoryIsSaid: a backup on a RAM file system (the live
// installer's fallback when its stick has no writable partition) is
// flagged in the result and in the restore hint, since it is lost at
// power-off; one on a disk is not.
func TestBackupInMemoryIsSaid(t *testing.T) {
	testutil.RequireRoot(t)
	ram := t.TempDir()
	testutil.Run(t, "mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", ram)
	t.Cleanup(func() { _ = exec.Command("umount", ram).Run() })
	if !InMemory(ram) || InMemory(".") {
		t.Fatalf("InMemory(tmpfs) = %v, InMemory(.) = %v", InMemory(ram), InMemory("."))
	}

	p := testPayload(t, 3<<20)
	img := sparseFile(t, 2<<30)
	res, err := install(t, img, p, Auto, Auto)
	if err != nil {
		t.Fatal(err)
	}
	if res.BackupInMemory {
		t.Error("a fresh install has no backup, yet it is flagged in memory")
	}
	writeDataFiles(t, img, res.Layout.Part(LabelData), map[string]string{"licenses/0001.lic": "LICENSE-1"})
	tg, err := CheckTarget(img, p.Origin)
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	opt := Options{Payload: p, MigrateSettings: Auto, MigrateLicenses: Auto, BackupDir: filepath.Join(ram, "backups")}
	plan, err := Prepare(tg, opt)
	if err != nil {
		t.Fatal(err)
	}
	res, err = Install(context.Background(), tg, plan, opt)
	if err != nil {
		t.Fatal(err)
	}
	if !res.BackupInMemory || !strings.HasPrefix(res.Backup, ram) {
		t.Errorf("backup %q on tmpfs: BackupInMemory = %v", res.Backup, res.BackupInMemory)
	}
	if h := restoreHint("", res.Backup, true); !strings.Contains(h, "in memory only") || !strings.Contains(h, res.Backup) {
		t.Errorf("restore hint %q does not say the backup is in memory", h)
	}
	if h := restoreHint("", "/var/backups/b.tar", false); strings.Contains(h, "memory") {
		t.Errorf("restore hint for a disk backup: %q", h)
	}
}
