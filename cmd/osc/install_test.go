//go:build linux

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/onramp-os/onramp/internal/testutil"
)

// signedPayload makes a payload directory with osc image keygen and sign
// and returns it with the public key file.
func signedPayload(t *testing.T) (dir, pub string) {
	t.Helper()
	return signedPayloadSize(t, 3<<20)
}

// signedPayloadSize is signedPayload with a system.squashfs of sysSize bytes.
func signedPayloadSize(t *testing.T, sysSize int) (dir, pub string) {
	t.Helper()
	root := t.TempDir()
	dir = filepath.Join(root, "onramp")
	sys, _ := sampleImage(t, root, sysSize)
	files := map[string]string{"vmlinuz": "kernel", "initrd.img": "initrd", "efi/EFI/BOOT/BOOTX64.EFI": "loader",
		"eula/en.txt": "Be nice.", "eula/de.txt": "Sei nett."}
	for name, content := range files {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(content), 0o644)
	}
	if err := os.Rename(sys, filepath.Join(dir, "system.squashfs")); err != nil {
		t.Fatal(err)
	}
	key := filepath.Join(root, "release")
	for _, args := range [][]string{
		{"image", "keygen", key},
		{"image", "sign", "--key", key + ".key", "--os-name", "Onramp OS", "--version", "12.2.0",
			"--min-target-size", "1000000000", "--slot-size", "67108864", dir},
	} {
		if r := run(t, context.Background(), "", args...); r.code != 0 {
			t.Fatalf("osc %v: exit %d: %s", args, r.code, r.stderr)
		}
	}
	if fi, err := os.Stat(key + ".key"); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("private key mode: %v %v", fi.Mode(), err)
	}
	return dir, key + ".pub"
}

func TestImageInspect(t *testing.T) {
	dir, pub := signedPayload(t)
	if r := run(t, context.Background(), "", "image", "inspect", "--trust-key", pub, dir); r.code != 0 || !strings.Contains(r.stdout, "signature by key") {
		t.Errorf("inspect: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := run(t, context.Background(), "", "image", "inspect", dir); r.code != 5 || !strings.Contains(r.stdout, "bad signature") {
		t.Errorf("inspect without the key: exit %d\n%s", r.code, r.stdout)
	}
	r := run(t, context.Background(), "", "image", "inspect", "--trust-key", pub, "--eula", "de", dir)
	if r.code != 0 || !strings.Contains(r.stdout, "Sei nett.") {
		t.Errorf("EULA: exit %d %s", r.code, r.stdout)
	}
}

func TestInstallJSONAndInspect(t *testing.T) {
	testutil.RequireRoot(t)
	dir, pub := signedPayload(t)
	img := filepath.Join(t.TempDir(), "disk.img")
	os.WriteFile(img, nil, 0o644)
	os.Truncate(img, 64<<30)
	start := time.Now()
	r := run(t, context.Background(), "", "install", "--yes", "--accept-eula", "--json", "--trust-key", pub,
		"--source", dir, "--target", img, "--backup-dir", t.TempDir())
	t.Logf("install onto a 64 GiB sparse file: %v", time.Since(start))
	if r.code != 0 {
		t.Fatalf("install: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	var last map[string]any
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil || last["event"] != "done" {
		t.Fatalf("last JSON line %q: %v", lines[len(lines)-1], err)
	}
	phases := map[string]bool{}
	for _, l := range lines {
		var e map[string]any
		if json.Unmarshal([]byte(l), &e) == nil && e["event"] == "progress" {
			phases[e["phase"].(string)] = true
		}
	}
	for _, ph := range []string{"write", "verify", "table", "done"} {
		if !phases[ph] {
			t.Errorf("no progress event for phase %s", ph)
		}
	}
	ins := run(t, context.Background(), "", "inspect", img)
	if ins.code != 0 || !strings.Contains(ins.stdout, "layout version 2, Onramp OS 12.2.0") || !strings.Contains(ins.stdout, "Partition table: gpt") {
		t.Errorf("inspect: exit %d\n%s%s", ins.code, ins.stdout, ins.stderr)
	}
}

// TestInstallRefusedBeforeWrite: bad payloads exit 5, unsafe targets exit 3,
// a missing EULA acceptance exits 2, and the target is left as it was.
func TestInstallRefusedBeforeWrite(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.RequireTools(t, "mkfs.ext4", "mount")
	dir, pub := signedPayload(t)
	img := filepath.Join(t.TempDir(), "disk.img")
	os.WriteFile(img, bytes.Repeat([]byte("old system "), 100000), 0o644)
	os.Truncate(img, 2<<30)
	before := headTail(t, img)
	copyPayload := func(edit func(d string)) string {
		d := filepath.Join(t.TempDir(), "onramp")
		testutil.Run(t, "cp", "-a", dir, d)
		edit(d)
		return d
	}
	install := func(code int, want, source, target string, extra ...string) {
		t.Helper()
		args := append([]string{"install", "--yes", "--accept-eula", "--trust-key", pub, "--source", source, "--target", target, "--backup-dir", t.TempDir()}, extra...)
		r := run(t, context.Background(), "", args...)
		if r.code != code || !strings.Contains(r.stderr, want) {
			t.Errorf("%s: exit %d, stderr %q; want %d and %q", want, r.code, r.stderr, code, want)
		}
		if headTail(t, img) != before {
			t.Fatalf("%s: the target changed", want)
		}
	}
	install(5, "SHA-256 of vmlinuz", copyPayload(func(d string) { os.WriteFile(d+"/vmlinuz", []byte("kernal"), 0o644) }), img)
	install(5, "truncated", copyPayload(func(d string) { os.Truncate(d+"/system.squashfs", 1<<20) }), img)
	install(5, "bad signature", copyPayload(func(d string) {
		b, _ := os.ReadFile(d + "/manifest.json")
		os.WriteFile(d+"/manifest.json", bytes.Replace(b, []byte("12.2.0"), []byte("12.9.0"), 1), 0o644)
	}), img)
	install(5, "bad signature", copyPayload(func(d string) {
		b, _ := os.ReadFile(d + "/manifest.json")
		os.WriteFile(d+"/manifest.json", bytes.Replace(b, []byte("12.2.0"), []byte("12.9.0"), 1), 0o644)
	}), img, "--insecure-skip-signature")
	unsigned := copyPayload(func(d string) { os.Remove(d + "/manifest.sig") })
	install(5, "not signed", unsigned, img)
	install(2, "--accept-eula", dir, img, "--accept-eula=false")
	install(2, "not auto, yes or no", dir, img, "--migrate-settings", "maybe")
	install(2, "holds no settings", dir, img, "--migrate-settings", "yes")

	small := filepath.Join(t.TempDir(), "small.img")
	os.WriteFile(small, nil, 0o644)
	os.Truncate(small, 900<<20)
	install(3, "needs at least", dir, small)

	// A mounted drive.
	mounted := filepath.Join(t.TempDir(), "mounted.img")
	os.WriteFile(mounted, nil, 0o644)
	os.Truncate(mounted, 2<<30)
	testutil.Run(t, "mkfs.ext4", "-q", "-F", mounted)
	loop := testutil.LoopDevice(t, mounted)
	testutil.Mount(t, loop)
	mountedBefore := headTail(t, mounted)
	install(3, "in use", dir, loop)
	if headTail(t, mounted) != mountedBefore {
		t.Error("mounted target changed")
	}
}

func TestInstallLoopDeviceAndRestore(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.RequireTools(t, "sgdisk", "fsck.fat", "fsck.ext4", "mount")
	dir, pub := signedPayload(t)
	img := filepath.Join(t.TempDir(), "disk.img")
	os.WriteFile(img, nil, 0o644)
	os.Truncate(img, 3<<30)
	loop := testutil.LoopDevice(t, img, "--partscan")
	args := []string{"install", "--yes", "--accept-eula", "--trust-key", pub, "--source", dir, "--target", loop, "--backup-dir", t.TempDir()}
	if r := run(t, context.Background(), "", args...); r.code != 0 {
		t.Fatalf("install: exit %d\n%s", r.code, r.stderr)
	}
	out, err := exec.Command("sgdisk", "-v", loop).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "No problems found") {
		t.Errorf("sgdisk -v: %v\n%s", err, out)
	}
	// The kernel here has no GPT parser, so BLKRRPART finds nothing; partx
	// reads the table in user space (a judge of its own) and adds the
	// partitions with BLKPG.
	part := func(n string) string {
		p := loop + "p" + n
		if _, err := os.Stat(p); err != nil {
			testutil.Run(t, "partx", "-a", loop)
		}
		if !testutil.WaitFor(3*time.Second, func() bool { _, err := os.Stat(p); return err == nil }) {
			t.Fatalf("%s did not appear", p)
		}
		return p
	}
	t.Log(testutil.Run(t, "fsck.fat", "-n", part("1")))
	t.Log(testutil.Run(t, "fsck.ext4", "-fn", part("5")))
	// The settings a real first boot wrote, with an empty directory and an
	// old time added, saved to DATA as the installed system does.
	root := testutil.SetupRoot(t, "answers-otp-hidden-wlan.yaml")
	os.Mkdir(root+"/etc/onramp/empty", 0o700)
	os.Chmod(root+"/etc/onramp/empty", 0o750)
	old := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	os.Chtimes(root+"/etc/onramp/ums/device.key", old, old)
	os.Chtimes(root+"/etc/onramp/empty", old, old)
	data := testutil.Mount(t, part("5"))
	want := saveDeviceSettings(t, root, data)
	nSettings := len(want) + 1 // and the link /etc/localtime
	os.WriteFile(data+"/licenses/1.lic", []byte("L1"), 0o600)
	want["licenses/1.lic"] = []byte("L1")
	testutil.Run(t, "umount", data)

	// osc inspect names each setting it would migrate, without content.
	ins := run(t, context.Background(), "", "inspect", loop)
	if !strings.Contains(ins.stdout, "Licenses:        1 (0 valid on this machine)") || !strings.Contains(ins.stdout, "  1.lic  1.lic: malformed") ||
		!strings.Contains(ins.stdout, "Transport:") ||
		!strings.Contains(ins.stdout, fmt.Sprintf("Settings:        yes (%d files)", nSettings)) ||
		!strings.Contains(ins.stdout, "  0600 0:0       /etc/onramp/ums/device.key  241 bytes") ||
		!strings.Contains(ins.stdout, "/etc/localtime  -> ../usr/share/zoneinfo/Europe/Berlin") {
		t.Errorf("inspect %s", ins.stdout)
	}
	key, _ := os.ReadFile(root + "/etc/onramp/ums/device.key")
	if strings.Contains(ins.stdout, strings.TrimSpace(string(key))[30:60]) {
		t.Error("inspect printed the device key")
	}
	insJSON := run(t, context.Background(), "", "inspect", "--json", loop)
	var in struct {
		Settings      int `json:"settings"`
		SettingsFiles []struct {
			Path, Type, Mode string
			UID, GID, Size   int
			Target           string
		} `json:"settings_files"`
	}
	if err := json.Unmarshal([]byte(insJSON.stdout), &in); err != nil || in.Settings != nSettings {
		t.Fatalf("inspect --json: %v %s", err, insJSON.stdout)
	}
	listed := map[string]string{}
	for _, f := range in.SettingsFiles {
		listed[f.Path] = f.Type + " " + f.Mode + " " + f.Target
	}
	for p, w := range map[string]string{"/etc/onramp/ums/device.key": "file 0600 ", "/etc/onramp/empty": "dir 0750 ",
		"/etc/localtime": "symlink 0777 ../usr/share/zoneinfo/Europe/Berlin", "/var/lib/onramp/setup.done": "file 0644 "} {
		if listed[p] != w {
			t.Errorf("inspect --json: %s is %q, want %q", p, listed[p], w)
		}
	}

	// Reinstall: migrated byte for byte, and the backup restores too.
	backups := t.TempDir()
	args[len(args)-1] = backups
	r := run(t, context.Background(), "", append(args, "--json")...)
	if r.code != 0 || !strings.Contains(r.stdout, fmt.Sprintf(`"migrated_settings":%d`, nSettings)) || !strings.Contains(r.stdout, `"migrated_licenses":1`) {
		t.Fatalf("reinstall: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	// The migration summary shows each license with its state: this one
	// is an opaque test file, never counted as valid.
	if !strings.Contains(r.stdout, `"license_states":[{"file":"1.lic","license":`) || !strings.Contains(r.stdout, `"state":"malformed"`) {
		t.Errorf("migration summary:\n%s", r.stdout)
	}
	tars, _ := filepath.Glob(backups + "/*.tar")
	if len(tars) != 1 {
		t.Fatalf("backups %v", tars)
	}
	if rr := run(t, context.Background(), "", "restore", "--backup", tars[0], "--target", loop); rr.code != 0 {
		t.Fatalf("restore: exit %d\n%s", rr.code, rr.stderr)
	}
	data = testutil.Mount(t, part("5"))
	for name, w := range want {
		if b, err := os.ReadFile(filepath.Join(data, name)); err != nil || !bytes.Equal(b, w) {
			t.Errorf("%s: %q %v", name, b, err)
		}
	}
	// Links, empty directories, modes and times come back too.
	if target, err := os.Readlink(data + "/settings/etc/localtime"); err != nil || target != "../usr/share/zoneinfo/Europe/Berlin" {
		t.Errorf("settings/etc/localtime: %q %v", target, err)
	}
	for name, mode := range map[string]os.FileMode{"settings/etc/onramp/empty": os.ModeDir | 0o750, "settings/etc/onramp/ums/device.key": 0o600} {
		fi, err := os.Lstat(filepath.Join(data, name))
		if err != nil || fi.Mode() != mode || !fi.ModTime().Equal(old) {
			t.Errorf("%s after restore: %v %v %v, want %v %v", name, fi.Mode(), fi.ModTime(), err, mode, old)
		}
	}
}

// headTail hashes the first 64 MiB and the last 1 MiB of a file: every
// install starts by clearing both ends, so an unchanged hash means nothing
// was written.
func headTail(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	head := make([]byte, 64<<20)
	n, _ := f.ReadAt(head, 0)
	tail := make([]byte, 1<<20)
	m, _ := f.ReadAt(tail, fi.Size()-int64(len(tail)))
	return string(head[:n]) + string(tail[:m])
}
