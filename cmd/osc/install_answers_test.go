//go:build linux

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/onramp-os/onramp/blockdev"
	"github.com/onramp-os/onramp/firstboot"
	"github.com/onramp-os/onramp/installer"
	"github.com/onramp-os/onramp/internal/testutil"
)

// fakeDisk is one whole disk of a fake sysfs tree: its place under
// /sys/devices decides the transport.
type fakeDisk struct {
	name, devices, dev string
	removable          bool
}

var (
	fakeSATA = fakeDisk{"sda", "pci0000:00/0000:00:17.0/ata1/host0/target0:0:0/0:0:0:0/block/sda", "8:0", false}
	fakeUSB  = fakeDisk{"sdc", "pci0000:00/0000:00:14.0/usb1/1-1/1-1:1.0/host6/target6:0:0/6:0:0:0/block/sdc", "8:32", true}
	fakeVDA  = fakeDisk{"vda", "pci0000:00/0000:00:02.0/virtio1/block/vda", "254:0", false}
	fakeVDB  = fakeDisk{"vdb", "pci0000:00/0000:00:03.0/virtio2/block/vdb", "254:16", false}
)

// useFakeDisks points blockdev at a sysfs, proc and /dev tree holding
// disks of 4 GiB each; sda's first partition is mounted on / (the system
// disk). Each disk's /dev node is a sparse image file, so an install onto
// the disk auto picks runs for real, onto that file.
func useFakeDisks(t *testing.T, disks ...fakeDisk) (dev string) {
	t.Helper()
	root := t.TempDir()
	sys, dev := filepath.Join(root, "sys"), filepath.Join(root, "dev")
	write := func(p, content string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	link := func(at, to string) {
		t.Helper()
		os.MkdirAll(filepath.Dir(at), 0o755)
		rel, _ := filepath.Rel(filepath.Dir(at), to)
		if err := os.Symlink(rel, at); err != nil {
			t.Fatal(err)
		}
	}
	const size = 4 << 30
	for _, d := range disks {
		dir := filepath.Join(sys, "devices", d.devices)
		removable := map[bool]string{true: "1", false: "0"}[d.removable]
		for name, v := range map[string]string{"dev": d.dev, "size": strconv.Itoa(size / 512), "ro": "0",
			"removable": removable, "queue/logical_block_size": "512", "queue/physical_block_size": "512"} {
			write(filepath.Join(dir, name), v+"\n")
		}
		link(filepath.Join(sys, "class/block", d.name), dir)
		link(filepath.Join(sys, "dev/block", d.dev), dir)
		write(filepath.Join(dev, d.name), "")
		if err := os.Truncate(filepath.Join(dev, d.name), size); err != nil {
			t.Fatal(err)
		}
		if d.name == "sda" {
			part := filepath.Join(dir, "sda1")
			write(filepath.Join(part, "partition"), "1\n")
			write(filepath.Join(part, "dev"), "8:1\n")
			write(filepath.Join(part, "size"), "2048\n")
			link(filepath.Join(sys, "class/block/sda1"), part)
			link(filepath.Join(sys, "dev/block/8:1"), part)
		}
	}
	write(filepath.Join(root, "proc/mountinfo"), "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n")
	write(filepath.Join(root, "proc/swaps"), "Filename\tType\tSize\tUsed\tPriority\n")
	old := []string{blockdev.SysBlockDir, blockdev.SysDevBlockDir, blockdev.MountInfoPath, blockdev.SwapsPath, blockdev.DevDir}
	blockdev.SysBlockDir, blockdev.SysDevBlockDir = filepath.Join(sys, "class/block"), filepath.Join(sys, "dev/block")
	blockdev.MountInfoPath, blockdev.SwapsPath, blockdev.DevDir = filepath.Join(root, "proc/mountinfo"), filepath.Join(root, "proc/swaps"), dev
	t.Cleanup(func() {
		blockdev.SysBlockDir, blockdev.SysDevBlockDir, blockdev.MountInfoPath, blockdev.SwapsPath, blockdev.DevDir = old[0], old[1], old[2], old[3], old[4]
	})
	return dev
}

// useLiveInstaller makes osc believe it runs in the live installer and
// returns where after: is handed over.
func useLiveInstaller(t *testing.T) (after string) {
	t.Helper()
	oldCmdline, oldAfter := procCmdline, afterPath
	t.Cleanup(func() { procCmdline, afterPath = oldCmdline, oldAfter })
	procCmdline = filepath.Join(t.TempDir(), "cmdline")
	os.WriteFile(procCmdline, []byte("BOOT_IMAGE=/vmlinuz console=ttyS0 osc.mode=install\n"), 0o644)
	afterPath = filepath.Join(t.TempDir(), "run/onramp/after")
	return afterPath
}

// readDataFile reads name from DATA (partition 5) of img with debugfs, the
// way the installer itself reads DATA, and returns its content and mode.
func readDataFile(t *testing.T, img, name string) ([]byte, os.FileMode) {
	t.Helper()
	start := strings.TrimSpace(testutil.Run(t, "partx", "-g", "-o", "START", "-n", "5", img))
	sector, err := strconv.ParseInt(start, 10, 64)
	if err != nil {
		t.Fatalf("partx start %q: %v", start, err)
	}
	dev := fmt.Sprintf("%s?offset=%d", img, sector*512)
	content, err := exec.Command("debugfs", "-R", "cat /"+name, dev).Output()
	if err != nil {
		t.Fatalf("debugfs cat: %v", err)
	}
	stat := testutil.Run(t, "debugfs", "-R", "stat /"+name, dev)
	var mode uint32
	if i := strings.Index(stat, "Mode:"); i < 0 {
		t.Fatalf("debugfs stat /%s:\n%s", name, stat)
	} else if _, err := fmt.Sscanf(stat[i:], "Mode: %o", &mode); err != nil {
		t.Fatalf("mode in %q: %v", stat[i:], err)
	}
	return content, os.FileMode(mode).Perm()
}

// TestInstallAnswersExample installs with examples/install-answers.yaml in
// the live installer: target auto picks the one internal disk of a fake
// sysfs (sda is the system disk, sdc a USB stick), the firstboot answers
// land in DATA with mode 0600, and after: poweroff is handed to init.
func TestInstallAnswersExample(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.RequireTools(t, "mke2fs", "debugfs", "partx", "sgdisk")
	dir, pub := signedPayload(t)
	dev := useFakeDisks(t, fakeSATA, fakeUSB, fakeVDA)
	after := useLiveInstaller(t)
	example := filepath.Join("..", "..", "examples", "install-answers.yaml")
	r := run(t, context.Background(), "", "install", "--answers", example, "--source", dir, "--trust-key", pub,
		"--backup-dir", t.TempDir(), "--json")
	if r.code != 0 {
		t.Fatalf("install: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	var done struct {
		Event  string `json:"event"`
		Target string `json:"target"`
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	for _, l := range lines {
		var e struct{ Event string }
		if json.Unmarshal([]byte(l), &e) == nil && e.Event == "done" {
			json.Unmarshal([]byte(l), &done)
		}
	}
	if img := filepath.Join(dev, "vda"); done.Target != img {
		t.Fatalf("installed onto %q, want %s (auto)\n%s", done.Target, img, r.stdout)
	}
	if b, err := os.ReadFile(after); err != nil || string(b) != "poweroff\n" {
		t.Errorf("after file: %q %v", b, err)
	}
	if !strings.Contains(lines[len(lines)-1], "after the install: poweroff") {
		t.Errorf("last line %q", lines[len(lines)-1])
	}
	img := filepath.Join(dev, "vda")
	if out, err := exec.Command("sgdisk", "-v", img).CombinedOutput(); err != nil || !strings.Contains(string(out), "No problems found") {
		t.Errorf("sgdisk -v: %v\n%s", err, out)
	}
	if fi, err := os.Stat(img); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("the image file holding the one-time password: %v, want mode 0600", fi.Mode().Perm())
	}
	content, mode := readDataFile(t, img, installer.FirstBootAnswersPath)
	if mode != 0o600 {
		t.Errorf("%s mode %v, want 0600", installer.FirstBootAnswersPath, mode)
	}
	a, err := firstboot.ParseAnswers(content)
	if err != nil {
		t.Fatalf("firstboot answers in DATA: %v\n%s", err, content)
	}
	o := a.Onboarding
	if a.Language != "de_DE" || a.Keyboard.Variant != "nodeadkeys" || a.Network.Wired == nil || !a.Network.Wired.DHCP ||
		o.Server != "ums.example.com" || o.Port != 8443 || o.OTP != "EXAMPLE-ONE-TIME-KEY" || o.Token != "0439081D3038DE77" {
		t.Errorf("firstboot answers differ from the example: %+v", a)
	}
	if strings.Contains(r.stdout+r.stderr, "EXAMPLE-ONE-TIME-KEY") {
		t.Error("the one-time password was printed")
	}
	for _, other := range []string{"sda", "sdc"} {
		if fi, _ := os.Stat(filepath.Join(dev, other)); fi == nil || fi.Size() != 4<<30 {
			t.Errorf("%s changed", other)
		}
	}
}

// TestInstallAnswersFlagsWin: flags given explicitly override the file; a
// file without firstboot writes none; after defaults to exit.
func TestInstallAnswersFlagsWin(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.RequireTools(t, "mke2fs", "debugfs", "partx")
	dir, pub := signedPayload(t)
	after := useLiveInstaller(t)
	img := filepath.Join(t.TempDir(), "disk.img")
	os.WriteFile(img, nil, 0o644)
	os.Truncate(img, 3<<30)
	answers := filepath.Join(t.TempDir(), "a.yaml")
	os.WriteFile(answers, []byte("target: /nonexistent/disk\naccept_eula: true\nmigrate_settings: yes\n"), 0o644)
	r := run(t, context.Background(), "", "install", "--answers", answers, "--target", img, "--migrate-settings", "auto",
		"--source", dir, "--trust-key", pub, "--backup-dir", t.TempDir())
	if r.code != 0 {
		t.Fatalf("install: exit %d\n%s", r.code, r.stderr)
	}
	if _, err := os.Stat(after); !os.IsNotExist(err) {
		t.Errorf("after: exit wrote %s (%v)", after, err)
	}
	start := strings.TrimSpace(testutil.Run(t, "partx", "-g", "-o", "START", "-n", "5", img))
	sector, _ := strconv.ParseInt(start, 10, 64)
	out := testutil.Run(t, "debugfs", "-R", "ls -p /", fmt.Sprintf("%s?offset=%d", img, sector*512))
	if strings.Contains(out, "/onramp/") {
		t.Errorf("DATA holds onramp/ without firstboot answers:\n%s", out)
	}
}

// TestInstallAnswersErrors: a bad file exits 2 naming the field and its
// line before anything is opened, and never prints the firstboot secrets.
func TestInstallAnswersErrors(t *testing.T) {
	img := filepath.Join(t.TempDir(), "disk.img")
	os.WriteFile(img, []byte("untouched"), 0o644)
	const secret = "S3CRET-OTP-4711"
	for _, c := range []struct{ file, want string }{
		{"target: " + img + "\naccept_eula: true\ntarget_disk: /dev/sda\n", "target_disk (line 3): unknown key"},
		{"target: " + img + "\naccept_eula: false\n", "accept_eula (line 2): the end-user license agreement must be accepted"},
		{"target: " + img + "\naccept_eula: yes please\n", "accept_eula (line 2): expected true or false"},
		{"target: " + img + "\n", "accept_eula: required"},
		{"target: " + img + "\naccept_eula: true\nmigrate_licenses: maybe\n", `migrate_licenses (line 3): "maybe" is not auto, yes or no`},
		{"accept_eula: true\ntarget: " + img + "\ntarget: /dev/sda\n", "target (line 3): given twice"},
		{"accept_eula: true\ntarget: [a, b]\n", "target (line 2): expected a text value"},
		{"accept_eula: true\nafter: poweroff\ntarget: " + img + "\n", "after (line 2): poweroff is only possible in the live installer"},
		{"accept_eula: true\nafter: hibernate\ntarget: " + img + "\n", `after (line 2): "hibernate" is not poweroff, reboot or exit`},
		{"accept_eula: true\ntarget: " + img + "\nfirstboot: yes\n", "firstboot (line 3): expected a mapping"},
		{"accept_eula: true\ntarget: " + img + "\nfirstboot:\n  language: de\n  eula: accept\n  onboarding:\n    server: ums.example.com\n    otp: " + secret + "\n    tokn: 0439081D3038DE77\n",
			"firstboot.onboarding.tokn (line 9): unknown key"},
		{"accept_eula: true\ntarget: " + img + "\nfirstboot:\n  onboarding: {server: ums.example.com, otp: " + secret + ", port: eighty}\n",
			"firstboot.onboarding.port (line 4): expected a number"},
		{"accept_eula: true\ntarget: " + img + "\nfirstboot:\n  network: {wlan: {ssid: Office, key: " + secret + "}, wired: dhcp}\n",
			"firstboot.network (line 4): give exactly one of wired, wlan or mobile"},
		// The first boot runs these unattended: they are checked whole, with
		// the setup assistant's own validator, not only parsed.
		{"accept_eula: true\ntarget: " + img + "\nfirstboot: {}\n", "firstboot.language (line 3): required"},
		{"accept_eula: true\ntarget: " + img + "\nfirstboot:\n  language: de\n  eula: accept\n  network: skip\n  timezone: Mars/Olympus_Mons\n  onboarding: skip\n",
			"firstboot.timezone (line 7): "},
		{"accept_eula: true\ntarget: " + img + "\nfirstboot:\n  language: de\n  eula: accept\n  network: skip\n  timezone: UTC\n  onboarding:\n    server: ums.example.com\n    otp: " + secret + "\n    token: not-a-token\n",
			"firstboot.onboarding.token (line 11): "},
		{"accept_eula: true\ntarget: " + img + "\nfirstboot:\n  language: de\n  eula: accept\n  network: skip\n  timezone: UTC\n  onboarding: skip\n", ""},
		{"- target\n", "(file) (line 1): expected a mapping of keys"},
		{"target: [\n", "(file) (line 1): not valid YAML"},
		// An unquoted value starting with * is a YAML alias: the error
		// names the line, never the value.
		{"accept_eula: true\ntarget: " + img + "\nfirstboot:\n  onboarding: {server: ums.example.com, otp: *" + secret + ", token: 0439081D3038DE77}\n",
			"(file) (line 4): a value starting with * or & is YAML syntax"},
		{"accept_eula: true\ntarget: " + img + "\n---\ntarget: /dev/sda\n", "more than one YAML document"},
		{"", "the file is empty"},
		{"accept_eula: true\n", "--target is required"},
	} {
		answers := filepath.Join(t.TempDir(), "answers.yaml")
		os.WriteFile(answers, []byte(c.file), 0o600)
		r := run(t, context.Background(), "", "install", "--answers", answers, "--source", "/nonexistent/onramp")
		if c.want == "" { // valid: the missing payload is what stops it
			if r.code != 5 {
				t.Errorf("%q: exit %d, want 5 (payload)\n%s", c.file, r.code, r.stderr)
			}
			continue
		}
		if r.code != 2 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%q: exit %d, stderr %q; want 2 and %q", c.file, r.code, r.stderr, c.want)
		}
		if strings.Contains(r.stderr+r.stdout, secret) {
			t.Errorf("%q: the secret was printed: %s", c.file, r.stderr)
		}
	}
	if b, _ := os.ReadFile(img); string(b) != "untouched" {
		t.Error("the target changed")
	}
	// --json reports the error as an event too.
	answers := filepath.Join(t.TempDir(), "answers.yaml")
	os.WriteFile(answers, []byte("accept_eula: false\n"), 0o600)
	r := run(t, context.Background(), "", "install", "--json", "--answers", answers, "--source", "/nonexistent/onramp")
	if r.code != 2 || !strings.Contains(r.stdout, `"event":"error"`) || !strings.Contains(r.stdout, "accept_eula (line 1)") {
		t.Errorf("--json: exit %d\n%s", r.code, r.stdout)
	}
}

// TestInstallTargetAuto: none or several eligible disks are refused (exit
// 3) listing every disk seen, before the payload is even opened.
func TestInstallTargetAuto(t *testing.T) {
	for _, c := range []struct {
		disks []fakeDisk
		want  []string
	}{
		{[]fakeDisk{fakeSATA, fakeUSB}, []string{"no eligible internal disk", "/dev/sda) (system disk, mounted)", "/dev/sdc) (removable, USB)"}},
		{[]fakeDisk{fakeSATA, fakeVDA, fakeVDB}, []string{"2 eligible internal disks", "/dev/vda)", "/dev/vdb)"}},
	} {
		dev := useFakeDisks(t, c.disks...)
		r := run(t, context.Background(), "", "install", "--yes", "--accept-eula", "--target", "auto", "--source", "/nonexistent/onramp")
		for _, w := range c.want {
			w = strings.ReplaceAll(w, "/dev/", dev+"/")
			if r.code != 3 || !strings.Contains(r.stderr, w) {
				t.Errorf("exit %d, stderr %q; want 3 and %q", r.code, r.stderr, w)
			}
		}
	}
}
