//go:build linux

package installer

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/onramp-os/onramp/internal/atomicfile"
	"github.com/onramp-os/onramp/internal/testutil"
	"github.com/onramp-os/onramp/settings"
)

// deviceRoot is a root the real setup assistant configured: German,
// hidden WLAN with a key (wpa_supplicant file 0600), time zone, EULA,
// onboarded with a one-time password (device key 0600, certificate, chain,
// server.json), setup.done.
func deviceRoot(t *testing.T) string {
	t.Helper()
	return testutil.SetupRoot(t, "answers-otp-hidden-wlan.yaml")
}

// saveSettings mounts DATA with the kernel and saves root's settings into
// it the way the installed system does (settings.Save), then writes the
// extra files (DATA-relative paths: licenses, apps).
func saveSettings(t *testing.T, img string, data Part, root string, extra map[string]string) {
	t.Helper()
	dir := testutil.Mount(t, partLoop(t, img, data))
	if root != "" {
		if _, err := settings.Save(root, dir); err != nil {
			t.Fatal(err)
		}
	}
	for name, content := range extra {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	testutil.Run(t, "umount", dir)
}

// settingsMeta describes each member of the settings set below dir: type and
// mode, owner, SHA-256 of the content or the link target.
func settingsMeta(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if !settings.Member(filepath.ToSlash(rel), d.IsDir()) {
			return nil
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		st := fi.Sys().(*syscall.Stat_t)
		s := fmt.Sprintf("%v %d:%d", fi.Mode(), st.Uid, st.Gid)
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			l, _ := os.Readlink(p)
			s += " -> " + l
		case fi.Mode().IsRegular():
			b, _ := os.ReadFile(p)
			sum := sha256.Sum256(b)
			s += " " + hex.EncodeToString(sum[:])
		}
		out[rel] = s
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// dataSettings mounts DATA and describes its settings.
func dataSettings(t *testing.T, img string, data Part) map[string]string {
	t.Helper()
	dir := testutil.Mount(t, partLoop(t, img, data))
	defer exec.Command("umount", dir).Run()
	return settingsMeta(t, filepath.Join(dir, settings.Dir))
}

func countFiles(meta map[string]string) int {
	n := 0
	for _, v := range meta {
		if !strings.HasPrefix(v, "d") {
			n++
		}
	}
	return n
}

// TestOldLayout2UpperMigrates builds a disk the way the installer and the
// setup assistant before DATA/settings left it: a real installation whose
// running system kept every change in the root overlay's upper directory
// (DATA/system/upper), holding what a real first boot wrote there, plus
// what else a running system writes (journal, machine-id) and an overlay
// whiteout (a deleted /etc/hostname). A reinstall with migration carries
// exactly the settings (SHA-256, mode and owner), nothing else, and the
// new DATA keeps them in DATA/settings.
func TestOldLayout2UpperMigrates(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.RequireTools(t, "mknod", "cp")
	root := deviceRoot(t)
	p := testPayload(t, 1<<20)
	img := sparseFile(t, 2<<30)
	res, err := install(t, img, p, Auto, Auto)
	if err != nil {
		t.Fatal(err)
	}
	data := res.Layout.Part(LabelData)
	dir := testutil.Mount(t, partLoop(t, img, data))
	upper := filepath.Join(dir, upperDir)
	os.MkdirAll(upper, 0o755)
	os.MkdirAll(filepath.Join(dir, "system/work"), 0o755)
	testutil.Run(t, "cp", "-a", root+"/.", upper)
	for name, content := range map[string]string{"etc/machine-id": "0123456789abcdef0123456789abcdef\n",
		"var/log/journal/x/system.journal": "journal", "etc/wpa_supplicant/action_wpa.sh": "#!/bin/sh\n"} {
		os.MkdirAll(filepath.Join(upper, filepath.Dir(name)), 0o755)
		os.WriteFile(filepath.Join(upper, name), []byte(content), 0o644)
	}
	os.Remove(filepath.Join(upper, "etc/hostname"))
	testutil.Run(t, "mknod", filepath.Join(upper, "etc/hostname"), "c", "0", "0")
	testutil.Run(t, "umount", dir)
	want := settingsMeta(t, root)
	delete(want, "etc/hostname")

	in, err := Inspect(img)
	if err != nil {
		t.Fatal(err)
	}
	if in.Settings != countFiles(want) || len(in.SettingsFiles) != len(want) {
		t.Errorf("inspect lists %d settings (%d entries), want %d (%d)", in.Settings, len(in.SettingsFiles), countFiles(want), len(want))
	}
	res2, err := install(t, img, p, Auto, Auto)
	if err != nil {
		t.Fatal(err)
	}
	if res2.MigratedSettings != countFiles(want) {
		t.Errorf("migrated %d settings, want %d", res2.MigratedSettings, countFiles(want))
	}
	if got := dataSettings(t, img, data); !maps.Equal(got, want) {
		t.Errorf("DATA/settings after the reinstall:\n got %v\nwant %v", got, want)
	}
	dir = testutil.Mount(t, partLoop(t, img, data))
	defer exec.Command("umount", dir).Run()
	var carried []string
	filepath.WalkDir(filepath.Join(dir, settings.Dir), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(filepath.Join(dir, settings.Dir), p)
			if _, ok := want[rel]; !ok {
				carried = append(carried, rel)
			}
		}
		return nil
	})
	if len(carried) > 0 {
		t.Errorf("carried what is not a setting: %v", carried)
	}
	if _, err := os.Stat(filepath.Join(dir, "system")); err == nil {
		t.Error("the old overlay upper directory survived the reinstall")
	}
}

// TestSettingsWinOverTheUpper: where DATA/settings holds an entry of the
// set, that entry comes from there whole, never mixed with an older copy in
// the overlay upper directory; entries only the upper holds come from it.
func TestSettingsWinOverTheUpper(t *testing.T) {
	testutil.RequireRoot(t)
	root := deviceRoot(t)
	p := testPayload(t, 1<<20)
	img := sparseFile(t, 2<<30)
	res, err := install(t, img, p, Auto, Auto)
	if err != nil {
		t.Fatal(err)
	}
	data := res.Layout.Part(LabelData)
	saveSettings(t, img, data, root, nil)
	dir := testutil.Mount(t, partLoop(t, img, data))
	upper := filepath.Join(dir, upperDir)
	for name, content := range map[string]string{"etc/onramp/ums/device.key": "OLD KEY", "etc/onramp/ums/old.crt": "OLD",
		"etc/locale.conf": "LANG=fr_FR.UTF-8\n"} {
		os.MkdirAll(filepath.Join(upper, filepath.Dir(name)), 0o755)
		os.WriteFile(filepath.Join(upper, name), []byte(content), 0o600)
	}
	os.Remove(filepath.Join(dir, settings.Dir, "etc/locale.conf"))
	testutil.Run(t, "umount", dir)

	tg, err := CheckTarget(img, p.Origin)
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	ex, err := tg.ReadExisting()
	if err != nil || ex.Problem != "" {
		t.Fatalf("%+v %v", ex, err)
	}
	key, _ := os.ReadFile(filepath.Join(root, "etc/onramp/ums/device.key"))
	if string(ex.Settings["etc/onramp/ums/device.key"].Data) != string(key) {
		t.Error("the device key did not come from DATA/settings")
	}
	if _, ok := ex.Settings["etc/onramp/ums/old.crt"]; ok {
		t.Error("an entry mixes DATA/settings and the upper directory")
	}
	if string(ex.Settings["etc/locale.conf"].Data) != "LANG=fr_FR.UTF-8\n" {
		t.Errorf("locale.conf, only in the upper directory: %q", ex.Settings["etc/locale.conf"].Data)
	}
}

// TestFirstBootAnswersSkippedForASetUpDevice: reinstalling a device whose
// settings (what a real setup assistant run wrote, saved into DATA as the
// system does) say the setup is done, with first-boot answers holding a
// one-time password: the settings are migrated and the answers are not
// written, since the device boots ready and nothing would remove them.
// Without migration the answers are written as before.
func TestFirstBootAnswersSkippedForASetUpDevice(t *testing.T) {
	testutil.RequireRoot(t)
	root := deviceRoot(t)
	p := testPayload(t, 1<<20)
	img := sparseFile(t, 2<<30)
	res, err := install(t, img, p, Auto, Auto)
	if err != nil {
		t.Fatal(err)
	}
	data := res.Layout.Part(LabelData)
	saveSettings(t, img, data, root, nil)
	answers := []byte("language: de_DE\neula: accept\ntimezone: UTC\nonboarding: {server: ums.example.com, otp: ONE-TIME-9, token: 0439081D3038DE77}\n")
	reinstall := func(mode Mode) *Result {
		t.Helper()
		res, err := installWith(t, img, Options{Payload: p, MigrateSettings: mode, MigrateLicenses: mode, FirstBoot: answers})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	answersOnData := func() bool {
		dir := testutil.Mount(t, partLoop(t, img, data))
		defer exec.Command("umount", dir).Run()
		_, err := os.Stat(filepath.Join(dir, FirstBootAnswersPath))
		return err == nil
	}
	res = reinstall(Auto)
	if !res.FirstBootSkipped || res.MigratedSettings == 0 || answersOnData() {
		t.Errorf("with migration: skipped %v, %d settings, answers on DATA %v; want skipped, settings, no answers",
			res.FirstBootSkipped, res.MigratedSettings, answersOnData())
	}
	res = reinstall(No)
	if res.FirstBootSkipped || res.MigratedSettings != 0 || !answersOnData() {
		t.Errorf("without migration: skipped %v, %d settings, answers on DATA %v; want the answers written",
			res.FirstBootSkipped, res.MigratedSettings, answersOnData())
	}
}

// TestUncleanDATAIsReplayedBeforeMigrating: a device switched off without
// shutting down, right after its agent stored a license (atomicfile: the
// file and its directory fsynced, so the change is in ext4's journal, not
// yet in place). debugfs, which reads DATA, does not replay journals, so
// the license was invisible and a reinstall dropped it. Inspect, which
// writes nothing, says DATA is unclean; an install replays the journal
// and migrates the license.
func TestUncleanDATAIsReplayedBeforeMigrating(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.RequireTools(t, "e2fsck", "dumpe2fs", "cp")
	p := testPayload(t, 1<<20)
	img := sparseFile(t, 2<<30)
	res, err := install(t, img, p, Auto, Auto)
	if err != nil {
		t.Fatal(err)
	}
	data := res.Layout.Part(LabelData)
	dir := testutil.Mount(t, partLoop(t, img, data))
	lic := []byte("license written just before the power cut\n")
	if err := atomicfile.WriteFileIn(dir, "licenses/ums-cut.lic", lic, 0o644); err != nil {
		t.Fatal(err)
	}
	// The disk as the power cut leaves it: copied while still mounted.
	cut := filepath.Join(t.TempDir(), "cut.img")
	testutil.Run(t, "cp", "--sparse=always", img, cut)
	testutil.Run(t, "umount", dir)

	in, err := Inspect(cut)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("inspect without replay sees %d licenses", in.Licenses)
	if !in.Existing.Unclean {
		t.Fatalf("Inspect of a cut-off DATA does not say it is unclean: %+v", in.Existing)
	}
	res, err = install(t, cut, p, Auto, Auto)
	if err != nil {
		t.Fatal(err)
	}
	if res.Existing.Unclean || string(res.Existing.Licenses["ums-cut.lic"].Data) != string(lic) {
		t.Errorf("the license in the journal was not migrated: %d licenses %v", res.Existing.Licenses.Count(), res.Existing.Licenses.Names())
	}
	judge(t, "e2fsck", "-fn", partLoop(t, cut, res.Layout.Part(LabelData)))
}
