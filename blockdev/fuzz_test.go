package blockdev

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func addTestdataSeed(f *testing.F, name string) {
	b, err := os.ReadFile(filepath.Join("testdata", "proc", name))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(b))
}

func FuzzParseMountInfo(f *testing.F) {
	addTestdataSeed(f, "mountinfo")
	f.Add("36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue\n")
	f.Add("1 2 3:4 / / rw - - x y\n")
	f.Add("1 2 0:5 / /a\\040b rw shared:1 master:2 - tmpfs tmp\\134x rw\n\n")
	f.Add("1 2 x:y / / rw - ext4 /dev/sda1 rw\n")
	f.Add("1 2 8:1 / /\\04 rw - ext4 /dev/sda1\\")
	f.Fuzz(func(t *testing.T, data string) {
		mounts, err := parseMountInfo(strings.NewReader(data))
		if err != nil {
			return
		}
		if len(mounts) > strings.Count(data, "\n")+1 {
			t.Fatalf("%d mounts from %d lines", len(mounts), strings.Count(data, "\n")+1)
		}
		for _, m := range mounts {
			if _, _, ok := parseDevNumber(m.Dev); !ok {
				t.Fatalf("accepted bad device number %q", m.Dev)
			}
		}
	})
}

func FuzzParseSwaps(f *testing.F) {
	addTestdataSeed(f, "swaps")
	f.Add("Filename\tType\tSize\tUsed\tPriority\n/swap\\040file file 100 0 -2\n")
	f.Add("/dev/sda2 partition 1 0 -1")
	f.Add("\n\t \n\\\\\\0")
	f.Fuzz(func(t *testing.T, data string) {
		names, err := parseSwaps(strings.NewReader(data))
		if err != nil {
			return
		}
		for _, n := range names {
			if n == "" {
				t.Fatal("empty swap name")
			}
		}
		// A name the kernel escaped reads back as itself.
		if data == "" || strings.ContainsAny(data, "\n\r") {
			return
		}
		line := "Filename Type Size Used Priority\n" + escapeOctal(data) + "\tfile\t1\t0\t-2\n"
		got, err := parseSwaps(strings.NewReader(line))
		if err != nil || len(got) != 1 || got[0] != data {
			t.Fatalf("round trip of %q: %q, %v", data, got, err)
		}
	})
}

func FuzzMountInfoRoundTrip(f *testing.F) {
	f.Add("/media/user/MY STICK", "/dev/sdc1")
	f.Add(`/a\b`, "tmpfs")
	f.Add("/x\ty\nz", `\040`)
	f.Fuzz(func(t *testing.T, mountPoint, source string) {
		if mountPoint == "" || source == "" {
			return
		}
		line := fmt.Sprintf("31 27 8:33 / %s rw,relatime shared:33 - vfat %s rw\n", escapeOctal(mountPoint), escapeOctal(source))
		mounts, err := parseMountInfo(strings.NewReader(line))
		if err != nil || len(mounts) != 1 {
			t.Fatalf("parse %q: %v, %v", line, mounts, err)
		}
		if m := mounts[0]; m.MountPoint != mountPoint || m.Source != source || m.Dev != "8:33" || m.FSType != "vfat" {
			t.Fatalf("round trip: got %+v, want mount point %q source %q", m, mountPoint, source)
		}
	})
}

// escapeOctal escapes as the kernel's seq_file does for paths in mountinfo
// and swaps: space, tab, newline and backslash become \ooo.
func escapeOctal(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case ' ', '\t', '\n', '\\':
			fmt.Fprintf(&b, "\\%03o", c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
