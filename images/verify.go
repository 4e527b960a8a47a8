package images

import (
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/cespare/xxhash/v2"

	"github.com/onramp-os/onramp/internal/exitcode"
)

// verifyInFlight is how many bytes the read-back keeps requested at least.
const verifyInFlight = 8 << 20

// testHookBeforeVerify, when set by a test, runs between a target's final
// sync and its read-back (to corrupt it, as a faulty stick would).
var testHookBeforeVerify func(path string)

// verify reads back what t was written, chunk by chunk with direct I/O (with
// a bmap, only the mapped parts), and compares each chunk's 64-bit xxHash
// with the one taken while the image streamed past. Reading ahead overlaps
// hashing.
func (p *pipeline) verify(ctx context.Context, t *target) error {
	if testHookBeforeVerify != nil {
		testHookBeforeVerify(t.path)
	}
	type readChunk struct {
		buf []byte
		cs  chunkSum
		n   int
		err error
	}
	// Up to depth reads are in flight at once, at least 8 MiB (a deeper
	// queue than one read at a time reads a flash drive faster, and a
	// throttled one sooner); results are taken in order.
	depth := max(3, verifyInFlight/p.opt.ChunkSize)
	free := make(chan []byte, depth)
	for range depth {
		b, err := alignedBuf(p.opt.ChunkSize)
		if err != nil {
			return err
		}
		defer freeAligned(b)
		free <- b
	}
	full := make(chan chan readChunk, depth)
	done := make(chan struct{})
	producing := make(chan struct{})
	var reads sync.WaitGroup
	// The buffers are unmapped on return: stop the producer and every read
	// first.
	defer func() { close(done); <-producing; reads.Wait() }()
	if err := t.setDirect(true); err != nil {
		return err
	}
	go func() {
		defer close(producing)
		defer close(full)
		for _, cs := range p.sums {
			var b []byte
			select {
			case b = <-free:
			case <-done:
				return
			}
			res := make(chan readChunk, 1)
			reads.Add(1)
			go func() {
				defer reads.Done()
				// The spans are packed into b; all but the image's last end on
				// mapAlign, so every read stays aligned.
				pos := 0
				for _, s := range cs.spans {
					want := int(s.end - s.off)
					n, err := t.readAt(b[pos:pos+int(roundUp(int64(want), int64(t.align)))], s.off)
					if err == nil && n < want {
						err = fmt.Errorf("read back %s: it ends at %d bytes, the image has %d", t.path, s.off+int64(n), p.written)
					}
					if err != nil {
						res <- readChunk{err: err}
						return
					}
					pos += want
				}
				res <- readChunk{b, cs, pos, nil}
			}()
			select {
			case full <- res:
			case <-done:
				return
			}
		}
	}()

	for {
		next, ok := <-full
		if !ok {
			t.verified.Store(p.written)
			return nil
		}
		rc := <-next
		if rc.err != nil {
			return rc.err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if xxhash.Sum64(rc.buf[:rc.n]) != rc.cs.sum {
			bad := p.firstDifference(rc.buf[:rc.n], rc.cs.spans)
			return exitcode.New(exitcode.VerifyFailed,
				"verification failed: %s differs from the image at byte %d (offset 0x%x); the drive may be faulty or counterfeit",
				t.path, bad, bad)
		}
		t.verified.Store(rc.cs.off + int64(rc.cs.n))
		free <- rc.buf
	}
}

// firstDifference finds the exact offset of the first wrong byte in spans
// read back from a target (packed in got) by reading the image again up to
// them. It falls back to the first span's start if the image cannot be
// re-read.
func (p *pipeline) firstDifference(got []byte, spans []extent) int64 {
	first := spans[0].off
	rd, err := p.src.Open()
	if err != nil {
		return first
	}
	defer rd.Close()
	if _, err := io.CopyN(io.Discard, rd, first); err != nil {
		return first
	}
	want := make([]byte, spans[len(spans)-1].end-first)
	if _, err := io.ReadFull(rd, want); err != nil {
		return first
	}
	pos := 0
	for _, s := range spans {
		w := want[s.off-first : s.end-first]
		for i := range w {
			if got[pos+i] != w[i] {
				return s.off + int64(i)
			}
		}
		pos += len(w)
	}
	return first
}
