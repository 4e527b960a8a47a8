package installer

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/diskfs/go-diskfs/partition/mbr"

	"github.com/onramp-os/onramp/internal/testutil"
)

// FuzzReadExisting feeds the reader of existing partition tables (GPT,
// then MBR and the FAT of layout 1) arbitrary first and last sectors of a
// small disk: it must never panic, only report what it found.
func FuzzReadExisting(f *testing.F) {
	l, err := PlanLayout(4<<30, 512, 64<<20)
	if err != nil {
		f.Fatal(err)
	}
	img := filepath.Join(f.TempDir(), "seed.img")
	os.WriteFile(img, nil, 0o644)
	os.Truncate(img, 4<<30)
	fh, _ := os.OpenFile(img, os.O_RDWR, 0)
	if err := l.table().Write(fh, 4<<30); err != nil {
		f.Fatal(err)
	}
	seed := make([]byte, 34*512)
	fh.ReadAt(seed, 0)
	fh.Close()
	f.Add(seed)
	huge := bytes.Clone(seed) // issue 22 A4: 2^24 partition entries
	binary.LittleEndian.PutUint32(huge[512+80:], 1<<24)
	f.Add(huge)
	f.Add(testutil.MBRWithOnePartition(4 << 30))
	m := testutil.MBRWithOnePartition(4 << 30)
	m[446+4] = byte(mbr.Fat32LBA)
	f.Add(m)
	f.Fuzz(func(t *testing.T, head []byte) {
		if len(head) > 64<<10 {
			return
		}
		p := filepath.Join(t.TempDir(), "disk.img")
		if err := os.WriteFile(p, head, 0o644); err != nil {
			t.Fatal(err)
		}
		os.Truncate(p, 64<<20)
		tg := &Target{Path: p, Size: 64 << 20, SectorSize: 512, readOnly: true}
		defer tg.Close()
		ex, err := tg.ReadExisting()
		if err != nil {
			return
		}
		if ex.Layout != 0 && ex.Layout != 1 && ex.Layout != LayoutVersion {
			t.Fatalf("layout %d", ex.Layout)
		}
	})
}
