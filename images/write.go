package images

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cespare/xxhash/v2"

	"github.com/onramp-os/onramp/internal/exitcode"
)

// headSize is the part of the image written last: partition tables, boot
// sectors and ISO system areas live there, so a stick whose write was cut
// short never looks bootable.
const headSize = 1 << 20

// Options tune Write.
type Options struct {
	Verify    bool // read every target back with direct I/O and compare
	ChunkSize int  // bytes per I/O, a multiple of 1 MiB; default 4 MiB
	Buffers   int  // chunks in flight between reading and writing; default 8
	// Progress, when set, is called from one goroutine a few times a second
	// and once at the end of each phase.
	Progress         func(Progress)
	ProgressInterval time.Duration // default 200 ms
}

func (o *Options) defaults() {
	if o.ChunkSize <= 0 {
		o.ChunkSize = 4 << 20
	}
	o.ChunkSize = int(roundUp(int64(o.ChunkSize), headSize))
	if o.Buffers <= 0 {
		o.Buffers = 8
	}
	if o.ProgressInterval <= 0 {
		o.ProgressInterval = 200 * time.Millisecond
	}
}

// Result is the outcome for one target.
type Result struct {
	Target   string
	Bytes    int64 // image bytes written
	Verified bool
	Warnings []string
	Err      error // kinds: Refused, VerifyFailed, ImageInvalid, Aborted, Failure
}

// chunk is one buffer of the image on its way to every target.
type chunk struct {
	buf  []byte // aligned, ChunkSize long; data is buf[:n]
	n    int
	off  int64
	zero bool // all bytes are zero (computed only when a target can skip them)
	refs atomic.Int32
}

// Write streams src onto every target at once from a single read of the
// image: reading and decompressing overlap writing, the first MiB is written
// last, each target is synced and, with Verify, read back and compared chunk
// by chunk. A failing target does not stop the others. Safety checks
// (blockdev.Drive.Check) are the caller's job and come before Write.
func Write(ctx context.Context, src Source, paths []string, opt Options) []Result {
	opt.defaults()
	results := make([]Result, len(paths))
	var live []*target
	var liveIdx []int
	size := int64(0)
	if src.SizeExact {
		size = src.Size
	}
	for i, p := range paths {
		results[i].Target = p
		t, err := openTarget(p, max(size, src.Size))
		if err != nil {
			results[i].Err = err
			continue
		}
		live = append(live, t)
		liveIdx = append(liveIdx, i)
	}
	if len(live) == 0 {
		return results
	}

	p := &pipeline{src: src, opt: opt, targets: live, total: src.Size}
	p.run(ctx)

	for j, t := range live {
		r := &results[liveIdx[j]]
		r.Bytes = t.written.Load()
		r.Err = t.err
		r.Verified = t.err == nil && opt.Verify
		r.Warnings = t.warnings
	}
	return results
}

type pipeline struct {
	src     Source
	opt     Options
	targets []*target
	total   int64 // image size for progress: exact, a lower bound, or 0 when unknown

	head []byte // first MiB of the image, written last
	// hashes holds one xxHash64 per chunk for the read-back. The threat is a
	// faulty or fake stick, not an adversary, so a fast non-cryptographic hash
	// is enough: SHA-256 costs ~0.6 s of CPU per GiB here, xxHash ~0.08 s,
	// and decompression needs that CPU.
	hashes  []uint64
	written int64 // image bytes read, known once reading ends
}

func (p *pipeline) run(ctx context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	stopProgress := p.reportProgress()
	defer stopProgress()

	readErr := p.stream(ctx, cancel)
	if readErr == nil && ctx.Err() != nil {
		readErr = ctx.Err()
	}

	var wg sync.WaitGroup
	for _, t := range p.targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.finish(ctx, t, readErr)
		}()
	}
	wg.Wait()
	for _, t := range p.targets {
		t.close()
	}
}

// stream reads the image once and feeds every target's writer.
func (p *pipeline) stream(ctx context.Context, cancel context.CancelFunc) error {
	rd, err := p.src.Open()
	if err != nil {
		return err
	}
	defer rd.Close()

	pool := make(chan []byte, p.opt.Buffers)
	for range p.opt.Buffers {
		b, err := alignedBuf(p.opt.ChunkSize)
		if err != nil {
			return err
		}
		defer freeAligned(b)
		pool <- b
	}
	if p.head, err = alignedBuf(headSize); err != nil {
		return err
	}

	skipZeros := false
	feeds := make([]chan *chunk, len(p.targets))
	var writers sync.WaitGroup
	var failed atomic.Int32
	for i, t := range p.targets {
		skipZeros = skipZeros || t.zeroFrom >= 0
		feeds[i] = make(chan *chunk, p.opt.Buffers)
		writers.Add(1)
		go func() {
			defer writers.Done()
			for c := range feeds[i] {
				if t.err == nil {
					if err := p.writeChunk(t, c); err != nil {
						t.err = err
						if int(failed.Add(1)) == len(p.targets) {
							cancel() // nobody left to write for
						}
					}
				}
				if c.refs.Add(-1) == 0 {
					pool <- c.buf
				}
			}
		}()
	}
	defer func() {
		for _, f := range feeds {
			close(f)
		}
		writers.Wait()
	}()

	var off int64
	for {
		var buf []byte
		select {
		case buf = <-pool:
		case <-ctx.Done():
			return ctx.Err()
		}
		n, err := io.ReadFull(rd, buf[:p.opt.ChunkSize])
		if n > 0 {
			c := &chunk{buf: buf, n: n, off: off}
			if off == 0 {
				copy(p.head, buf[:min(n, headSize)])
			}
			if p.opt.Verify {
				p.hashes = append(p.hashes, xxhash.Sum64(buf[:n]))
			}
			c.zero = skipZeros && allZero(buf[:n])
			c.refs.Store(int32(len(feeds)))
			for _, f := range feeds {
				f <- c
			}
			off += int64(n)
		} else {
			pool <- buf
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			p.written = off
			if off == 0 {
				return exitcode.New(exitcode.ImageInvalid, "%s: the image is empty", p.src.Path)
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", p.src.Path, err)
		}
	}
}

// writeChunk writes c to t, leaving out the head and zero chunks over a
// region of a file that is already a hole.
func (p *pipeline) writeChunk(t *target, c *chunk) error {
	data, off := c.buf[:c.n], c.off
	if off < headSize {
		skip := min(int64(len(data)), headSize-off)
		data, off = data[skip:], off+skip
	}
	if len(data) > 0 && !(c.zero && t.zeroFrom >= 0 && off >= t.zeroFrom) {
		t.touched = true
		if err := t.writeAt(data, off); err != nil {
			return err
		}
	}
	t.written.Add(int64(c.n))
	return nil
}

// finish completes one target after the stream ended: head, sync, verify;
// on any failure the head is cleared so the target does not boot half an
// image.
func (p *pipeline) finish(ctx context.Context, t *target, readErr error) {
	if t.err == nil && readErr != nil {
		t.err = readErr
	}
	if t.err == nil {
		t.err = p.complete(ctx, t)
	}
	if t.err == nil {
		t.phase.Store(PhaseDone)
		return
	}
	if errors.Is(t.err, context.Canceled) {
		t.err = exitcode.New(exitcode.Aborted, "interrupted: %s is incomplete and will not boot; write it again", t.path)
	}
	if t.touched {
		if err := p.clearHead(t); err != nil {
			t.warnings = append(t.warnings, fmt.Sprintf("could not clear the start of %s: %v", t.path, err))
		}
	}
}

func (p *pipeline) complete(ctx context.Context, t *target) error {
	if err := t.fitSize(p.written); err != nil {
		return err
	}
	t.touched = true
	if err := t.writeAt(p.head[:min(p.written, headSize)], 0); err != nil {
		return err
	}
	if err := t.sync(); err != nil {
		return err
	}
	if !p.opt.Verify {
		return nil
	}
	t.phase.Store(PhaseVerify)
	return p.verify(ctx, t)
}

// clearHead zeroes the start of a target whose write failed, so neither the
// old nor a half-written partition table is left.
func (p *pipeline) clearHead(t *target) error {
	n := int64(headSize)
	if t.devSize >= 0 {
		n = min(n, t.devSize)
	}
	if !t.block {
		fi, err := t.f.Stat()
		if err != nil {
			return err
		}
		n = min(n, fi.Size())
	}
	zero := make([]byte, n)
	if err := t.setDirect(false); err != nil {
		return err
	}
	if _, err := t.f.WriteAt(zero, 0); err != nil {
		return err
	}
	return t.sync()
}

var zeroBlock = make([]byte, 64<<10)

// allZero reports whether b holds only zero bytes, comparing against a zero
// block so the runtime's vectorised compare does the work.
func allZero(b []byte) bool {
	for len(b) > 0 {
		n := min(len(b), len(zeroBlock))
		if !bytes.Equal(b[:n], zeroBlock[:n]) {
			return false
		}
		b = b[n:]
	}
	return true
}
