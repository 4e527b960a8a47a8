//go:build linux

package installer

import (
	"context"
	"errors"
	"maps"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onramp-os/onramp/internal/exitcode"
	"github.com/onramp-os/onramp/internal/testutil"
)

// TestFailureLeavesBackupAndRestores injects an I/O error at each phase of a
// reinstall over settings and licenses: the disk must not keep a partition
// table (nothing boots), the error must name the backup and the restore
// command, and Restore must bring back identical files.
func TestFailureLeavesBackupAndRestores(t *testing.T) {
	testutil.RequireRoot(t)
	p := testPayload(t, 6<<20)
	root := deviceRoot(t)
	injected := errors.New("injected I/O error")
	phases := map[string]func(){
		"system write": func() {
			testHookWrite = func(off int64, n int) error {
				if int64(n) > mib { // a chunk of SYS-A (zeroing writes 1 MiB)
					return injected
				}
				return nil
			}
		},
		"esp":         func() { testHookPhase = failAt("esp", injected) },
		"data":        func() { testHookPhase = failAt("data", injected) },
		"verify":      func() { testHookPhase = failAt("verify", injected) },
		"table write": func() { testHookWrite = func(off int64, n int) error { return failIf(off == 0 && n == 512, injected) } },
	}
	for name, arm := range phases {
		t.Run(name, func(t *testing.T) {
			img := sparseFile(t, 2<<30)
			res, err := install(t, img, p, Auto, Auto)
			if err != nil {
				t.Fatal(err)
			}
			data := res.Layout.Part(LabelData)
			saveSettings(t, img, data, root, map[string]string{"licenses/x.lic": "LIC-X"})
			want, wantMeta := readDataFiles(t, img, data), dataSettings(t, img, data)

			arm()
			tg, err := CheckTarget(img, p.Origin)
			if err != nil {
				t.Fatal(err)
			}
			backupDir := t.TempDir()
			opt := Options{Payload: p, MigrateSettings: Auto, MigrateLicenses: Auto, BackupDir: backupDir}
			plan, err := Prepare(tg, opt)
			if err != nil {
				t.Fatal(err)
			}
			_, err = Install(context.Background(), tg, plan, opt)
			testHookWrite, testHookPhase = nil, nil
			tg.Close()
			if err == nil || !errors.Is(err, injected) {
				t.Fatalf("install with injected failure: %v", err)
			}
			if !strings.Contains(err.Error(), "osc restore --backup "+backupDir) {
				t.Errorf("error does not name the backup and restore command: %v", err)
			}
			t.Log(err)
			in, ierr := Inspect(img)
			if ierr != nil || in.Existing.Table != "none" {
				t.Errorf("after failure the disk still has a partition table: %+v %v", in, ierr)
			}
			backups, _ := filepath.Glob(filepath.Join(backupDir, "*.tar"))
			if len(backups) != 1 {
				t.Fatalf("backups: %v", backups)
			}
			b, err := ReadBackup(context.Background(), backups[0])
			if err != nil {
				t.Fatal(err)
			}
			tg, err = CheckTarget(img, p.Origin)
			if err != nil {
				t.Fatal(err)
			}
			defer tg.Close()
			if _, err := Restore(context.Background(), tg, b, Options{}); err == nil {
				t.Error("restore onto an empty disk without a payload succeeded")
			}
			rres, err := Restore(context.Background(), tg, b, Options{Payload: p})
			if err != nil {
				t.Fatal(err)
			}
			tg.Close()
			if got := readDataFiles(t, img, rres.Layout.Part(LabelData)); !maps.Equal(got, want) {
				t.Errorf("restored %v, want %v", got, want)
			}
			if got := dataSettings(t, img, rres.Layout.Part(LabelData)); !maps.Equal(got, wantMeta) {
				t.Errorf("restored settings %v, want %v", got, wantMeta)
			}
		})
	}
}

// TestRestoreOntoInstalled restores a backup into an installed system's DATA,
// keeping its apps.
func TestRestoreOntoInstalled(t *testing.T) {
	testutil.RequireRoot(t)
	p := testPayload(t, 1<<20)
	img := sparseFile(t, 2<<30)
	res, err := install(t, img, p, Auto, Auto)
	if err != nil {
		t.Fatal(err)
	}
	data := res.Layout.Part(LabelData)
	saveSettings(t, img, data, deviceRoot(t), map[string]string{"licenses/l.lic": "L", "apps/app.bin": "APP"})
	res2, err := install(t, img, p, Auto, Auto) // makes a backup of the settings and l.lic
	if err != nil {
		t.Fatal(err)
	}
	writeDataFiles(t, img, data, map[string]string{"apps/app.bin": "APP"})
	want := readDataFiles(t, img, data)
	writeDataFiles(t, img, data, map[string]string{"settings/etc/locale.conf": "LANG=fr_FR.UTF-8\n"})
	restoreBackup(t, img, p, res2.Backup)
	if got := readDataFiles(t, img, data); !maps.Equal(got, want) || got["settings/etc/locale.conf"] != "LANG=de_DE.UTF-8\n" {
		t.Errorf("after restore %v, want %v", got, want)
	}
}

func failAt(phase string, err error) func(string) error {
	return func(p string) error { return failIf(p == phase, err) }
}

func failIf(cond bool, err error) error {
	if cond {
		return err
	}
	return nil
}

// TestCancelledInstallResetsTable: a cancel (the TUI's "Stop") half-way
// through SYS-A takes the failure path: Aborted, no partition table, and
// the error names the backup and the restore command. A cancel before the
// first write changes nothing.
func TestCancelledInstallResetsTable(t *testing.T) {
	testutil.RequireRoot(t)
	p := testPayload(t, 20<<20)
	img := sparseFile(t, 2<<30)
	res, err := install(t, img, p, Auto, Auto)
	if err != nil {
		t.Fatal(err)
	}
	writeDataFiles(t, img, res.Layout.Part(LabelData), map[string]string{"licenses/x.lic": "LIC-X"})

	run := func(cancelAt func(cancel context.CancelFunc)) error {
		t.Helper()
		tg, err := CheckTarget(img, p.Origin)
		if err != nil {
			t.Fatal(err)
		}
		defer tg.Close()
		backupDir := t.TempDir()
		opt := Options{Payload: p, MigrateSettings: Auto, MigrateLicenses: Auto, BackupDir: backupDir,
			RestoreCommand: "osc restore --backup %s --target " + img}
		plan, err := Prepare(tg, opt)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		cancelAt(cancel)
		_, err = Install(ctx, tg, plan, opt)
		testHookWrite = nil
		return err
	}
	err = run(func(cancel context.CancelFunc) { cancel() })
	if exitcode.KindOf(err) != exitcode.Aborted || !strings.Contains(err.Error(), "stopped before anything was written") {
		t.Errorf("cancelled before the first write: %v", err)
	}
	if in, err := Inspect(img); err != nil || in.Licenses != 1 {
		t.Fatalf("a cancel before the first write changed the disk: %+v %v", in, err)
	}
	err = run(func(cancel context.CancelFunc) {
		testHookWrite = func(off int64, n int) error {
			if int64(n) > mib {
				cancel()
			}
			return nil
		}
	})
	if exitcode.KindOf(err) != exitcode.Aborted || !strings.Contains(err.Error(), "osc restore --backup ") {
		t.Errorf("cancelled mid-write: %v (kind %v)", err, exitcode.KindOf(err))
	}
	if in, ierr := Inspect(img); ierr != nil || in.Existing.Table != "none" {
		t.Errorf("after a cancel the disk still has a partition table: %+v %v", in, ierr)
	}
}
