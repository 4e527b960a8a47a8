package images

import (
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/cespare/xxhash/v2"

	"github.com/onramp-os/onramp/internal/exitcode"
)

// testHookBeforeVerify, when set by a test, runs between a target's final
// sync and its read-back (to corrupt it, as a faulty stick would).
var testHookBeforeVerify func(path string)

// verify reads t back with direct I/O, chunk by chunk, and compares each
// chunk's 64-bit xxHash with the one taken while the image streamed past. Reading
// ahead overlaps hashing.
func (p *pipeline) verify(ctx context.Context, t *target) error {
	if testHookBeforeVerify != nil {
		testHookBeforeVerify(t.path)
	}
	type readChunk struct {
		buf []byte
		off int64
		n   int
		err error
	}
	// Up to depth reads are in flight at once (a deeper queue than one
	// read at a time reads a flash drive faster); results are taken in
	// order.
	const depth = 3
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
		for off := int64(0); off < p.written; off += int64(p.opt.ChunkSize) {
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
				want := int(min(int64(p.opt.ChunkSize), p.written-off))
				n, err := t.readAt(b[:roundUp(int64(want), int64(t.align))], off)
				if err == nil && n < want {
					err = fmt.Errorf("read back %s: it ends at %d bytes, the image has %d", t.path, off+int64(n), p.written)
				}
				res <- readChunk{b, off, min(n, want), err}
			}()
			select {
			case full <- res:
			case <-done:
				return
			}
		}
	}()

	for i := 0; ; i++ {
		next, ok := <-full
		if !ok {
			return nil
		}
		rc := <-next
		if rc.err != nil {
			return rc.err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if xxhash.Sum64(rc.buf[:rc.n]) != p.hashes[i] {
			bad := p.firstDifference(rc.buf[:rc.n], rc.off)
			return exitcode.New(exitcode.VerifyFailed,
				"verification failed: %s differs from the image at byte %d (offset 0x%x); the drive may be faulty or counterfeit",
				t.path, bad, bad)
		}
		t.verified.Add(int64(rc.n))
		free <- rc.buf
	}
}

// firstDifference finds the exact offset of the first wrong byte in a chunk
// read back from a target by reading the image again up to that chunk. It
// falls back to the chunk's start if the image cannot be re-read.
func (p *pipeline) firstDifference(got []byte, off int64) int64 {
	rd, err := p.src.Open()
	if err != nil {
		return off
	}
	defer rd.Close()
	if _, err := io.CopyN(io.Discard, rd, off); err != nil {
		return off
	}
	want := make([]byte, len(got))
	if _, err := io.ReadFull(rd, want); err != nil {
		return off
	}
	for i := range got {
		if got[i] != want[i] {
			return off + int64(i)
		}
	}
	return off
}
