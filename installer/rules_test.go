package installer

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/onramp-os/onramp/blockdev"
	"github.com/onramp-os/onramp/internal/exitcode"
	"github.com/onramp-os/onramp/internal/testutil/fakesys"
)

// rules parses target rules written as --target takes them.
func rules(t *testing.T, s string) TargetRules {
	t.Helper()
	r, ok, err := ParseTargetFlag(s)
	if !ok || err != nil {
		t.Fatalf("rules %q: %v %v", s, ok, err)
	}
	return *r
}

// TestMatchTargetQEMUDisks: the rules on the disks of a QEMU guest with
// an NVMe, a SATA disk behind ahci, an SD card, a virtio disk and the
// installer stick on USB (mounted, and the medium), read from a fake
// sysfs shaped like the guest's through blockdev.
func TestMatchTargetQEMUDisks(t *testing.T) {
	fakesys.Use(t, fakesys.NVMe, fakesys.SATA, fakesys.SD, fakesys.Virtio.Sized(32<<30),
		fakesys.Stick.Mounted("/run/onramp/medium"))
	drives, err := blockdev.List()
	if err != nil {
		t.Fatal(err)
	}
	dev := blockdev.DevDir + "/"
	for _, c := range []struct{ rules, want string }{
		{"bus=sata", "sda"},
		{"bus=mmc", "mmcblk0"},
		{"bus=nvme", "nvme0n1"},
		{"bus=virtio", "vda"},
		{"bus=sata,bus=mmc,min_size=4G,max_size=4G,model=QEMU!", "mmcblk0"},
		{"min_size=16G", "vda"},
		{"max_size=4GB", ""}, // 4 GiB is more than 4 GB
		{"max_size=4.3GB,bus=nvme", "nvme0n1"},
		// The SATA serial comes from VPD page 0x80, the NVMe one is padded.
		{"serial=QM00013", "sda"},
		{"serial=onrampe2e", "nvme0n1"},
		{"serial=vdserial1", "vda"},
		{"serial=0xdeadbeef", "mmcblk0"},
		// Runs of spaces count as one, globs match the whole value.
		{"wwid=t10.ATA QEMU HARDDISK QM00013", "sda"},
		{"wwid=t10.ATA     QEMU HARDDISK                           QM00013", "sda"},
		{"wwid=nvme.1b36-*", "nvme0n1"},
		{"wwid=nvme.1b36", ""},
		{"model=qemu nvme*", "nvme0n1"},
		{"model=QEMU?NVMe Ctrl", "nvme0n1"},
		// The stick's model is QEMU HARDDISK too: the medium never matches.
		{"model=QEMU HARDDISK", "sda"},
		{"model=QEMU HARDDISK,bus=usb", ""},
		{"bus=usb", ""},
		{"removable=true", ""},
		{"bus=sata,serial=QM00014", ""},
	} {
		d, err := MatchTarget(drives, rules(t, c.rules), "sdb")
		if c.want == "" {
			if err == nil || exitcode.KindOf(err) != exitcode.Refused || !strings.Contains(err.Error(), "no disk matches") {
				t.Errorf("%s: %q %v; want refused, no disk matches", c.rules, d.Path, err)
			}
			continue
		}
		if err != nil || d.Path != dev+c.want {
			t.Errorf("%s: %q %v; want %s", c.rules, d.Path, err, dev+c.want)
		}
	}

	// None: every disk seen with its facts and why it was left out.
	_, err = MatchTarget(drives, rules(t, "bus=usb,min_size=1T"), "sdb")
	for _, w := range []string{
		"target rules (bus: usb, min_size: 1T): no disk matches",
		dev + `sda (sata, 4.3 GB, model "QEMU HARDDISK", serial "QM00013", wwid "t10.ATA QEMU HARDDISK QM00013"): bus sata, not usb, smaller than min_size`,
		dev + `mmcblk0 (mmc, 4.3 GB, model "QEMU!", serial "0xdeadbeef"): bus mmc, not usb`,
		dev + `nvme0n1 (nvme, 4.3 GB, model "QEMU NVMe Ctrl", serial "ONRAMPE2E", wwid "nvme.1b36-4f4e52414d50453245-51454d55204e564d65204374726c-00000001"): bus nvme`,
		dev + `vda (virtio, 34.4 GB, serial "vdserial1"): bus virtio`,
		dev + `sdb (usb, 2.1 GB, model "QEMU HARDDISK", serial "1-0000:00:02.0-1"): installer medium, mounted, smaller than min_size`,
	} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("none:\n%v\nwant %q", err, w)
		}
	}
	// Several: the candidates with their facts, nothing else.
	_, err = MatchTarget(drives, rules(t, "max_size=5G"), "sdb")
	for _, w := range []string{"target rules (max_size: 5G): 3 disks match, add a rule (serial, wwid, size) to pick one: ",
		dev + `mmcblk0 (mmc, 4.3 GB, model "QEMU!", serial "0xdeadbeef"); `, dev + "nvme0n1 (nvme,", dev + "sda (sata,"} {
		if err == nil || exitcode.KindOf(err) != exitcode.Refused || !strings.Contains(err.Error(), w) {
			t.Errorf("several:\n%v\nwant %q", err, w)
		}
	}
	if err != nil && strings.Contains(err.Error(), "sdb") {
		t.Errorf("several names the medium: %v", err)
	}
	// auto is the empty rule set: the four internal disks.
	if _, err := MatchTarget(drives, TargetRules{}, "sdb"); err == nil || !strings.Contains(err.Error(), "target auto: 4 eligible internal disks") {
		t.Errorf("auto: %v", err)
	}
}

// TestMatchTargetRemovable: removable and USB disks match only when the
// rules name them, the installer medium never, the system disk never.
func TestMatchTargetRemovable(t *testing.T) {
	sandisk := fakesys.Disk{Name: "sdc", Dev: "8:32", Size: 32 << 30, Removable: true,
		Devices: "pci0000:00/0000:00:14.0/usb2/2-3/2-3:1.0/host6/target6:0:0/6:0:0:0/block/sdc",
		Device:  "pci0000:00/0000:00:14.0/usb2/2-3/2-3:1.0/host6/target6:0:0/6:0:0:0",
		Files: map[string]string{
			"pci0000:00/0000:00:14.0/usb2/2-3/2-3:1.0/host6/target6:0:0/6:0:0:0/model":  "Cruzer Blade    ",
			"pci0000:00/0000:00:14.0/usb2/2-3/2-3:1.0/host6/target6:0:0/6:0:0:0/vendor": "SanDisk ",
			"pci0000:00/0000:00:14.0/usb2/2-3/serial":                                   "4C530001230",
			"pci0000:00/0000:00:14.0/usb2/2-3/idVendor":                                 "0781",
		}}
	fakesys.Use(t, fakesys.SATA.Mounted("/"), fakesys.Stick, sandisk)
	drives, err := blockdev.List()
	if err != nil {
		t.Fatal(err)
	}
	dev := blockdev.DevDir + "/"
	for _, c := range []struct {
		rules, medium, want string
	}{
		{"bus=usb", "sdb", "sdc"},                      // the removable stick, named by its bus
		{"removable=true", "sdb", "sdc"},               // named as removable
		{"bus=usb,removable=false", "", "sdb"},         // QEMU's stick does not say removable
		{"bus=usb,serial=4C530001230", "sdb", "sdc"},   // the serial of the USB device
		{"model=Cruzer*", "sdb", ""},                   // a model does not name removable media
		{"bus=usb,serial=1-0000:00:02.0-1", "sdb", ""}, // the medium, even named
		{"bus=sata", "sdb", ""},                        // the system disk
		{"removable=true,bus=sata", "", ""},            // sda is not removable
		{"bus=usb,min_size=2G,max_size=3G", "", "sdb"}, // not the medium here
	} {
		d, err := MatchTarget(drives, rules(t, c.rules), c.medium)
		if c.want == "" {
			if err == nil {
				t.Errorf("%s (medium %q): matched %s", c.rules, c.medium, d.Path)
			}
			continue
		}
		if err != nil || d.Path != dev+c.want {
			t.Errorf("%s (medium %q): %q %v; want %s", c.rules, c.medium, d.Path, err, c.want)
		}
	}
	_, err = MatchTarget(drives, rules(t, "model=Cruzer*"), "sdb")
	for _, w := range []string{"removable and USB disks only when named", `sdc (usb, 34.4 GB, model "Cruzer Blade", serial "4C530001230", removable): removable, USB`,
		`sda (sata, 4.3 GB, model "QEMU HARDDISK", serial "QM00013", wwid "t10.ATA QEMU HARDDISK QM00013"): system disk, mounted, model differs`} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("model of a stick:\n%v\nwant %q", err, w)
		}
	}
}

// TestTargetRulesAnswers: target: as rules in an answers file, and every
// bad rule an error naming the field and its line.
func TestTargetRulesAnswers(t *testing.T) {
	a, err := ParseAnswers([]byte("accept_eula: true\ntarget:\n  bus: [nvme, sata]\n  min_size: 16G\n  max_size: 500GB\n  serial: S4EV*\n  model: Samsung SSD 970*\n  wwid: eui.0025385b71b07e2f\n  removable: false\n"), false)
	if err != nil {
		t.Fatal(err)
	}
	r := a.TargetRules
	if a.Target != "" || r == nil || strings.Join(r.Bus, ",") != "nvme,sata" || r.MinSize != 16<<30 || r.MaxSize != 500e9 ||
		r.Serial != "S4EV*" || r.Model != "Samsung SSD 970*" || r.WWID != "eui.0025385b71b07e2f" || r.Removable == nil || *r.Removable {
		t.Fatalf("rules %+v", r)
	}
	if got := r.String(); got != "bus: nvme, bus: sata, min_size: 16G, max_size: 500GB, serial: S4EV*, model: Samsung SSD 970*, wwid: eui.0025385b71b07e2f, removable: false" {
		t.Errorf("String() = %q", got)
	}
	if a, err := ParseAnswers([]byte("target: {bus: mmc}\n"), false); err != nil || a.TargetRules == nil || a.TargetRules.Bus[0] != "mmc" {
		t.Errorf("flow mapping: %+v %v", a, err)
	}
	for _, c := range []struct{ file, want string }{
		{"accept_eula: true\ntarget:\n  bus: scsii\n", `target.bus (line 3): "scsii" is not nvme, sata, mmc, usb, virtio, scsi or loop`},
		{"target:\n  bus: [nvme, ide]\n", `target.bus (line 2): "ide" is not`},
		{"target:\n  bus: [nvme, [sata]]\n", "target.bus (line 2): expected a text value"},
		{"target:\n  min_size: 16G\n  max_size: 8G\n", "target.max_size (line 3): 8.6 GB is below min_size 17.2 GB"},
		{"target:\n  min_size: -16G\n", `target.min_size (line 2): "-16G" is negative`},
		{"target:\n  max_size: 16Q\n", `target.max_size (line 2): "16Q" is not a size`},
		{"target:\n  max_size: 0\n", `target.max_size (line 2): "0" is 0`},
		{"target:\n  min_size: 9000000P\n", `target.min_size (line 2): "9000000P" is too large`},
		{"target:\n  min_size: 1e9\n", `target.min_size (line 2): "1e9" is not a size`},
		{"target:\n  serial: \"\"\n", "target.serial (line 2): expected a text value"},
		{"target:\n  model: [a, b]\n", "target.model (line 2): expected a text value"},
		{"target:\n  removable: sometimes\n", "target.removable (line 2): expected true or false"},
		{"target:\n  size: 16G\n", "target.size (line 2): unknown rule (known: bus, min_size, max_size, serial, wwid, model, removable)"},
		{"target:\n  bus: sata\n  bus: nvme\n", "target.bus (line 3): given twice"},
		{"accept_eula: true\ntarget: {}\n", "target (line 2): no rules: give at least one of bus"},
		{"target:\n  serial: " + strings.Repeat("x", 300) + "\n", "target.serial (line 2): longer than 256 characters"},
	} {
		_, err := ParseAnswers([]byte(c.file), false)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v; want %q", c.file, err, c.want)
		}
	}
}

func TestParseTargetFlag(t *testing.T) {
	for _, c := range []struct {
		v    string
		ok   bool
		want string // String() or the error
	}{
		{"auto", true, "auto"},
		{"/dev/sda", false, ""},
		{"disk.img", false, ""},
		{"./bus=sata", false, ""},
		{"bus=sata,min_size=16G", true, "bus: sata, min_size: 16G"},
		{"bus=sata,bus=nvme", true, "bus: sata, bus: nvme"},
		{"model=QEMU HARDDISK", true, "model: QEMU HARDDISK"},
		{"bus=ide", true, `--target: bus: "ide" is not nvme, sata, mmc, usb, virtio, scsi or loop`},
		{"bus=sata,16G", true, `--target bus=sata,16G: "16G" is not key=value`},
		{"bus=sata,size=16G", true, "--target: size: unknown rule"},
		{"min_size=16G,max_size=1G", true, "--target: max_size: 1.1 GB is below min_size 17.2 GB"},
	} {
		r, ok, err := ParseTargetFlag(c.v)
		switch {
		case ok != c.ok:
			t.Errorf("%q: ok %v", c.v, ok)
		case err != nil:
			if !strings.Contains(err.Error(), c.want) || exitcode.KindOf(err) != exitcode.Usage {
				t.Errorf("%q: %v; want usage error %q", c.v, err, c.want)
			}
		case ok && r.String() != c.want:
			t.Errorf("%q: %q, want %q", c.v, r.String(), c.want)
		}
	}
}

func TestParseSize(t *testing.T) {
	for _, c := range []struct {
		s    string
		want int64
	}{
		{"16G", 16 << 30}, {"16GiB", 16 << 30}, {"16 GiB", 16 << 30}, {"16g", 16 << 30}, {"500GB", 500e9}, {"500gb", 500e9},
		{"1.5T", 3 << 39}, {"1.5TB", 1.5e12}, {"512", 512}, {"512B", 512}, {"4K", 4096}, {"4kB", 4000}, {"2M", 2 << 20},
		{"0.5", 0}, {"8E", 0}, {"9223372036854775807", 9223372036854775807}, {"9223372036854775808", 0}, {"8191P", 8191 << 50},
		{"", 0}, {" 16G", 0}, {"16G ", 0}, {"G", 0}, {".5G", 0}, {"1,5G", 0}, {"-1", 0}, {"0x10", 0}, {"16 G B", 0}, {"١٦G", 0},
	} {
		got, err := ParseSize(c.s)
		if c.want == 0 {
			if err == nil {
				t.Errorf("ParseSize(%q) = %d, want an error", c.s, got)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("ParseSize(%q) = %d %v, want %d", c.s, got, err, c.want)
		}
	}
}

// FuzzParseSize: any text is a size above 0 or an error, never a panic;
// every byte count given plainly reads back as itself.
func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"16G", "500GB", "1.5T", "-16G", "0", "9223372036854775807", "8191.99999999P", "1e9", "16 GiB"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseSize(s)
		if err != nil {
			return
		}
		if n <= 0 {
			t.Fatalf("ParseSize(%q) = %d", s, n)
		}
		if back, err := ParseSize(strconv.FormatInt(n, 10)); err != nil || back != n {
			t.Fatalf("%d read back as %d %v", n, back, err)
		}
	})
}

// FuzzMatchPattern: matchPattern agrees with the same pattern as a
// regular expression, on values normalized the same way.
func FuzzMatchPattern(f *testing.F) {
	for _, s := range [][2]string{{"QEMU*", "QEMU HARDDISK"}, {"*a*b?c*", "xxaybzcc"}, {"S4EV?X0R*", "S4EVNX0R123456"}, {"**", ""}, {"a  b", "A B"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, value string) {
		if len(pattern) > 64 || len(value) > 256 {
			return
		}
		norm := func(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), " ")) }
		var re strings.Builder
		re.WriteString("^(?s)")
		for _, c := range norm(pattern) {
			switch c {
			case '*':
				re.WriteString(".*")
			case '?':
				re.WriteString(".")
			default:
				re.WriteString(regexp.QuoteMeta(string(c)))
			}
		}
		re.WriteString("$")
		want := regexp.MustCompile(re.String()).MatchString(norm(value))
		if got := matchPattern(pattern, value); got != want {
			t.Fatalf("matchPattern(%q, %q) = %v, regexp %s says %v", pattern, value, got, re.String(), want)
		}
	})
}

// FuzzParseTargetFlag: --target's value is a path, rules that hold
// together, or a usage error; never a panic.
func FuzzParseTargetFlag(f *testing.F) {
	for _, s := range []string{"auto", "/dev/sda", "bus=sata,min_size=16G", "bus=sata,bus=nvme,max_size=1.5TB", "model=QEMU*,removable=true",
		"min_size=16G,max_size=1G", "bus=", "serial==x", "bus=sata,,", "wwid=t10.ATA  QEMU"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		r, ok, err := ParseTargetFlag(v)
		switch {
		case !ok && (r != nil || err != nil):
			t.Fatalf("%q: a path, yet %+v %v", v, r, err)
		case err != nil && exitcode.KindOf(err) != exitcode.Usage:
			t.Fatalf("%q: %v is not a usage error", v, err)
		case r == nil:
			return
		}
		if r.MaxSize > 0 && r.MinSize > r.MaxSize || r.MinSize < 0 || r.MaxSize < 0 {
			t.Fatalf("%q: sizes %d..%d", v, r.MinSize, r.MaxSize)
		}
		for _, b := range r.Bus {
			if !slices.Contains(Buses, b) {
				t.Fatalf("%q: bus %q", v, b)
			}
		}
	})
}
