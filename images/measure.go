package images

import (
	"context"
	"crypto/sha256"
	"errors"
	"hash"
	"io"
	"time"
)

// measureBufSize is the read size of measure.
const measureBufSize = 1 << 20

// measure reads an image whose format does not record its size through
// once, writing nothing, so that a block device too small for it is refused
// before it is touched (the size must not come from a trailer that can lie,
// as a gzip ISIZE can). It stops once the image is larger than the largest
// block device among ts: none of them can hold it, and files grow. With
// opt.Checksum the file's hash is checked too, so a damaged download
// changes no target; the write checks it again in its own read.
//
// On return p.measured is the size when the image was read through (else
// -1) and p.total the size for progress; p.exceeds is what was read when it
// stopped early. Progress goes to opt.Progress as
// PhaseMeasure, counting the bytes of the image file read.
func (p *pipeline) measure(ctx context.Context, ts []*target) error {
	limit := int64(0)
	for _, t := range ts {
		if t.block {
			limit = max(limit, t.devSize)
		}
	}
	var sum hash.Hash
	if p.opt.Checksum != nil {
		sum = sha256.New()
	}
	rd, err := p.src.open(sum)
	if err != nil {
		return err
	}
	defer rd.Close()
	buf := make([]byte, measureBufSize)
	meter := newRateMeter()
	report := func(final bool) {
		if p.opt.Progress == nil {
			return
		}
		done := rd.in.n
		if final {
			done = p.src.FileSize
		}
		rate := meter.add(time.Now(), done)
		p.opt.Progress(Progress{Target: p.src.Path, Phase: PhaseMeasure, Bytes: done, Total: p.src.FileSize,
			Rate: rate, ETA: eta(done, p.src.FileSize, rate)})
	}
	last := time.Now()
	var n int64
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		m, err := io.ReadFull(rd, buf)
		n += int64(m)
		if n > limit {
			// Larger than any block target: they are refused unchanged.
			p.exceeds = n
			return nil
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if err != nil {
			return err
		}
		if now := time.Now(); now.Sub(last) >= p.opt.ProgressInterval {
			report(false)
			last = now
		}
	}
	if n == 0 {
		return errEmptyImage(p.src.Path)
	}
	if sum != nil {
		if err := rd.hashRest(); err != nil {
			return err
		}
		if err := p.opt.Checksum.compare(p.src.Path, sum); err != nil {
			return err
		}
	}
	report(true)
	p.measured, p.total = n, n
	return nil
}
