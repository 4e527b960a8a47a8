package medium

import (
	"bytes"
	"testing"
)

func TestVolumeLabel(t *testing.T) {
	for version, want := range map[string]string{
		"12.5.0":                     "OSC_12_5_0",
		"12.5.0-rc1+dev":             "OSC_12_5_0_RC1_DEV",
		"2026.11 beta":               "OSC_2026_11_BETA",
		"1.2.3.4.5.6.7.8.9.10.11.12": "OSC_1_2_3_4_5_6_7_8_9_10_11_12",
		"a-very-long-version-string-beyond-the-limit": "OSC_A_VERY_LONG_VERSION_STRING_B",
	} {
		if got := VolumeLabel(version); got != want || len(got) > 32 {
			t.Errorf("VolumeLabel(%q) = %q, want %q", version, got, want)
		}
	}
}

func TestCHS(t *testing.T) {
	for lba, want := range map[int64][]byte{
		0:             {0, 1, 0},
		1:             {0, 2, 0},
		31:            {0, 32, 0},
		32:            {1, 1, 0},
		2048:          {0, 1, 1},        // cylinder 1 of 64x32
		256 * 2048:    {0, 1 | 1<<6, 0}, // cylinder 256: high bits in the sector byte
		1024*2048 - 1: {63, 32 | 3<<6, 255},
		1024 * 2048:   {0xfe, 0xff, 0xff},
	} {
		if got := chs(lba); !bytes.Equal(got, want) {
			t.Errorf("chs(%d) = % x, want % x", lba, got, want)
		}
	}
}

func TestLayout(t *testing.T) {
	// A 100 MiB ISO with a 10 MiB EFI image at block 40.
	l, err := newLayout(100<<20, 40, 10<<20, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if l.total%alignSectors != 0 || l.total < l.isoEnd+1+gptEntrySectors {
		t.Errorf("total %d sectors for an ISO of %d", l.total, l.isoEnd)
	}
	parts := l.partitions()
	for i, p := range parts {
		if p.first > p.last || p.first < firstUsableLBA || p.last > l.total-2-gptEntrySectors {
			t.Errorf("partition %d: %d..%d outside the usable sectors", i+1, p.first, p.last)
		}
		if i > 0 && p.first != parts[i-1].last+1 {
			t.Errorf("partition %d starts at %d, partition %d ends at %d: gap or overlap", i+1, p.first, i, parts[i-1].last)
		}
	}
	if parts[1].first != 160 || parts[1].last != 160+20480-1 || parts[2].last != l.isoEnd-1 {
		t.Errorf("partitions %+v", parts)
	}
	if len(parts) != 3 {
		t.Errorf("%d partitions without a backup partition", len(parts))
	}
	for name, args := range map[string][4]int64{
		"EFI image in the system area": {100 << 20, 10, 10 << 20, 0},
		"EFI image past the ISO":       {10 << 20, 40, 10 << 20, 0},
		"EFI image not whole blocks":   {100 << 20, 40, 10<<20 + 512, 0},
	} {
		if _, err := newLayout(args[0], args[1], args[2], args[3], 0); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestLayoutBackupPartition: the backup partition starts at the first MiB
// boundary after the ISO, is as large as asked, and the backup GPT follows.
func TestLayoutBackupPartition(t *testing.T) {
	l, err := newLayout(100<<20+2048, 40, 10<<20, 0, 64<<20)
	if err != nil {
		t.Fatal(err)
	}
	parts := l.partitions()
	if len(parts) != 4 {
		t.Fatalf("partitions %+v", parts)
	}
	b := parts[3]
	if b.name != "OSC-BACKUP" || b.first != 101*2048 || b.last-b.first+1 != 64<<20/sector || b.attrs != 0 {
		t.Errorf("backup partition %+v", b)
	}
	if b.first <= parts[2].last || l.total < b.last+2+gptEntrySectors || l.total%alignSectors != 0 {
		t.Errorf("layout %+v", l)
	}
}

func TestReadBootCatalogRefusesNonISO(t *testing.T) {
	if _, err := readBootCatalog(bytes.NewReader(make([]byte, 64<<10))); err == nil {
		t.Error("zeros: no error")
	}
}
