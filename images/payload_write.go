package images

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"

	"golang.org/x/sys/unix"

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
}

const fileChunk = 4 << 20

// WriteFile streams the payload file name (which Verify checked) raw onto
// path at byte offset off through the direct I/O of the image writer. Each
// chunk is read back with direct I/O from the medium as
// soon as it is written, so the read-back overlaps the write; the last
// chunk is read only after everything was synced. It returns the SHA-256 of
// what was read back, which must equal the manifest's (else VerifyFailed).
// A block device is opened exclusively: the caller must not hold it open.
func (p *Payload) WriteFile(ctx context.Context, name, path string, off int64, opt WriteFileOptions) (string, error) {
	mf, ok := p.Manifest.File(name)
	if !ok {
		return "", invalid("payload %s: %s is not in the manifest", p.Origin, name)
	}
	// Verify hashed the file before the first write; what reaches the disk
	// is hashed once more as it is read back, so a file changed since is
	// caught there, and the stream itself need not be hashed a third time.
	f, err := p.fsys.Open(name)
	if err != nil {
		return "", invalid("payload %s: %s: %v", p.Origin, name, err)
	}
	defer f.Close()
	r := io.LimitReader(f, mf.Size+1)
	t, err := openTarget(path, 0)
	if err != nil {
		return "", err
	}
	defer t.f.Close()
	if off%int64(t.align) != 0 {
		return "", fmt.Errorf("write %s to %s: offset %d is not aligned to %d bytes", name, path, off, t.align)
	}
	rb, err := openReadBack(t)
	if err != nil {
		return "", err
	}
	defer rb.f.Close()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	const depth = 4
	pool := make(chan []byte, depth)
	for range depth {
		b, err := alignedBuf(fileChunk)
		if err != nil {
			return "", err
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

	// Spans (offsets only) to read back; the writer need not wait for it.
	written := make(chan span, 1024)
	var verified atomic.Int64
	sumc := make(chan verifyResult, 1)
	go func() { sumc <- readBack(ctx, rb, off, written, &verified) }()

	werr := func() error {
		var last *span
		for s := range filled {
			if err := ctx.Err(); err != nil {
				return err
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
				opt.Progress(s.off+int64(s.n), verified.Load())
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
	res := <-sumc
	switch {
	case werr != nil:
		return "", werr
	case res.err != nil:
		return "", res.err
	case res.n != mf.Size:
		return "", exitcode.New(exitcode.VerifyFailed, "%s: read back %d bytes of %s, it has %d", path, res.n, name, mf.Size)
	case res.sum != mf.SHA256:
		return "", exitcode.New(exitcode.VerifyFailed, "%s reads back with SHA-256 %s at %d, %s's is %s", path, res.sum, off, name, mf.SHA256)
	}
	if opt.Progress != nil {
		opt.Progress(mf.Size, mf.Size)
	}
	return res.sum, nil
}

// openReadBack opens a second, read-only descriptor of t for the read-back:
// direct I/O where the file system has it, else the page cache dropped.
func openReadBack(t *target) (*target, error) {
	flags := unix.O_RDONLY | unix.O_CLOEXEC
	fd, err := unix.Open(t.path, flags|unix.O_DIRECT, 0)
	direct := err == nil
	if errors.Is(err, unix.EINVAL) {
		fd, err = unix.Open(t.path, flags, 0)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s to read back: %w", t.path, err)
	}
	return &target{path: t.path, f: os.NewFile(uintptr(fd), t.path), block: t.block, direct: direct, align: t.align,
		devSize: t.devSize, zeroFrom: -1}, nil
}

// span is one chunk of the file: buf holds it on its way to the target.
type span struct {
	buf []byte
	off int64 // in the file
	n   int
}

type verifyResult struct {
	sum string
	n   int64
	err error
}

// readBack reads each span written at base+span.off from rb, a few reads
// ahead of the hash, and hashes them in order. After a failure it drains
// spans so the writer never blocks.
func readBack(ctx context.Context, rb *target, base int64, spans <-chan span, verified *atomic.Int64) verifyResult {
	const depth = 3
	free := make(chan []byte, depth)
	for range depth {
		b, err := alignedBuf(fileChunk)
		if err != nil {
			for range spans {
			}
			return verifyResult{err: err}
		}
		defer freeAligned(b)
		free <- b
	}
	var stop atomic.Bool
	full := make(chan span, depth)
	errs := make(chan error, 1)
	go func() {
		defer close(full)
		for s := range spans {
			b := <-free
			if stop.Load() {
				full <- span{buf: b}
				continue
			}
			if !rb.direct {
				_ = unix.Fadvise(int(rb.f.Fd()), base+s.off, int64(s.n), unix.FADV_DONTNEED)
			}
			n, err := rb.readAt(b[:roundUp(int64(s.n), int64(rb.align))], base+s.off)
			if err == nil && n < s.n {
				err = fmt.Errorf("read back %s: it ends at %d", rb.path, base+s.off+int64(n))
			}
			if err == nil {
				err = ctx.Err()
			}
			if err != nil {
				stop.Store(true)
				errs <- exitcode.Wrap(exitcode.VerifyFailed, err)
				full <- span{buf: b}
				continue
			}
			full <- span{buf: b, n: s.n}
		}
	}()
	var res verifyResult
	h := sha256.New()
	for s := range full {
		h.Write(s.buf[:s.n])
		res.n += int64(s.n)
		verified.Store(res.n)
		free <- s.buf
	}
	select {
	case res.err = <-errs:
	default:
	}
	res.sum = hex.EncodeToString(h.Sum(nil))
	return res
}
