package images

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"hash"
	"io"
	"time"

	"github.com/onramp-os/onramp/internal/exitcode"
)

// CompareOptions tune Compare.
type CompareOptions struct {
	// Bmap, when set, limits the comparison to the ranges it maps (widened
	// to whole 4 KiB blocks, and the first MiB, as Write writes them), each
	// checked against its checksum as the image streams past.
	Bmap *Bmap
	// Checksum, when set, is the image file's published SHA-256, checked in
	// the same read.
	Checksum *Checksum
	Progress func(Progress)
}

// compareChunk is the image bytes Compare reads at a time.
const compareChunk = 4 << 20

// Compare reads path (a block device or file) with direct I/O and checks that
// it holds the image's bytes from its start (with a bmap, in the mapped
// ranges), returning how many bytes it compared. A difference is a
// VerifyFailed error naming the first differing byte, but only once the
// image itself has been read to its end and found intact (its compressed
// stream's own checks, opt.Checksum, the bmap's range checksums): a damaged
// image is an ImageInvalid error, the stick is not blamed for it.
func Compare(ctx context.Context, src Source, path string, opt CompareOptions) (int64, error) {
	if opt.Checksum != nil {
		if err := opt.Checksum.check(); err != nil {
			return 0, err
		}
	}
	var p pipeline // for its bmap cursor
	var check *bmapCheck
	if b := opt.Bmap; b != nil {
		if err := b.Check(src); err != nil {
			return 0, err
		}
		p.mapping = widenMapping(b)
		check = &bmapCheck{b: b, image: src.Path, h: b.newHash()}
	}
	var sum hash.Hash
	if opt.Checksum != nil {
		sum = sha256.New()
	}
	rd, err := src.open(sum)
	if err != nil {
		return 0, err
	}
	defer rd.Close()
	f, direct, err := openDirect(path)
	if err != nil {
		return 0, fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	rt := &target{path: path, f: f, direct: direct, align: 4096}

	got, err := alignedBuf(compareChunk)
	if err != nil {
		return 0, err
	}
	defer freeAligned(got)
	want := make([]byte, compareChunk)
	// Only where the image can be found damaged is it worth reading on
	// past a difference.
	checkable := src.Format != Raw || sum != nil || check != nil
	meter := newRateMeter()
	mapped := int64(0)
	if opt.Bmap != nil {
		mapped = opt.Bmap.MappedBytes()
	}
	report := func(done int64, final bool) {
		if opt.Progress == nil {
			return
		}
		total := int64(0)
		if src.SizeExact {
			total = src.Size
		}
		rate := meter.add(time.Now(), done)
		ph := PhaseVerify
		if final {
			ph = PhaseDone
		}
		opt.Progress(Progress{Target: path, Phase: ph, Bytes: done, Total: total, Mapped: mapped, Rate: rate, ETA: eta(done, total, rate)})
	}
	var off, compared int64
	var diff error // the first difference, reported once the image proved intact
	last := time.Now()
	for {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		n, rerr := io.ReadFull(rd, want)
		if rerr != nil && rerr != io.EOF && rerr != io.ErrUnexpectedEOF {
			return 0, rerr // the image's own error: damaged or unreadable
		}
		if n > 0 {
			if b := opt.Bmap; b != nil && off+int64(n) > b.ImageSize {
				return 0, exitcode.New(exitcode.ImageInvalid, "bmap %s: ImageSize %d, but %s is larger", b.Path, b.ImageSize, src.Path)
			}
			if check != nil {
				if err := check.feed(off, want[:n]); err != nil {
					return 0, err
				}
			}
			if diff == nil {
				m, err := compareSpans(rt, got, want[:n], off, p.spansIn(off, off+int64(n)))
				compared += m
				if err != nil && exitcode.KindOf(err) != exitcode.VerifyFailed {
					return 0, err
				}
				diff = err
			}
			if diff != nil && !checkable {
				return 0, diff
			}
			off += int64(n)
		}
		if rerr != nil { // the end of the image
			break
		}
		if time.Since(last) > 200*time.Millisecond {
			report(off, false)
			last = time.Now()
		}
	}
	if off == 0 {
		return 0, errEmptyImage(src.Path)
	}
	if b := opt.Bmap; b != nil && off != b.ImageSize {
		return 0, exitcode.New(exitcode.ImageInvalid, "bmap %s: ImageSize %d, but %s holds %d bytes", b.Path, b.ImageSize, src.Path, off)
	}
	if sum != nil {
		if err := rd.hashRest(); err != nil {
			return 0, err
		}
		if err := opt.Checksum.compare(src.Path, sum); err != nil {
			return 0, err
		}
	}
	if diff != nil {
		return 0, diff
	}
	report(off, true)
	return compared, nil
}

// compareSpans compares the spans of want (image bytes from off) with what
// f holds there, reading into the aligned buffer got. It returns the bytes
// compared; a difference is a VerifyFailed error.
func compareSpans(rt *target, got, want []byte, off int64, spans []extent) (int64, error) {
	path := rt.path
	var n int64
	for _, s := range spans {
		lo, hi := s.off-off, s.end-off
		m, err := rt.readAt(got[lo:roundUp(hi, 4096)], s.off)
		if err != nil {
			return n, err
		}
		if int64(m) < hi-lo {
			return n, exitcode.New(exitcode.VerifyFailed, "%s ends at byte %d, before the image does", path, s.off+int64(m))
		}
		if !bytes.Equal(got[lo:hi], want[lo:hi]) {
			for i := lo; i < hi; i++ {
				if got[i] != want[i] {
					return n, exitcode.New(exitcode.VerifyFailed, "%s differs from the image at byte %d (offset 0x%x)", path, off+i, off+i)
				}
			}
		}
		n += hi - lo
	}
	return n, nil
}
