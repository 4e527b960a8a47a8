package blockdev

import (
	"reflect"
	"testing"

	"github.com/onramp-os/onramp/internal/exitcode"
)

func TestCheck(t *testing.T) {
	const GB = 1_000_000_000
	stick := Drive{Name: "sdb", Path: "/dev/sdb", Size: 16 * GB, Removable: true, USB: true}
	with := func(change func(*Drive)) Drive {
		d := stick
		change(&d)
		return d
	}
	system := with(func(d *Drive) {
		d.System, d.Mounted, d.SystemUses = true, true, []string{"/", "swap"}
		d.InUse = []string{"/dev/sdb1 mounted on /"}
	})
	readOnly := with(func(d *Drive) { d.ReadOnly = true })
	mounted := with(func(d *Drive) {
		d.Mounted = true
		d.InUse = []string{"/dev/sdb1 mounted on /media/usb", "/dev/sdb2 held by dm-0"}
	})
	fixed := with(func(d *Drive) { d.Removable, d.USB, d.Transport = false, false, "sata" })
	usbDisk := with(func(d *Drive) { d.Removable = false })
	small := with(func(d *Drive) { d.Size = 1 * GB })
	big := with(func(d *Drive) { d.Size = 256 * GB })

	tests := []struct {
		name     string
		d        Drive
		image    int64
		force    bool
		wantErr  string
		warnings []string
	}{
		{"stick", stick, 2 * GB, false, "", nil},
		{"usb disk not removable", usbDisk, 2 * GB, false, "", nil},
		{"system", system, 1, false, "/dev/sdb is the system disk (it holds /, swap)", nil},
		{"system forced", system, 1, true, "/dev/sdb is the system disk (it holds /, swap)", nil},
		{"system without uses", with(func(d *Drive) { d.System = true }), 1, true,
			"/dev/sdb is the system disk (it holds the running system)", nil},
		{"system before too small", with(func(d *Drive) { d.System = true; d.SystemUses = []string{"/boot"} }), 100 * GB, true,
			"/dev/sdb is the system disk (it holds /boot)", nil},
		{"read-only", readOnly, 1, false, "/dev/sdb is read-only (write-protect switch?); use --force to try anyway", nil},
		{"read-only forced", readOnly, 1, true, "", []string{"/dev/sdb is read-only; trying anyway (--force)"}},
		{"read-only before mounted", with(func(d *Drive) { d.ReadOnly, d.Mounted = true, true }), 1, false,
			"/dev/sdb is read-only (write-protect switch?); use --force to try anyway", nil},
		{"mounted", mounted, 1, false,
			"/dev/sdb is in use: /dev/sdb1 mounted on /media/usb; /dev/sdb2 held by dm-0; unmount it first or use --force", nil},
		{"mounted forced", mounted, 1, true, "",
			[]string{"/dev/sdb is in use (/dev/sdb1 mounted on /media/usb; /dev/sdb2 held by dm-0); writing anyway (--force)"}},
		{"not removable", fixed, 1, false, "/dev/sdb is not a removable or USB drive; use --force if you are sure", nil},
		{"not removable forced", fixed, 1, true, "",
			[]string{"/dev/sdb is not a removable or USB drive; writing anyway (--force)"}},
		{"too small", small, 1_200_000_000, false, "image needs 1.2 GB, /dev/sdb holds 1.0 GB", nil},
		{"too small forced", small, 1_200_000_000, true, "image needs 1.2 GB, /dev/sdb holds 1.0 GB", nil},
		{"exactly fits", small, 1 * GB, false, "",
			[]string{"/dev/sdb (1.0 GB) is smaller than the 4 GB the installer needs"}},
		{"4 GB is enough", with(func(d *Drive) { d.Size = 4 * GB }), 1, false, "", nil},
		{"big", big, 1, false, "", []string{"/dev/sdb (256.0 GB) is larger than 128 GB: is this really a USB stick?"}},
		{"128 GB is a stick", with(func(d *Drive) { d.Size = 128 * GB }), 1, false, "", nil},
		{"all forced", with(func(d *Drive) {
			d.ReadOnly, d.Removable, d.USB, d.Size = true, false, false, 2*GB
		}), 1, true, "", []string{
			"/dev/sdb is read-only; trying anyway (--force)",
			"/dev/sdb is not a removable or USB drive; writing anyway (--force)",
			"/dev/sdb (2.0 GB) is smaller than the 4 GB the installer needs",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			warnings, err := tt.d.Check(tt.image, tt.force)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Check = %v, want no error", err)
				}
			} else {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("Check = %v, want %q", err, tt.wantErr)
				}
				if k := exitcode.KindOf(err); k != exitcode.Refused || exitcode.Code(err) != 3 {
					t.Errorf("kind = %v (exit %d), want refused (3)", k, exitcode.Code(err))
				}
			}
			if !reflect.DeepEqual(warnings, tt.warnings) {
				t.Errorf("warnings = %q, want %q", warnings, tt.warnings)
			}
		})
	}
}

func TestDescribe(t *testing.T) {
	tests := []struct {
		d    Drive
		want string
	}{
		{Drive{Path: "/dev/sdb", Size: 15_631_122_432, Vendor: "SanDisk ", Model: " Cruzer Blade  "}, "SanDisk Cruzer Blade (15.6 GB, /dev/sdb)"},
		{Drive{Path: "/dev/nvme0n1", Size: 500_107_862_016, Model: "Samsung SSD 970 EVO Plus 500GB"}, "Samsung SSD 970 EVO Plus 500GB (500.1 GB, /dev/nvme0n1)"},
		{Drive{Path: "/dev/sdc", Size: 8_000_000_000, Vendor: "Kingston", Model: "Kingston DataTraveler"}, "Kingston DataTraveler (8.0 GB, /dev/sdc)"},
		{Drive{Path: "/dev/sdd", Size: 2_000_000_000, Vendor: "Generic"}, "Generic (2.0 GB, /dev/sdd)"},
		{Drive{Path: "/dev/loop0", Size: 67_108_864}, "unnamed disk (67.1 MB, /dev/loop0)"},
		{Drive{Path: "/dev/sde", Size: 4096, Vendor: "  ", Model: "\t"}, "unnamed disk (4.1 kB, /dev/sde)"},
	}
	for _, tt := range tests {
		if got := tt.d.Describe(); got != tt.want {
			t.Errorf("Describe(%+v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestHumanSize(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{0, "0 B"},
		{999, "999 B"},
		{1000, "1.0 kB"},
		{4000, "4.0 kB"},
		{999_949, "999.9 kB"},
		{999_950, "1.0 MB"},
		{512_000_000, "512.0 MB"},
		{15_631_122_432, "15.6 GB"},
		{4_000_000_000, "4.0 GB"},
		{2_000_398_934_016, "2.0 TB"},
		{9_223_372_036_854_775_807, "9.2 EB"},
		{-1500, "-1.5 kB"},
	}
	for _, tt := range tests {
		if got := HumanSize(tt.n); got != tt.want {
			t.Errorf("HumanSize(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

func TestCandidates(t *testing.T) {
	ds := []Drive{
		{Name: "sda", System: true, Removable: true},
		{Name: "sdb", USB: true},
		{Name: "sdc", Removable: true, Mounted: true},
		{Name: "nvme0n1"},
		{Name: "sdd", USB: true, System: true},
	}
	var got []string
	for _, d := range Candidates(ds) {
		got = append(got, d.Name)
	}
	if want := []string{"sdb", "sdc"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Candidates = %v, want %v", got, want)
	}
	if Candidates(nil) != nil {
		t.Error("Candidates(nil) not empty")
	}
}
