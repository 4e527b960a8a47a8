package installer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/diskfs/go-diskfs/backend/file"
	"github.com/diskfs/go-diskfs/partition/gpt"
	"golang.org/x/sys/unix"

	"github.com/onramp-os/onramp/images"
	"github.com/onramp-os/onramp/internal/exitcode"
)

const chunkSize = 4 * mib

// writeAll writes every partition's content (not the table), makes it
// durable and verifies it; it returns the SHA-256 read back from SYS-A.
func (t *Target) writeAll(ctx context.Context, p *images.Payload, l Layout, settings, licenses Files, rep *reporter) (string, error) {
	m := p.Manifest
	files, err := espFiles(m)
	if err != nil {
		return "", err
	}
	rep.phase(PhaseWrite, 0)
	// BIOS boot and the head of SYS-B are zeroed: no stale boot code or
	// file system of an earlier install may be found there.
	zero := make([]byte, mib)
	if err := t.writeAt(zero, l.Part(LabelBIOS).Start); err != nil {
		return "", err
	}
	if err := t.writeAt(zero, l.Part(LabelSysB).Start); err != nil {
		return "", err
	}
	sys, _ := m.File(images.SystemName)
	if err := t.writeSystem(ctx, p, l.Part(LabelSysA).Start, sys.Size, rep); err != nil {
		return "", err
	}
	if err := t.sync(); err != nil {
		return "", err
	}
	// mkfs.fat, mcopy and mke2fs open the device themselves; our exclusive
	// open would stop them.
	if err := t.release(); err != nil {
		return "", err
	}
	if err := testPhase("esp"); err != nil {
		return "", err
	}
	if err := writeESP(ctx, t.Path, p, l.Part(LabelESP), files); err != nil {
		return "", err
	}
	if err := testPhase("data"); err != nil {
		return "", err
	}
	if err := makeData(ctx, t.Path, l.Part(LabelData), settings, licenses, nil); err != nil {
		return "", err
	}
	if err := t.open(); err != nil {
		return "", err
	}
	if err := t.sync(); err != nil {
		return "", err
	}
	t.dropCache()
	rep.phase(PhaseVerify, 0)
	sum, err := t.hashRange(ctx, l.Part(LabelSysA).Start, sys.Size, rep)
	if err != nil {
		return "", err
	}
	if sum != sys.SHA256 {
		return "", verifyFailed("%s reads back with SHA-256 %s, the payload's is %s", LabelSysA, sum, sys.SHA256)
	}
	if err := testPhase("verify"); err != nil {
		return "", err
	}
	if err := t.verifyESP(m, l.Part(LabelESP), files); err != nil {
		return "", err
	}
	return sum, nil
}

// writeSystem streams system.squashfs, checked against the manifest as it
// is read, raw to SYS-A.
func (t *Target) writeSystem(ctx context.Context, p *images.Payload, off, size int64, rep *reporter) error {
	r, err := p.Open(images.SystemName)
	if err != nil {
		return err
	}
	defer r.Close()
	buf := make([]byte, chunkSize)
	var done int64
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, rerr := io.ReadFull(r, buf)
		if n > 0 {
			if err := t.writeAt(buf[:n], off+done); err != nil {
				return err
			}
			done += int64(n)
			rep.bytes(PhaseWrite, done, size)
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			return nil
		}
		if rerr != nil {
			return rerr
		}
	}
}

// dropCache makes reads of an image file come from the disk, not the
// page cache (a block device's buffers are dropped by sync).
func (t *Target) dropCache() {
	if !t.Block {
		_ = unix.Fadvise(int(t.f.Fd()), 0, 0, unix.FADV_DONTNEED)
	}
}

// hashRange returns the SHA-256 of size bytes at off.
func (t *Target) hashRange(ctx context.Context, off, size int64, rep *reporter) (string, error) {
	h := sha256.New()
	buf := make([]byte, chunkSize)
	for done := int64(0); done < size; {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		n := min(int64(len(buf)), size-done)
		if _, err := t.f.ReadAt(buf[:n], off+done); err != nil {
			return "", verifyFailed("read back %s at %d: %v", t.Path, off+done, err)
		}
		h.Write(buf[:n])
		done += n
		rep.bytes(PhaseVerify, done, size)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// testHookPhase, when set by a test, may fail the install as a phase
// starts (failure injection for the phases run by external tools).
var testHookPhase func(phase string) error

func testPhase(phase string) error {
	if testHookPhase != nil {
		if err := testHookPhase(phase); err != nil {
			return fmt.Errorf("%s: %w", phase, err)
		}
	}
	return nil
}

// writeTable writes the GPT (backup copy first, then primary, each synced:
// go-diskfs' order), syncs, and tells the kernel.
func (t *Target) writeTable(l Layout) error {
	if testHookWrite != nil {
		if err := testHookWrite(0, l.SectorSize); err != nil {
			return fmt.Errorf("write partition table: %w", err)
		}
	}
	if err := l.table().Write(t.f, t.Size); err != nil {
		return fmt.Errorf("write partition table of %s: %w", t.Path, err)
	}
	if err := t.sync(); err != nil {
		return err
	}
	return t.rereadPartitions()
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
	if !sameFiles(got["settings"], settings) {
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
