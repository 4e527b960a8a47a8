package images

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cespare/xxhash/v2"

	"github.com/onramp-os/onramp/blockdev"
	"github.com/onramp-os/onramp/internal/exitcode"
)

// headSize is the part of the image written last: partition tables, boot
// sectors and ISO system areas live there, so a stick whose write was cut
// short never looks bootable.
const headSize = 1 << 20

// Options tune Write.
type Options struct {
	Verify bool // read every target back with direct I/O and compare
	// ChunkSize is the bytes per I/O, a multiple of 1 MiB; default 1 MiB.
	// Buffers is how many chunks are in flight between reading and writing;
	// default 4. Small chunks and few of them keep the data in the CPU's
	// caches between the read and the write: 8 chunks of 4 MiB made osc
	// slower than dd writing onto a device as fast as memory (make bench,
	// host cache), and a slow device gains nothing from more.
	ChunkSize int
	Buffers   int
	// Progress, when set, is called from one goroutine a few times a second
	// and once at the end of each phase.
	Progress         func(Progress)
	ProgressInterval time.Duration // default 200 ms
	// Bmap, when set, is the image's block map (LoadBmap): only its ranges
	// are written and verified, each checked against its checksum as the
	// image streams past; the target is made to read zeros elsewhere
	// (blockZeroMethod; a file gets holes).
	Bmap *Bmap
	// Checksum, when set, is the image file's published SHA-256
	// (ExpectedChecksum). The file is hashed in the single read that feeds
	// the targets and compared before the first MiB is written: what was
	// checked is what was written, and a file that does not match leaves
	// every target with zeros where a partition table would be.
	Checksum *Checksum
}

func (o *Options) defaults() {
	if o.ChunkSize <= 0 {
		o.ChunkSize = 1 << 20
	}
	o.ChunkSize = int(roundUp(int64(o.ChunkSize), headSize))
	if o.Buffers <= 0 {
		o.Buffers = 4
	}
	if o.ProgressInterval <= 0 {
		o.ProgressInterval = 200 * time.Millisecond
	}
}

// Result is the outcome for one target.
type Result struct {
	Target   string
	Bytes    int64 // image bytes written
	Mapped   int64 // with a bmap: the image bytes it maps, which were written and verified; else 0
	Verified bool
	Checksum bool // the image file matched opt.Checksum
	Changed  bool // the target was written to (its first MiB zeroed at least); false: left as it was
	Warnings []string
	Err      error // kinds: Refused, VerifyFailed, ImageInvalid, Aborted, Failure
}

// extent is a range of image bytes, [off, end).
type extent struct{ off, end int64 }

// chunk is one buffer of the image on its way to every target.
type chunk struct {
	buf    []byte // aligned, ChunkSize long; data is buf[:n]
	n      int
	off    int64
	mapped []extent // the parts to write and verify (all of it without a bmap); the rest is made to read zeros
	zero   bool     // all bytes are zero (computed only when a target can zero more cheaply than write)
	refs   atomic.Int32
}

// mapAlign is the granularity of what a bmap maps as written: ranges are
// widened to it so every write and read-back is aligned for direct I/O.
const mapAlign = 4096

// Write streams src onto every target at once from a single read of the
// image: reading and decompressing overlap writing, each target is synced
// and, with Verify, read back and compared chunk by chunk. A failing target
// does not stop the others. Chunks of zeros are not written where making the
// target read zeros is cheaper (a hole punched in a file, a discard on a
// device that reads zeros after one). With opt.Bmap only its ranges are
// written and verified, the rest made to read zeros. Safety checks
// (blockdev.Drive.Check) are the caller's job and come before Write.
//
// The order protects what is on a target for as long as the write may not
// happen, and leaves nothing bootable when it is cut short:
//
//  1. the bmap is checked against the image, the targets are opened (a
//     file target is created or grown, a device not written) and the
//     image's size checked against each device; an image
//     whose size its format does not record (.gz, .bz2, some .zst) is read
//     through once first when a block device could be too small for it,
//     and with opt.Checksum its hash is checked in that read too;
//  2. the first MiB of every target is zeroed and synced;
//  3. the image streams onto the targets from one read, its file hashed on
//     the way, the first MiB held back;
//  4. the hash is compared with opt.Checksum;
//  5. the first MiB is written, each target synced, then read back.
//
// A failure in 3 to 5 (kill -9 included, after 2) leaves the first MiB
// zero.
func Write(ctx context.Context, src Source, paths []string, opt Options) []Result {
	opt.defaults()
	results := make([]Result, len(paths))
	for i, p := range paths {
		results[i].Target = p
	}
	failAll := func(err error) []Result {
		for i := range results {
			if results[i].Err == nil {
				results[i].Err = err
			}
		}
		return results
	}
	if c := opt.Checksum; c != nil {
		if err := c.check(); err != nil {
			return failAll(err)
		}
	}
	if opt.Bmap != nil {
		if err := opt.Bmap.Check(src); err != nil {
			return failAll(err)
		}
	}
	size := int64(0)
	if src.SizeExact {
		size = src.Size
	}
	var opened []*target
	var openedIdx []int
	for i, p := range paths {
		t, err := openTarget(p, max(size, src.Size))
		if err != nil {
			results[i].Err = err
			continue
		}
		opened = append(opened, t)
		openedIdx = append(openedIdx, i)
	}
	p := &pipeline{src: src, opt: opt, total: src.Size, measured: -1}
	if !src.SizeExact && anyBlock(opened) {
		if err := p.measure(ctx, opened); err != nil {
			for _, t := range opened {
				t.err = err
				if errors.Is(err, context.Canceled) {
					t.err = exitcode.New(exitcode.Aborted, "interrupted before writing: %s was not changed", t.path)
				}
			}
		}
	}
	var live []*target
	var liveIdx []int
	for j, t := range opened {
		switch {
		case t.err != nil || !t.block:
		case p.exceeds > t.devSize:
			t.err = exitcode.New(exitcode.Refused, "%s is too small: the image is larger than its %s; it was not changed",
				t.path, blockdev.HumanSize(t.devSize))
		case p.measured > t.devSize:
			t.err = exitcode.New(exitcode.Refused, "%s is too small: the image needs %s, the drive holds %s; it was not changed",
				t.path, blockdev.HumanSize(p.measured), blockdev.HumanSize(t.devSize))
		}
		if t.err == nil {
			t.err = t.zeroHead()
		}
		if t.err != nil {
			r := &results[openedIdx[j]]
			r.Err, r.Changed, r.Warnings = t.err, t.touched, t.warnings
			t.close()
			continue
		}
		live = append(live, t)
		liveIdx = append(liveIdx, openedIdx[j])
	}
	if len(live) == 0 {
		return results
	}

	p.targets = live
	if b := opt.Bmap; b != nil {
		p.mapping = widenMapping(b)
		p.check = &bmapCheck{b: b, image: src.Path, h: b.newHash()}
		p.mapped = b.MappedBytes()
	}
	p.run(ctx)

	for j, t := range live {
		r := &results[liveIdx[j]]
		r.Bytes = t.written.Load()
		r.Mapped = p.mapped
		r.Err = t.err
		r.Verified = t.err == nil && opt.Verify
		r.Checksum = p.sumMatched
		r.Changed = t.touched
		r.Warnings = t.warnings
	}
	return results
}

func errEmptyImage(path string) error {
	return exitcode.New(exitcode.ImageInvalid, "%s: the image is empty", path)
}

func anyBlock(ts []*target) bool {
	for _, t := range ts {
		if t.block {
			return true
		}
	}
	return false
}

type pipeline struct {
	src     Source
	opt     Options
	targets []*target
	total   int64 // image size for progress: exact, a lower bound, or 0 when unknown
	// measured is the image's size as measure read it, -1 when it did not
	// read it through.
	measured   int64
	exceeds    int64 // measure stopped after this many bytes: more than any block target holds
	sumMatched bool  // the image file's SHA-256 matched opt.Checksum

	head []byte // first MiB of the image, written last
	// sums holds, per chunk with something mapped, an xxHash64 of its mapped
	// bytes for the read-back. The threat is a faulty or fake stick, not an
	// adversary, so a fast non-cryptographic hash is enough: SHA-256 costs
	// ~0.6 s of CPU per GiB here, xxHash ~0.08 s, and decompression needs
	// that CPU.
	sums    []chunkSum
	written int64 // image bytes read, known once reading ends

	// With a bmap: what is written (its ranges widened to mapAlign, and the
	// head), the cursor into it, the check of the range checksums, and the
	// bytes the bmap maps.
	mapping []extent
	mi      int
	check   *bmapCheck
	mapped  int64
}

// chunkSum is what the read-back of one chunk checks.
type chunkSum struct {
	off   int64
	n     int
	spans []extent
	sum   uint64
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
	var sum hash.Hash
	if p.opt.Checksum != nil {
		sum = sha256.New()
	}
	rd, err := p.src.open(sum)
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

	// Without a bmap, zero chunks are looked for when some target can
	// zero them more cheaply than write them.
	findZeros := false
	feeds := make([]chan *chunk, len(p.targets))
	var writers sync.WaitGroup
	var failed atomic.Int32
	for i, t := range p.targets {
		findZeros = findZeros || (p.mapping == nil && t.zeroesCheaply())
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
			if b := p.opt.Bmap; b != nil && off+int64(n) > b.ImageSize {
				pool <- buf
				return exitcode.New(exitcode.ImageInvalid, "bmap %s: ImageSize %d, but %s is larger", b.Path, b.ImageSize, p.src.Path)
			}
			c := &chunk{buf: buf, n: n, off: off, mapped: p.spansIn(off, off+int64(n))}
			if p.check != nil {
				if err := p.check.feed(off, buf[:n]); err != nil {
					pool <- buf
					return err
				}
			}
			if off == 0 {
				copy(p.head, buf[:min(n, headSize)])
			}
			if p.opt.Verify && len(c.mapped) > 0 {
				d := xxhash.New()
				for _, s := range c.mapped {
					d.Write(buf[s.off-off : s.end-off])
				}
				p.sums = append(p.sums, chunkSum{off: off, n: n, spans: c.mapped, sum: d.Sum64()})
			}
			c.zero = findZeros && allZero(buf[:n])
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
				return errEmptyImage(p.src.Path)
			}
			if b := p.opt.Bmap; b != nil && off != b.ImageSize {
				return exitcode.New(exitcode.ImageInvalid, "bmap %s: ImageSize %d, but %s holds %d bytes", b.Path, b.ImageSize, p.src.Path, off)
			}
			if p.measured >= 0 && off != p.measured {
				return exitcode.New(exitcode.ImageInvalid, "%s changed while it was written: it held %d bytes when measured, %d now", p.src.Path, p.measured, off)
			}
			if sum != nil {
				if err := rd.hashRest(); err != nil {
					return err
				}
				if err := p.opt.Checksum.compare(p.src.Path, sum); err != nil {
					return err
				}
				p.sumMatched = true
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", p.src.Path, err)
		}
	}
}

// writeChunk writes the mapped parts of c to t and makes the rest read
// zeros, as it does with a chunk of zeros where that is cheaper than
// writing. The head is left out: it is written last.
func (p *pipeline) writeChunk(t *target, c *chunk) error {
	pos, end := c.off, c.off+int64(c.n)
	for _, s := range c.mapped {
		if err := p.clear(t, pos, s.off); err != nil {
			return err
		}
		pos = s.end
		if c.zero && t.zeroesCheaply() {
			if err := p.clear(t, s.off, s.end); err != nil {
				return err
			}
			continue
		}
		if lo := max(s.off, headSize); lo < s.end {
			t.touched = true
			if err := t.writeAt(c.buf[lo-c.off:s.end-c.off], lo); err != nil {
				return err
			}
		}
	}
	if err := p.clear(t, pos, end); err != nil {
		return err
	}
	t.written.Add(int64(c.n))
	return nil
}

// clear makes [off, end) of t read zeros, leaving out the head.
func (p *pipeline) clear(t *target, off, end int64) error {
	off = max(off, headSize)
	if off >= end {
		return nil
	}
	t.touched = true
	return t.clear(off, end)
}

// widenMapping turns a bmap's ranges into the spans written: widened to
// mapAlign, joined where they meet, and with the head, which is always
// written whole.
func widenMapping(b *Bmap) []extent {
	out := []extent{{0, min(headSize, b.ImageSize)}}
	for _, r := range b.Ranges {
		s, e := b.rangeBytes(r)
		s, e = s/mapAlign*mapAlign, min(roundUp(e, mapAlign), b.ImageSize)
		if last := &out[len(out)-1]; s <= last.end {
			last.end = max(last.end, e)
			continue
		}
		out = append(out, extent{s, e})
	}
	return out
}

// spansIn is what is mapped in [off, end); chunks come in order.
func (p *pipeline) spansIn(off, end int64) []extent {
	if p.mapping == nil {
		return []extent{{off, end}}
	}
	for p.mi < len(p.mapping) && p.mapping[p.mi].end <= off {
		p.mi++
	}
	var out []extent
	for _, m := range p.mapping[p.mi:] {
		if m.off >= end {
			break
		}
		out = append(out, extent{max(off, m.off), min(end, m.end)})
	}
	return out
}

// bmapCheck checks the image against the checksums of a bmap's ranges as it
// streams past.
type bmapCheck struct {
	b     *Bmap
	image string
	i     int // the next range to check
	h     hash.Hash
}

func (c *bmapCheck) feed(off int64, data []byte) error {
	end := off + int64(len(data))
	for ; c.i < len(c.b.Ranges); c.i++ {
		r := c.b.Ranges[c.i]
		if r.Checksum == "" {
			continue
		}
		s, e := c.b.rangeBytes(r)
		if s >= end {
			return nil
		}
		if lo, hi := max(s, off), min(e, end); lo < hi {
			c.h.Write(data[lo-off : hi-off])
		}
		if e > end {
			return nil
		}
		if got := hex.EncodeToString(c.h.Sum(nil)); got != r.Checksum {
			return exitcode.New(exitcode.ImageInvalid, "%s does not match its bmap %s: Range %d-%d has %s %s, the bmap says %s",
				c.image, c.b.Path, r.First, r.Last, c.b.ChecksumType, got, r.Checksum)
		}
		c.h.Reset()
	}
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
	if err := t.flushClear(); err != nil {
		return err
	}
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
