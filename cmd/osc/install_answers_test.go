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
	"github.com/onramp-os/onramp/internal/testutil/fakesys"
)

// The disks of the fake sysfs trees these tests install onto: sda holds
// / (the system disk), sdc is a removable USB stick.
var (
	fakeSATA = fakesys.SATA.Mounted("/")
	fakeUSB  = fakesys.Disk{Name: "sdc", Dev: "8:32", Size: 4 << 30, Removable: true,
		Devices: "pci0000:00/0000:00:14.0/usb1/1-1/1-1:1.0/host6/target6:0:0/6:0:0:0/block/sdc",
		Device:  "pci0000:00/0000:00:14.0/usb1/1-1/1-1:1.0/host6/target6:0:0/6:0:0:0"}
	fakeVDA = fakesys.Virtio
	fakeVDB = fakesys.Virtio2
)

// useFakeDisks points blockdev at a fake sysfs, proc and /dev tree holding
// disks (fakesys.Use): each /dev node is a sparse image file, so an
// install onto the disk picked runs for real, onto that file.
func useFakeDisks(t *testing.T, disks ...fakesys.Disk) (dev string) {
	t.Helper()
	return fakesys.Use(t, disks...)
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
		disks []fakesys.Disk
		want  []string
	}{
		{[]fakesys.Disk{fakeSATA, fakeUSB}, []string{"target auto: no eligible internal disk",
			`/dev/sda (sata, 4.3 GB, model "QEMU HARDDISK", serial "QM00013", wwid "t10.ATA QEMU HARDDISK QM00013"): system disk, mounted`,
			"/dev/sdc (usb, 4.3 GB, removable): removable, USB"}},
		{[]fakesys.Disk{fakeSATA, fakeVDA, fakeVDB}, []string{"target auto: 2 eligible internal disks",
			`/dev/vda (virtio, 4.3 GB, serial "vdserial1"); /dev/vdb (virtio, 4.3 GB, serial "vdserial2")`}},
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

// TestInstallTargetRulesQEMU: the answers the QEMU proof uses for its SATA
// and eMMC/SD rows pick those disks among the guest's (sysfs shaped like
// the guest's, the stick on USB mounted as the medium), the same rules
// given as --target do, and bad or ambiguous rules are refused before the
// payload is opened: exit 2 naming the field and its line, exit 3 naming
// the candidates or the disks seen.
func TestInstallTargetRulesQEMU(t *testing.T) {
	dev := useFakeDisks(t, fakesys.SATA, fakesys.SD, fakesys.Stick.Mounted("/run/onramp/medium"))
	answers := func(target string) string {
		p := filepath.Join(t.TempDir(), "answers.yaml")
		if err := os.WriteFile(p, []byte("target: "+target+"\naccept_eula: true\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, c := range []struct {
		args []string
		code int
		want []string
	}{
		// Chosen: the missing payload is what stops them (exit 5), after
		// the target was named.
		{[]string{"--answers", answers(`{bus: sata, model: "QEMU HARDDISK", min_size: 4G, max_size: 4G}`)}, 5,
			[]string{`target bus: sata, model: QEMU HARDDISK, min_size: 4G, max_size: 4G: /dev/sda (sata, 4.3 GB, model "QEMU HARDDISK", serial "QM00013"`}},
		{[]string{"--answers", answers(`{bus: mmc, serial: "0xdeadbeef", min_size: 4G}`)}, 5,
			[]string{`target bus: mmc, serial: 0xdeadbeef, min_size: 4G: /dev/mmcblk0 (mmc, 4.3 GB, model "QEMU!", serial "0xdeadbeef")`}},
		{[]string{"--yes", "--accept-eula", "--target", "bus=sata,model=QEMU HARDDISK"}, 5, []string{"target bus: sata, model: QEMU HARDDISK: /dev/sda (sata,"}},
		// --target wins over the file's rules.
		{[]string{"--answers", answers("{bus: mmc}"), "--target", "serial=QM00013"}, 5, []string{"target serial: QM00013: /dev/sda (sata,"}},
		{[]string{"--answers", answers("{min_size: 4G}")}, 3, []string{"target rules (min_size: 4G): 2 disks match, add a rule (serial, wwid, size) to pick one: ",
			`/dev/mmcblk0 (mmc, 4.3 GB, model "QEMU!", serial "0xdeadbeef"); /dev/sda (sata, 4.3 GB, model "QEMU HARDDISK", serial "QM00013", wwid "t10.ATA QEMU HARDDISK QM00013")`}},
		{[]string{"--answers", answers("{bus: nvme}")}, 3, []string{"target rules (bus: nvme): no disk matches",
			`disks seen: /dev/mmcblk0 (mmc, 4.3 GB, model "QEMU!", serial "0xdeadbeef"): bus mmc, not nvme; `,
			`/dev/sda (sata, 4.3 GB, model "QEMU HARDDISK", serial "QM00013", wwid "t10.ATA QEMU HARDDISK QM00013"): bus sata, not nvme; `,
			`/dev/sdb (usb, 2.1 GB, model "QEMU HARDDISK", serial "1-0000:00:02.0-1"): mounted, USB, bus usb, not nvme`}},
		{[]string{"--yes", "--accept-eula", "--target", "bus=usb"}, 3, []string{"target rules (bus: usb): no disk matches", "/dev/sdb (usb, 2.1 GB, model \"QEMU HARDDISK\", serial \"1-0000:00:02.0-1\"): mounted"}},
		{[]string{"--answers", answers("\n  bus: sata\n  min_size: 16G\n  max_size: 8G")}, 2, []string{"target.max_size (line 4): 8.6 GB is below min_size 17.2 GB"}},
		{[]string{"--answers", answers("{bus: ide}")}, 2, []string{`target.bus (line 1): "ide" is not nvme, sata, mmc, usb, virtio, scsi or loop`}},
		{[]string{"--yes", "--accept-eula", "--target", "bus=sata,min_size=-1G"}, 2, []string{`--target: min_size: "-1G" is negative`}},
	} {
		r := run(t, context.Background(), "", append([]string{"install", "--json", "--source", "/nonexistent/onramp"}, c.args...)...)
		if r.code != c.code {
			t.Errorf("%v: exit %d, want %d\n%s", c.args, r.code, c.code, r.stdout)
		}
		for _, w := range c.want {
			w = strings.ReplaceAll(w, "/dev/", dev+"/")
			if !strings.Contains(r.stdout, jsonText(w)) {
				t.Errorf("%v: %s\nwant %q", c.args, r.stdout, w)
			}
		}
	}
}

// jsonText is s as it appears inside a JSON string.
func jsonText(s string) string {
	b, _ := json.Marshal(s)
	return string(b[1 : len(b)-1])
}

// TestInstallTargetRulesLoop: target rules on this machine's own sysfs,
// with real loop devices (bus: loop names them; they never match
// otherwise): two of one size are refused (exit 3) naming both, a third
// of another size is chosen and installed onto, and rules nothing meets
// list every disk seen.
func TestInstallTargetRulesLoop(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.RequireTools(t, "sgdisk", "losetup")
	// Sizes no other test's loop device has: 3 GiB and some MiB.
	size := int64(3<<30) + int64(os.Getpid()%4096+1)<<20
	loop := func(size int64) string {
		img := filepath.Join(t.TempDir(), "disk.img")
		os.WriteFile(img, nil, 0o644)
		if err := os.Truncate(img, size); err != nil {
			t.Fatal(err)
		}
		return testutil.LoopDevice(t, img)
	}
	twin1, twin2, single := loop(size), loop(size), loop(size+1<<20)
	exact := func(n int64) string { return fmt.Sprintf("bus=loop,min_size=%d,max_size=%d", n, n) }
	install := func(target string, extra ...string) runResult {
		return run(t, context.Background(), "", append([]string{"install", "--yes", "--accept-eula", "--target", target}, extra...)...)
	}

	r := install(exact(size), "--source", "/nonexistent/onramp")
	human := blockdev.HumanSize(size)
	for _, w := range []string{"2 disks match", twin1 + " (loop, " + human + ")", twin2 + " (loop, " + human + ")"} {
		if r.code != 3 || !strings.Contains(r.stderr, w) {
			t.Errorf("twins: exit %d, %s; want 3 and %q", r.code, r.stderr, w)
		}
	}
	if strings.Contains(r.stderr, single) {
		t.Errorf("twins: names %s\n%s", single, r.stderr)
	}

	// Without bus: loop, a loop device never matches.
	r = install(fmt.Sprintf("min_size=%d,max_size=%d", size+1<<20, size+1<<20), "--source", "/nonexistent/onramp")
	if w := single + " (loop, " + blockdev.HumanSize(size+1<<20) + "): loop device"; r.code != 3 || !strings.Contains(r.stderr, "no disk matches") || !strings.Contains(r.stderr, w) {
		t.Errorf("no bus: exit %d, %s; want 3 and %q", r.code, r.stderr, w)
	}
	r = install("bus=loop,min_size=1P", "--source", "/nonexistent/onramp")
	for _, w := range []string{"target rules (bus: loop, min_size: 1P): no disk matches", "disks seen: ", twin1 + " (loop, " + human + "): smaller than min_size"} {
		if r.code != 3 || !strings.Contains(r.stderr, w) {
			t.Errorf("none: exit %d, %s; want 3 and %q", r.code, r.stderr, w)
		}
	}

	dir, pub := signedPayload(t)
	r = install(exact(size+1<<20), "--source", dir, "--trust-key", pub, "--backup-dir", t.TempDir())
	if r.code != 0 || !strings.Contains(r.stderr, "target bus: loop, min_size: "+strconv.FormatInt(size+1<<20, 10)) || !strings.Contains(r.stderr, "OK "+single) {
		t.Fatalf("install: exit %d\n%s", r.code, r.stderr)
	}
	if out, err := exec.Command("sgdisk", "-v", single).CombinedOutput(); err != nil || !strings.Contains(string(out), "No problems found") {
		t.Errorf("sgdisk -v %s: %v\n%s", single, err, out)
	}
	// A GPT header ("EFI PART" at sector 1) on the one chosen only.
	for dev, want := range map[string]string{single: "EFI PART", twin1: "\x00\x00\x00\x00\x00\x00\x00\x00", twin2: "\x00\x00\x00\x00\x00\x00\x00\x00"} {
		f, err := os.Open(dev)
		if err != nil {
			t.Fatal(err)
		}
		sig := make([]byte, 8)
		_, err = f.ReadAt(sig, 512)
		f.Close()
		if err != nil || string(sig) != want {
			t.Errorf("%s at sector 1: %q %v, want %q", dev, sig, err, want)
		}
	}
}
