package images

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"runtime"

	"github.com/onramp-os/onramp/internal/exitcode"
)

// WriteFileOptions tune Payload.WriteFile.
type WriteFileOptions struct {
	// Progress, when set, is called from the writing goroutine after each
	// chunk with the bytes written and the bytes read back so far.
	Progress func(written, verified int64)
	// BeforeWrite, when set, runs before each write at a target offset
	// (failure injection in tests); an error fails the write.
	BeforeWrite func(off int64, n int) error
	// WhileVerifying, when set, runs once everything is written and synced
	// and the target is closed for writing, while the last chunks are
	// still read back: other writes to the target (the file systems of
	// other partitions) overlap the read-back's tail. Its error fails
	// WriteFile, after the read-back ended.
	WhileVerifying func() error
}

// writeChunk is the size of the direct writes of WriteFile: a multiple of
// readBlock, large enough that the medium, not system calls, bounds it.
const writeChunk = 8 << 20

// WriteFile streams the payload file name (which Verify checked) raw onto
// path at byte offset off through the direct I/O of the image writer. What
// is written is read back with direct I/O from the medium while the next
// chunks are written (the last one after everything was synced), and
// checked chunk by chunk against the manifest on every core; a difference
// is VerifyFailed. A block device is opened exclusively: the caller must
// not hold it open.
func (p *Payload) WriteFile(ctx context.Context, name, path string, off int64, opt WriteFileOptions) error {
	mf, ok := p.Manifest.File(name)
	if !ok {
		return invalid("payload %s: %s is not in the manifest", p.Origin, name)
	}
	// Verify hashed the file before the first write and left it in the
	// page cache; what reaches the disk is hashed once more as it is read
	// back, so a file changed since is caught there, and the stream itself
	// need not be hashed a third time.
	f, err := p.fsys.Open(name)
	if err != nil {
		return invalid("payload %s: %s: %v", p.Origin, name, err)
	}
	defer f.Close()
	r := io.LimitReader(f, mf.Size+1)
	t, err := openTarget(path, 0)
	if err != nil {
		return err
	}
	defer t.f.Close()
	if off%int64(t.align) != 0 {
		return fmt.Errorf("write %s to %s: offset %d is not aligned to %d bytes", name, path, off, t.align)
	}
	rb, err := openReadBack(t)
	if err != nil {
		return err
	}
	defer rb.f.Close()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	const depth = 4
	pool := make(chan []byte, depth)
	for range depth {
		b, err := alignedBuf(writeChunk)
		if err != nil {
			return err
		}
		defer freeAligned(b)
		pool <- b
	}
	filled := make(chan span, depth)
	readErr := make(chan error, 1)
	go func() { // reads ahead of the writes
		defer close(filled)
		var at int64
		for {
			var b []byte
			select {
			case b = <-pool:
			case <-ctx.Done():
				readErr <- ctx.Err()
				return
			}
			n, err := io.ReadFull(r, b)
			if at+int64(n) > mf.Size { // not a byte past the file's extent
				readErr <- invalid("payload %s: %s is larger than the %d bytes in the manifest (changed since it was verified?)", p.Origin, name, mf.Size)
				return
			}
			if n > 0 {
				filled <- span{b, at, n}
				at += int64(n)
			}
			switch {
			case (err == io.EOF || err == io.ErrUnexpectedEOF) && at != mf.Size:
				readErr <- invalid("payload %s: %s has %d bytes, the manifest says %d (changed since it was verified?)", p.Origin, name, at, mf.Size)
			case err == io.EOF || err == io.ErrUnexpectedEOF:
				readErr <- nil
			case err != nil:
				readErr <- invalid("payload %s: read %s: %v", p.Origin, name, err)
			default:
				continue
			}
			return
		}
	}()

	// The read-back: one sequential stream of direct reads beside the
	// writes (more reads in flight only slowed the writes down), hashed
	// per chunk on every core.
	c := chunkingOf(mf)
	rbPool := make(chan []byte, runtime.GOMAXPROCS(0)+2)
	for range cap(rbPool) {
		b, err := alignedBuf(int(roundUp(c.block(), int64(rb.align))))
		if err != nil {
			return err
		}
		defer freeAligned(b)
		rbPool <- b
	}
	v := newChunkVerifier(c, func(pc piece) { rbPool <- pc.buf }, func(_ int, from, to int64) error {
		return exitcode.New(exitcode.VerifyFailed, "%s reads back different from %s at bytes %d to %d (offset %d of the target)", path, name, from, to, off+from)
	})
	// Spans (offsets only) to read back; the writer need not wait for it.
	written := make(chan span, 1024)
	verr := make(chan error, 1)
	go func() { verr <- readBack(ctx, rb, off, c, v, rbPool, written) }()
	werr := func() error {
		var last *span
		for s := range filled {
			if err := ctx.Err(); err != nil {
				return err
			}
			if v.failed() {
				cancel() // stops the reader; the read-back says why
				return nil
			}
			if opt.BeforeWrite != nil {
				if err := opt.BeforeWrite(off+s.off, s.n); err != nil {
					return fmt.Errorf("write %s at %d: %w", path, off+s.off, err)
				}
			}
			if err := t.writeAt(s.buf[:s.n], off+s.off); err != nil {
				return err
			}
			pool <- s.buf
			if last != nil {
				written <- *last
			}
			last = &span{off: s.off, n: s.n}
			if opt.Progress != nil {
				opt.Progress(s.off+int64(s.n), v.done.Load())
			}
		}
		if err := <-readErr; err != nil {
			return err
		}
		if err := t.sync(); err != nil {
			return err
		}
		if last != nil {
			written <- *last
		}
		return nil
	}()
	if werr != nil {
		cancel()
	}
	close(written)
	for range filled { // let the reader finish before its buffers are freed
	}
	var also error
	if werr == nil && opt.WhileVerifying != nil {
		if err := t.f.Close(); err != nil {
			werr = fmt.Errorf("close %s: %w", path, err)
		} else if also = opt.WhileVerifying(); also != nil {
			cancel()
		}
	}
	rerr := <-verr
	switch {
	case werr != nil:
		return werr
	case rerr != nil && (also == nil || !errors.Is(rerr, context.Canceled)): // not only stopped for also
		return rerr
	case also != nil:
		return also
	case mf.Size == 0 && sha256.Sum256(nil) != c.sums[0]:
		return invalid("payload %s: SHA-256 of the empty %s differs from the manifest", p.Origin, name)
	}
	if opt.Progress != nil {
		opt.Progress(mf.Size, mf.Size)
	}
	return nil
}

// readBack reads each span written at base+span.off from rb, block by
// block in file order with one direct read at a time, and feeds v; it
// returns v's verdict. After a failure it drains spans so the writer never
// blocks.
func readBack(ctx context.Context, rb *target, base int64, c chunking, v *chunkVerifier, pool chan []byte, spans <-chan span) error {
	for s := range spans {
		end := s.off + int64(s.n)
		for o := s.off; o < end && !v.failed(); o += c.block() {
			n := int(min(c.block(), end-o))
			b := <-pool
			if !rb.direct {
				dropCache(rb.f, base+o, int64(n))
			}
			got, err := rb.readAt(b[:roundUp(int64(n), int64(rb.align))], base+o)
			if err == nil && got < n {
				err = fmt.Errorf("read back %s: it ends at %d", rb.path, base+o+int64(got))
			}
			if err == nil {
				err = ctx.Err()
			}
			if err != nil {
				pool <- b
				v.failWith(exitcode.Wrap(exitcode.VerifyFailed, err))
				break
			}
			v.feed(piece{buf: b, off: o, n: n})
		}
	}
	return v.wait()
}

// openReadBack opens a second, read-only descriptor of t for the read-back:
// direct I/O where the file system has it, else the page cache dropped.
func openReadBack(t *target) (*target, error) {
	f, direct, err := openDirect(t.path)
	if err != nil {
		return nil, fmt.Errorf("open %s to read back: %w", t.path, err)
	}
	return &target{path: t.path, f: f, block: t.block, direct: direct, align: t.align,
		devSize: t.devSize, zeroFrom: -1}, nil
}

// span is one chunk of the file: buf holds it on its way to the target.
type span struct {
	buf []byte
	off int64 // in the file
	n   int
}
