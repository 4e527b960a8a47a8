//go:build linux

package installer

import (
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/onramp-os/onramp/internal/testutil"
	"github.com/onramp-os/onramp/settings"
)

// metaTree creates, in a mounted DATA, settings (within the set: below
// /etc/onramp, and /etc/localtime) and licenses with what a migration must
// keep: nested and empty directories with their modes, relative and
// absolute symbolic links, an empty file, unusual modes (setgid,
// read-only), owners other than root and old modification times.
func metaTree(t *testing.T, root string) {
	t.Helper()
	old := time.Date(2021, 3, 4, 5, 6, 7, 0, time.UTC)
	mk := func(name string, mode fs.FileMode, data string) {
		p := filepath.Join(root, name)
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		os.Chmod(p, mode)
	}
	dir := func(name string, mode fs.FileMode) {
		p := filepath.Join(root, name)
		if err := os.Mkdir(p, 0o700); err != nil {
			t.Fatal(err)
		}
		os.Chmod(p, mode)
	}
	if err := os.MkdirAll(filepath.Join(root, "settings/etc/onramp"), 0o755); err != nil {
		t.Fatal(err)
	}
	dir("settings/etc/onramp/app", 0o750)
	dir("settings/etc/onramp/app/profiles", 0o700)
	dir("settings/etc/onramp/empty", 0o755|fs.ModeSetgid)
	dir("licenses/vendor", 0o711)
	mk("settings/etc/onramp/app/main.ini", 0o640, "[main]\nx=1\n")
	mk("settings/etc/onramp/app/profiles/p1.json", 0o600, `{"p":1}`)
	mk("settings/etc/onramp/empty-file", 0o644, "")
	mk("licenses/vendor/a.lic", 0o444, "LIC-A")
	mk("licenses/b.lic", 0o600, "LIC-B")
	for name, target := range map[string]string{"settings/etc/onramp/current": "app/profiles/p1.json",
		"settings/etc/localtime": "/usr/share/zoneinfo/UTC"} {
		if err := os.Symlink(target, filepath.Join(root, name)); err != nil {
			t.Fatal(err)
		}
	}
	// Owners other than root: a group that may read the app's settings,
	// a link owned by a user.
	for name, id := range map[string][2]int{"settings/etc/onramp/app": {0, 1001}, "settings/etc/onramp/app/main.ini": {1000, 1001},
		"settings/etc/onramp/current": {1000, 1000}} {
		if err := os.Lchown(filepath.Join(root, name), id[0], id[1]); err != nil {
			t.Fatal(err)
		}
	}
	os.Chmod(filepath.Join(root, "settings/etc/onramp/app/main.ini"), 0o640)
	for i, name := range []string{"settings/etc/onramp/app/main.ini", "settings/etc/onramp/app/profiles/p1.json", "settings/etc/onramp/empty-file",
		"licenses/vendor/a.lic", "licenses/b.lic", "settings/etc/onramp/app/profiles", "settings/etc/onramp/app",
		"settings/etc/onramp/empty", "licenses/vendor", "settings/etc/onramp"} {
		tm := old.Add(time.Duration(i) * time.Hour)
		if err := os.Chtimes(filepath.Join(root, name), tm, tm); err != nil {
			t.Fatal(err)
		}
	}
}

// snapshot describes every entry under root's licenses and every member
// of the settings set under its settings: type, mode, owner, modification
// time (not for links), content or link target. (The directories that lead
// to the settings, settings/etc, are not settings.)
func snapshot(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, top := range []string{"settings", "licenses"} {
		err := filepath.WalkDir(filepath.Join(root, top), func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			fi, err := d.Info()
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, p)
			if sub, ok := strings.CutPrefix(rel, "settings/"); ok && !settings.Member(sub, d.IsDir()) {
				return nil
			}
			st := fi.Sys().(*syscall.Stat_t)
			s := fmt.Sprintf("%v %d:%d", fi.Mode(), st.Uid, st.Gid)
			switch {
			case fi.Mode()&fs.ModeSymlink != 0:
				target, _ := os.Readlink(p)
				s += " -> " + target
			case fi.Mode().IsRegular():
				b, _ := os.ReadFile(p)
				s += fmt.Sprintf(" %d %q", fi.ModTime().Unix(), b)
			case rel != top:
				s += fmt.Sprintf(" %d", fi.ModTime().Unix())
			}
			out[rel] = s
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// dataSnapshot mounts DATA read-only with the kernel and snapshots it.
func dataSnapshot(t *testing.T, img string, data Part) map[string]string {
	t.Helper()
	dir := testutil.Mount(t, partLoop(t, img, data))
	defer exec.Command("umount", dir).Run()
	return snapshot(t, dir)
}

// TestMigrationKeepsMetadata: a reinstall, the backup archive and a
// restore all keep directories (also empty ones), links, empty files,
// modes, owners and times exactly.
func TestMigrationKeepsMetadata(t *testing.T) {
	testutil.RequireRoot(t)
	p := testPayload(t, 1<<20)
	img := sparseFile(t, 2<<30)
	res, err := install(t, img, p, Auto, Auto)
	if err != nil {
		t.Fatal(err)
	}
	data := res.Layout.Part(LabelData)
	dir := testutil.Mount(t, partLoop(t, img, data))
	metaTree(t, dir)
	want := snapshot(t, dir)
	testutil.Run(t, "umount", dir)
	if len(want) != 14 {
		t.Fatalf("tree: %v", want)
	}

	res2, err := install(t, img, p, Auto, Auto)
	if err != nil {
		t.Fatal(err)
	}
	if res2.MigratedSettings != 5 || res2.MigratedLicenses != 2 {
		t.Errorf("migrated %d settings and %d licenses, want 5 and 2 (directories not counted)", res2.MigratedSettings, res2.MigratedLicenses)
	}
	if got := dataSnapshot(t, img, data); !maps.Equal(got, want) {
		t.Errorf("after the reinstall:\n got %v\nwant %v", got, want)
	}
	judge(t, "fsck.ext4", "-fn", partLoop(t, img, data))

	// The archive holds the same: extracted by tar, it snapshots alike.
	out := t.TempDir()
	testutil.Run(t, "tar", "-xpf", res2.Backup, "-C", out)
	if got := snapshot(t, out); !maps.Equal(got, want) {
		t.Errorf("extracted backup:\n got %v\nwant %v", got, want)
	}
	testutil.Run(t, "sh", "-c", "cd "+out+" && sha256sum --quiet -c SHA256SUMS")

	// Changed after the install, then restored from the backup.
	dir = testutil.Mount(t, partLoop(t, img, data))
	os.RemoveAll(filepath.Join(dir, "settings/etc/onramp/empty"))
	os.Remove(filepath.Join(dir, "settings/etc/onramp/current"))
	os.Chmod(filepath.Join(dir, "settings/etc/onramp/app"), 0o777)
	os.Lchown(filepath.Join(dir, "settings/etc/onramp/app/main.ini"), 0, 0)
	os.WriteFile(filepath.Join(dir, "settings/etc/onramp/new"), []byte("new"), 0o600)
	testutil.Run(t, "umount", dir)
	restoreBackup(t, img, p, res2.Backup)
	if got := dataSnapshot(t, img, data); !maps.Equal(got, want) {
		t.Errorf("after restore:\n got %v\nwant %v", got, want)
	}
}
