//go:build linux

package installer

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onramp-os/onramp/images"
	"github.com/onramp-os/onramp/internal/testutil"
)

// TestCheckWriteTargetWarnsOfStickBackups: writing an image over an
// installer stick whose OSC-BACKUP partition holds backups gets a warning
// (a second confirmation) naming how many; a stick without any does not.
func TestCheckWriteTargetWarnsOfStickBackups(t *testing.T) {
	testutil.RequireTools(t, "sgdisk", "mkfs.fat", "mmd", "mcopy")
	dir := t.TempDir()
	image := filepath.Join(dir, "new.img")
	os.WriteFile(image, make([]byte, 1<<20), 0o644)
	src, err := images.Inspect(image)
	if err != nil {
		t.Fatal(err)
	}
	stick := filepath.Join(dir, "stick.img")
	os.WriteFile(stick, nil, 0o644)
	os.Truncate(stick, 256<<20)
	testutil.Run(t, "sgdisk", "-n", "1:2048:+64M", "-c", "1:"+BackupLabel, stick)
	testutil.Run(t, "mkfs.fat", "-F", "32", "-s", "1", "-S", "512", "--offset", "2048", stick, fmt.Sprint(64<<10))
	t.Setenv("MTOOLS_SKIP_CHECK", "1")
	fat := fmt.Sprintf("%s@@%d", stick, 2048*512)
	testutil.Run(t, "mmd", "-i", fat, "::/"+backupsDir)
	tar := filepath.Join(dir, "onramp-backup-sda-20261127T100000Z.tar")
	os.WriteFile(tar, []byte("archive"), 0o600)

	warned := func() []string {
		c, err := CheckWriteTarget(src, stick, false)
		if err != nil {
			t.Fatal(err)
		}
		var ws []string
		for _, w := range c.Warnings {
			if strings.Contains(w, BackupLabel) {
				ws = append(ws, w)
			}
		}
		return ws
	}
	if ws := warned(); len(ws) != 0 {
		t.Errorf("an empty OSC-BACKUP partition warns: %q", ws)
	}
	testutil.Run(t, "mcopy", "-i", fat, tar, "::/"+backupsDir+"/")
	testutil.Run(t, "mcopy", "-i", fat, tar, "::/not-a-backup.tar") // outside osc-backups: not counted
	if ws := warned(); len(ws) != 1 || !strings.Contains(ws[0], "holds 1 backup(s)") {
		t.Errorf("warnings %q, want one saying the stick holds 1 backup", ws)
	}
	// Not a stick at all: no table, no warning, no error.
	plain := filepath.Join(dir, "plain.img")
	os.WriteFile(plain, make([]byte, 4<<20), 0o644)
	if c, err := CheckWriteTarget(src, plain, false); err != nil || len(c.Warnings) != 0 {
		t.Errorf("plain file: %+v, %v", c, err)
	}
}
