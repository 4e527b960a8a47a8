//go:build linux

package installer

import (
	"context"
	"maps"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/onramp-os/onramp/images"
	"github.com/onramp-os/onramp/internal/exitcode"
	"github.com/onramp-os/onramp/internal/testutil"
)

func TestPlanLayout(t *testing.T) {
	l, err := PlanLayout(64<<30, 512, 2<<30)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{LabelESP, LabelBIOS, LabelSysA, LabelSysB, LabelData}
	for i, p := range l.Parts {
		if p.Label != want[i] || p.Start%mib != 0 || p.Size%mib != 0 {
			t.Errorf("part %d: %+v", i, p)
		}
		if i > 0 && p.Start != l.Parts[i-1].End() {
			t.Errorf("part %d does not follow part %d", i, i-1)
		}
	}
	if l.Parts[0].Start != mib || l.Part(LabelESP).Size != 256*mib || l.Part(LabelBIOS).Size != mib {
		t.Errorf("layout %+v", l)
	}
	if end := l.Parts[4].End(); end > 64<<30-33*512 || 64<<30-end > 2*mib {
		t.Errorf("DATA ends at %d", end)
	}
	if _, err := PlanLayout(1<<30, 512, 2<<30); exitcode.KindOf(err) != exitcode.Refused {
		t.Errorf("too small: %v", err)
	}
}

// checkInstalled runs the independent judges on an installed image file.
func checkInstalled(t *testing.T, img string, res *Result, p *images.Payload) {
	t.Helper()
	testutil.RequireTools(t, "sgdisk", "fsck.fat", "fsck.ext4")
	out := judge(t, "sgdisk", "-v", img)
	if !strings.Contains(out, "No problems found") {
		t.Errorf("sgdisk -v: %s", out)
	}
	table := judge(t, "sgdisk", "-p", img)
	for _, want := range []string{"ONRAMP-ESP", "ONRAMP-BIOS", "ONRAMP-SYS-A", "ONRAMP-SYS-B", "ONRAMP-DATA", " EF00 ", " EF02 ", " 8304 ", " 8300 ", "256.0 MiB", "1024.0 KiB", "64.0 MiB"} {
		if !strings.Contains(table, want) {
			t.Errorf("sgdisk -p lacks %q", want)
		}
	}
	esp, data := res.Layout.Part(LabelESP), res.Layout.Part(LabelData)
	judge(t, "fsck.fat", "-n", partLoop(t, img, esp))
	judge(t, "fsck.ext4", "-fn", partLoop(t, img, data))
	sys, _ := p.Manifest.File(images.SystemName)
	if got := sha256Range(t, img, res.Layout.Part(LabelSysA).Start, sys.Size); got != sys.SHA256 {
		t.Errorf("SYS-A hash %s, payload %s", got, sys.SHA256)
	}
}

func TestInstallFreshImageFile(t *testing.T) {
	testutil.RequireRoot(t)
	p := testPayload(t, 5<<20+123)
	img := sparseFile(t, 2<<30)
	res, err := install(t, img, p, Auto, Auto)
	if err != nil {
		t.Fatal(err)
	}
	if res.Backup != "" || res.Existing.Layout != 0 {
		t.Errorf("fresh disk: %+v", res)
	}
	checkInstalled(t, img, res, p)
	files := readDataFiles(t, img, res.Layout.Part(LabelData))
	if len(files) != 0 {
		t.Errorf("fresh DATA holds %v", files)
	}
	tg, _ := CheckTarget(img, p.Origin)
	defer tg.Close()
	ex, err := tg.ReadExisting()
	if err != nil || ex.Layout != 2 || ex.OSVersion != "12.1.0" || ex.Table != "gpt" {
		t.Errorf("existing %+v %v", ex, err)
	}
}

// TestReinstallMigratesSettingsAndLicenses reinstalls over a device whose
// settings the real setup assistant wrote and the installed system saved
// to DATA/settings: they come back with the same SHA-256, mode and owner,
// as do the licenses; the backup holds both.
func TestReinstallMigratesSettingsAndLicenses(t *testing.T) {
	testutil.RequireRoot(t)
	root := deviceRoot(t)
	p := testPayload(t, 3<<20)
	img := sparseFile(t, 2<<30)
	res, err := install(t, img, p, Auto, Auto)
	if err != nil {
		t.Fatal(err)
	}
	data := res.Layout.Part(LabelData)
	licenses := map[string]string{"licenses/0001.lic": "LICENSE-1", "licenses/0002.lic": "LICENSE-2"}
	saveSettings(t, img, data, root, licenses)
	want := settingsMeta(t, root)
	files := countFiles(want)

	res2, err := install(t, img, p, Auto, Auto)
	if err != nil {
		t.Fatal(err)
	}
	if res2.MigratedSettings != files || res2.MigratedLicenses != 2 || res2.Backup == "" {
		t.Errorf("result %+v, want %d settings", res2, files)
	}
	checkInstalled(t, img, res2, p)
	if got := dataSettings(t, img, data); !maps.Equal(got, want) {
		t.Errorf("settings after the reinstall:\n got %v\nwant %v", got, want)
	}
	after := readDataFiles(t, img, data)
	for name, content := range licenses {
		if after[name] != content {
			t.Errorf("%s after the reinstall: %q", name, after[name])
		}
	}
	b, err := ReadBackup(context.Background(), res2.Backup)
	if err != nil || b.Settings.Count() != files || b.Licenses.Count() != 2 {
		t.Errorf("backup %+v %v", b, err)
	}

	// --migrate-licenses no: gone from the target, kept in the backup.
	res3, err := install(t, img, p, Auto, No)
	if err != nil {
		t.Fatal(err)
	}
	after = readDataFiles(t, img, data)
	if _, ok := after["licenses/0001.lic"]; ok || after["settings/etc/locale.conf"] != "LANG=de_DE.UTF-8\n" {
		t.Errorf("after --migrate-licenses no: %v", after)
	}
	b3, err := ReadBackup(context.Background(), res3.Backup)
	if err != nil || string(b3.Licenses["0001.lic"].Data) != "LICENSE-1" {
		t.Errorf("backup lacks the licenses: %v", err)
	}
	if _, err := install(t, img, p, Auto, Yes); exitcode.KindOf(err) != exitcode.Usage {
		t.Errorf("--migrate-licenses yes with none found: %v", err)
	}

	// --migrate-settings no: the next first boot starts the assistant.
	if _, err := install(t, img, p, No, Auto); err != nil {
		t.Fatal(err)
	}
	if got := dataSettings(t, img, data); len(got) != 0 {
		t.Errorf("after --migrate-settings no DATA holds settings: %v", got)
	}
}

func TestLayout1LicensesMigrated(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.RequireTools(t, "sfdisk", "mkfs.fat", "mcopy")
	p := testPayload(t, 1<<20)
	img := sparseFile(t, 2<<30)
	// Layout 1: MBR, one FAT32 partition labelled ONRAMP11 with /licenses.
	cmd := testutil.Run
	sfd := "label: dos\nstart=2048, size=1048576, type=c\n"
	if out, err := runInput(sfd, "sfdisk", "-q", img); err != nil {
		t.Fatalf("sfdisk: %v %s", err, out)
	}
	cmd(t, "mkfs.fat", "-F", "32", "-n", "ONRAMP11", "--offset", "2048", img, "524288")
	lic := t.TempDir() + "/a.lic"
	os.WriteFile(lic, []byte("OLD-LICENSE"), 0o644)
	cmd(t, "mmd", "-i", img+"@@1048576", "::/licenses")
	cmd(t, "mcopy", "-i", img+"@@1048576", lic, "::/licenses/a.lic")

	tg, err := CheckTarget(img, p.Origin)
	if err != nil {
		t.Fatal(err)
	}
	ex, err := tg.ReadExisting()
	tg.Close()
	if err != nil || ex.Layout != 1 || len(ex.Licenses) != 1 {
		t.Fatalf("existing %+v %v", ex, err)
	}
	res, err := install(t, img, p, Auto, Auto)
	if err != nil {
		t.Fatal(err)
	}
	if res.MigratedLicenses != 1 || res.MigratedSettings != 0 {
		t.Errorf("result %+v", res)
	}
	if got := readDataFiles(t, img, res.Layout.Part(LabelData)); got["licenses/a.lic"] != "OLD-LICENSE" {
		t.Errorf("DATA %v", got)
	}
}

func TestRefusedBeforeAnyWrite(t *testing.T) {
	testutil.RequireRoot(t)
	p := testPayload(t, 1<<20)
	img := sparseFile(t, 900<<20)
	os.WriteFile(img, []byte("precious"), 0o644)
	os.Truncate(img, 900<<20)
	before := sha256Range(t, img, 0, 900<<20)
	if _, err := install(t, img, p, Auto, Auto); exitcode.KindOf(err) != exitcode.Refused {
		t.Errorf("too small: %v", err)
	}
	if sha256Range(t, img, 0, 900<<20) != before {
		t.Error("refused target changed")
	}
}

func TestSparse64GiBNotFilled(t *testing.T) {
	testutil.RequireRoot(t)
	p := testPayload(t, 8<<20)
	for _, size := range []int64{8 << 30, 64 << 30} {
		img := sparseFile(t, size)
		start := time.Now()
		if _, err := install(t, img, p, Auto, Auto); err != nil {
			t.Fatal(err)
		}
		elapsed := time.Since(start)
		st := allocated(t, img)
		t.Logf("%d GiB target: installed in %v, %d MiB allocated", size>>30, elapsed, st>>20)
		if st > 200<<20 {
			t.Errorf("%d GiB target: %d MiB allocated; the target was filled", size>>30, st>>20)
		}
	}
}
