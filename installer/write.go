package installer

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/diskfs/go-diskfs/backend/file"
	"github.com/diskfs/go-diskfs/partition/gpt"

	"github.com/onramp-os/onramp/images"
	"github.com/onramp-os/onramp/internal/exitcode"
)

// writeAll writes every partition's content (not the table), makes it
// durable and verifies it; it returns the SHA-256 read back from SYS-A.
func (t *Target) writeAll(ctx context.Context, p *images.Payload, plan *Plan, settings, licenses Files, firstBoot []byte, rep *reporter) (string, error) {
	m, l := p.Manifest, plan.Layout
	files, err := espFiles(m)
	if err != nil {
		return "", err
	}
	rep.phase(PhaseWrite, 0)
	// ONRAMP-BIOS gets GRUB's core.img (the MBR its boot code) or zeros,
	// and the head of SYS-B zeros: no stale boot code or file system of an
	// earlier install may be found there.
	if err := t.writeBIOSBoot(plan.bios, l.Part(LabelBIOS)); err != nil {
		return "", err
	}
	if err := t.writeAt(make([]byte, mib), l.Part(LabelSysB).Start); err != nil {
		return "", err
	}
	if err := t.sync(); err != nil {
		return "", err
	}
	// The image writer opens the target itself (exclusively), as do
	// mkfs.fat, mcopy and mke2fs after it.
	if err := t.release(); err != nil {
		return "", err
	}
	// ESP and DATA are made while SYS-A's last chunks are still read back.
	sum, err := t.writeSystem(ctx, p, l.Part(LabelSysA).Start, rep, func() error {
		if err := testPhase("esp"); err != nil {
			return err
		}
		if err := writeESP(ctx, t.Path, p, l.Part(LabelESP), files); err != nil {
			return err
		}
		if err := testPhase("data"); err != nil {
			return err
		}
		return makeData(ctx, t.Path, l.Part(LabelData), settings, licenses, nil, firstBoot)
	})
	if err != nil {
		return "", err
	}
	if err := t.open(); err != nil {
		return "", err
	}
	if err := t.sync(); err != nil {
		return "", err
	}
	rep.phase(PhaseVerify, 0)
	if err := testPhase("verify"); err != nil {
		return "", err
	}
	if err := t.verifyESP(m, l.Part(LabelESP), files); err != nil {
		return "", err
	}
	return sum, nil
}

// writeSystem streams system.squashfs raw to SYS-A with the image writer's
// direct I/O, reading each chunk back from the medium as the next ones are
// written, and runs meanwhile (once all is written) while the rest is read
// back; it returns the manifest's SHA-256, which every chunk read back
// matched.
func (t *Target) writeSystem(ctx context.Context, p *images.Payload, off int64, rep *reporter, meanwhile func() error) (string, error) {
	sys, _ := p.Manifest.File(images.SystemName)
	paused := false
	err := p.WriteFile(ctx, images.SystemName, t.Path, off, images.WriteFileOptions{
		Progress: func(written, _ int64) { rep.bytes(PhaseWrite, written, sys.Size) },
		BeforeWrite: func(at int64, n int) error {
			if testHookWrite != nil {
				if err := testHookWrite(at, n); err != nil {
					return err
				}
			}
			if at > off && !paused { // a chunk is on the disk: mid-write
				paused = true
				return testPhase("write")
			}
			return nil
		},
		WhileVerifying: meanwhile,
	})
	if err != nil {
		return "", err
	}
	return sys.SHA256, nil
}

// testHookPhase, when set by a test, may fail the install as a phase
// starts (failure injection for the phases run by external tools).
var testHookPhase func(phase string) error

func testPhase(phase string) error {
	pauseAt(phase)
	if testHookPhase != nil {
		if err := testHookPhase(phase); err != nil {
			return fmt.Errorf("%s: %w", phase, err)
		}
	}
	return nil
}

// writeTable writes the GPT (backup copy first, then primary, each synced:
// go-diskfs' order) and only then the protective MBR, syncs, and tells the
// kernel. go-diskfs would write the MBR first; last, a process killed
// half-way leaves no protective MBR, without which neither firmware nor
// kernel read the GPT.
func (t *Target) writeTable(l Layout) error {
	pauseAt("table")
	if testHookWrite != nil {
		if err := testHookWrite(0, l.SectorSize); err != nil {
			return fmt.Errorf("write partition table: %w", err)
		}
	}
	tbl := l.table()
	tbl.ProtectiveMBR = false
	if err := tbl.Write(t.f, t.Size); err != nil {
		return fmt.Errorf("write partition table of %s: %w", t.Path, err)
	}
	if err := t.sync(); err != nil {
		return err
	}
	pauseAt("table-mbr")
	if _, err := t.f.WriteAt(protectiveMBR(t.Size/int64(l.SectorSize)), mbrEntries); err != nil {
		return fmt.Errorf("write protective MBR of %s: %w", t.Path, err)
	}
	if err := t.sync(); err != nil {
		return err
	}
	return t.rereadPartitions()
}

// mbrEntries is the offset of the MBR partition entries; the boot code
// before them is left alone.
const mbrEntries = 446

// protectiveMBR is the MBR from its partition entries to its signature for
// a GPT disk of sectors logical sectors: one entry of type 0xEE covering
// the disk from LBA 1 (as go-diskfs writes it; capped at 2^32-1 sectors).
func protectiveMBR(sectors int64) []byte {
	b := make([]byte, 512-mbrEntries)
	b[4] = 0xee
	binary.LittleEndian.PutUint32(b[8:], 1)
	binary.LittleEndian.PutUint32(b[12:], uint32(min(sectors-1, 0xffffffff)))
	b[len(b)-2], b[len(b)-1] = 0x55, 0xaa
	return b
}

// verifyData reads DATA back through the table just written and compares
// settings and licenses with what was meant to be restored.
func (t *Target) verifyData(settings, licenses Files) error {
	t.dropCache()
	tbl, err := gpt.Read(file.New(t.f, true), t.SectorSize, t.SectorSize)
	if err != nil {
		return verifyFailed("read back the partition table of %s: %v", t.Path, err)
	}
	var start int64 = -1
	for _, p := range tbl.Partitions {
		if p.Name == LabelData {
			start = int64(p.Start) * int64(t.SectorSize)
		}
	}
	if start < 0 {
		return verifyFailed("the partition table read back from %s has no %s", t.Path, LabelData)
	}
	got, err := dumpData(t.Path, start, "settings", "licenses")
	if err != nil {
		return verifyFailed("read back %s: %v", LabelData, err)
	}
	// The directories that lead to the settings (etc, var/lib) are not
	// settings themselves.
	if !sameFiles(selectSettings(got["settings"]), settings) {
		return verifyFailed("settings read back from %s differ from the backup", LabelData)
	}
	if !sameFiles(got["licenses"], licenses) {
		return verifyFailed("licenses read back from %s differ from the backup", LabelData)
	}
	return nil
}

// checkBackupDir makes sure backups can go to dir and that dir is not on
// the target itself.
func checkBackupDir(dir string, t *Target) error {
	if dir == "" {
		return exitcode.New(exitcode.Usage, "no backup directory given")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return refusedBackup(err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return refusedBackup(err)
	}
	if t.Drive != nil {
		if disk, ok := diskOfPath(abs); ok && disk == t.Drive.Name {
			return exitcode.New(exitcode.Refused, "the backup directory %s is on the target %s itself", dir, t.Path)
		}
	}
	return nil
}

// reporter turns install steps into images.Progress reports.
type reporter struct {
	target string
	fn     func(images.Progress)
	start  time.Time
	last   time.Time
}

func newReporter(target string, fn func(images.Progress)) *reporter {
	return &reporter{target: target, fn: fn}
}

// phase reports the start of a phase.
func (r *reporter) phase(ph images.Phase, total int64) {
	if r == nil || r.fn == nil {
		return
	}
	r.start = time.Now()
	r.fn(images.Progress{Target: r.target, Phase: ph, Total: total, ETA: -1})
}

// bytes reports progress within a phase, at most every 200 ms and at the end.
func (r *reporter) bytes(ph images.Phase, done, total int64) {
	if r == nil || r.fn == nil {
		return
	}
	now := time.Now()
	if done < total && now.Sub(r.last) < 200*time.Millisecond {
		return
	}
	r.last = now
	if r.start.IsZero() {
		r.start = now
	}
	rate := float64(done) / max(now.Sub(r.start).Seconds(), 1e-3)
	eta := time.Duration(-1)
	if rate > 0 {
		eta = time.Duration(float64(total-done) / rate * float64(time.Second))
	}
	r.fn(images.Progress{Target: r.target, Phase: ph, Bytes: done, Total: total, Rate: rate, ETA: eta})
}
