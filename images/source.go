package images

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/therootcompany/xz"

	"github.com/onramp-os/onramp/internal/exitcode"
)

// Source is an image file ready to be streamed.
type Source struct {
	Path     string
	Format   Format
	FileSize int64 // bytes on disk
	// Size is the uncompressed bytes: exact when SizeExact, else a lower
	// bound that the headers prove (0 = unknown). Trailers that can lie (a
	// gzip ISIZE is the size modulo 4 GiB, and anyone can write one) are
	// not used: Write measures such an image by reading it before it
	// touches a target that could be too small.
	Size      int64
	SizeExact bool
	Label     string // ISO 9660 volume label when the image is an ISO and it can be read cheaply; "" otherwise
}

const (
	// sourceBufSize is the read size on the compressed file.
	sourceBufSize = 256 << 10
	// labelProbeSize is how much of a compressed image Inspect decodes to
	// find an ISO label: the primary volume descriptor is at 32 KiB.
	labelProbeSize = 64 << 10
	// zstdConcurrency is how many blocks the zstd decoder works on at
	// once. One, in the reader's goroutine, measured faster than two on
	// two cores, and needs no more memory than the window.
	zstdConcurrency = 1
	// xzMaxDict bounds the LZMA2 dictionary an xz image may ask for, as
	// zstdMaxWindow bounds the zstd window (xz -9 uses 64 MiB). The xz
	// decoder, a port of XZ Embedded, decodes about twice as fast as
	// github.com/ulikunitz/xz and allocates no dictionary beyond this.
	xzMaxDict = 128 << 20
)

// Inspect looks at the image at path: its format, its uncompressed size as
// far as headers and trailers tell without decoding, and its ISO label. A
// file that isn't a readable, non-empty regular file, or whose compressed
// structure is broken where Inspect looks, is an ImageInvalid error.
func Inspect(path string) (Source, error) {
	src := Source{Path: path}
	// Stat before opening: opening a FIFO would wait for a writer.
	fi, err := os.Stat(path)
	if err != nil {
		return src, exitcode.Wrap(exitcode.ImageInvalid, fmt.Errorf("open %s: %w", path, err))
	}
	if !fi.Mode().IsRegular() {
		return src, exitcode.New(exitcode.ImageInvalid, "%s: not a regular file (%s)", path, fi.Mode().Type())
	}
	f, err := os.Open(path)
	if err != nil {
		return src, exitcode.Wrap(exitcode.ImageInvalid, fmt.Errorf("open %s: %w", path, err))
	}
	defer f.Close()
	if fi, err = f.Stat(); err != nil {
		return src, exitcode.Wrap(exitcode.ImageInvalid, fmt.Errorf("stat %s: %w", path, err))
	}
	src.FileSize = fi.Size()
	if src.FileSize == 0 {
		return src, exitcode.New(exitcode.ImageInvalid, "%s: the image file is empty", path)
	}
	header := make([]byte, min(src.FileSize, 512))
	if _, err := f.ReadAt(header, 0); err != nil {
		return src, exitcode.Wrap(exitcode.ImageInvalid, fmt.Errorf("read %s: %w", path, err))
	}
	src.Format = DetectFormat(header)

	switch src.Format {
	case Raw:
		src.Size, src.SizeExact = src.FileSize, true
		src.Label, _ = ISOLabel(f)
		return src, nil
	case Xz:
		src.Size, err = probeXzSize(f, src.FileSize)
		src.SizeExact = err == nil
	case Zstd:
		src.Size, src.SizeExact, err = probeZstdSize(f, src.FileSize)
	}
	if err != nil {
		return src, exitcode.New(exitcode.ImageInvalid, "%s: %w", path, err)
	}
	if src.Label, err = src.probeLabel(f); err != nil {
		return src, err
	}
	return src, nil
}

// probeLabel decodes the start of a compressed image to read its ISO label.
// An image that can't even decode that far is invalid.
func (s Source) probeLabel(f io.Reader) (string, error) {
	rd, err := s.decoder(f)
	if err != nil {
		return "", err
	}
	defer rd.Close()
	head := make([]byte, labelProbeSize)
	n, err := io.ReadFull(rd, head)
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return "", err
	}
	label, _ := ISOLabel(bytes.NewReader(head[:n]))
	return label, nil
}

// Open returns the image's uncompressed content as a stream. Errors from
// reading it, a corrupt or truncated compressed stream included, are
// ImageInvalid errors naming the image. Close closes the file.
func (s Source) Open() (io.ReadCloser, error) {
	return s.open(nil)
}

// open is Open, hashing every byte of the image file into h (when not
// nil) as the decoder reads it; sourceReader.hashRest adds what the
// decoder left unread, so that h ends up with the file's hash from the
// same single read that fed the decoder.
func (s Source) open(h hash.Hash) (*sourceReader, error) {
	f, err := os.Open(s.Path)
	if err != nil {
		return nil, exitcode.Wrap(exitcode.ImageInvalid, fmt.Errorf("open %s: %w", s.Path, err))
	}
	in := &fileReader{r: f, h: h}
	rd, err := s.decoder(in)
	if err != nil {
		f.Close()
		return nil, err
	}
	return &sourceReader{imageReader: rd, file: f, in: in}, nil
}

// fileReader reads the image file under the decoder, counting the bytes
// and hashing them into h when it is set.
type fileReader struct {
	r io.Reader
	h hash.Hash
	n int64
}

func (r *fileReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.n += int64(n)
	if r.h != nil {
		r.h.Write(p[:n])
	}
	return n, err
}

// decoder reads the uncompressed content of f, which it does not close.
// Every error it returns is an ImageInvalid error naming the image.
func (s Source) decoder(f io.Reader) (*imageReader, error) {
	ir := &imageReader{src: s}
	if s.Format == Raw {
		ir.r = f
		return ir, nil
	}
	br := bufio.NewReaderSize(f, sourceBufSize)
	var err error
	switch s.Format {
	case Gzip:
		var z *gzip.Reader
		if z, err = gzip.NewReader(br); err == nil {
			ir.r, ir.close = z, z.Close
		}
	case Zstd:
		var z *zstd.Decoder
		z, err = zstd.NewReader(br,
			zstd.WithDecoderLowmem(true),
			zstd.WithDecoderConcurrency(zstdConcurrency),
			zstd.WithDecoderMaxWindow(zstdMaxWindow))
		if err == nil {
			ir.r, ir.close = z, func() error { z.Close(); return nil }
		}
	case Xz:
		var z *xz.Reader
		if z, err = xz.NewReader(br, xzMaxDict); err == nil {
			ir.r = z
		}
	case Bzip2:
		ir.r = bzip2.NewReader(br)
	default:
		err = fmt.Errorf("unknown format %d", s.Format)
	}
	if err != nil {
		return nil, ir.fail(err)
	}
	return ir, nil
}

// errTruncated is what every decoder and size probe says of a compressed
// image whose file ends before its data does, wherever the cut falls.
var errTruncated = errors.New("the image is truncated: the file ends before its compressed data does (download it again)")

// imageReader turns every read error into an ImageInvalid error naming the
// image. A compressed stream that ends early says so rather than returning
// io.ErrUnexpectedEOF, which callers using io.ReadFull would take for a
// normal end.
type imageReader struct {
	src   Source
	r     io.Reader
	close func() error
	err   error
}

func (ir *imageReader) Read(p []byte) (n int, err error) {
	if ir.err != nil {
		return 0, ir.err
	}
	defer func() {
		// A decoder that panics on hostile input fails the image, not
		// the program.
		if v := recover(); v != nil {
			n, err = 0, ir.fail(fmt.Errorf("decoder failed: %v", v))
		}
	}()
	n, err = ir.r.Read(p)
	if err != nil && err != io.EOF {
		err = ir.fail(err)
	}
	return n, err
}

func (ir *imageReader) fail(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		ir.err = exitcode.New(exitcode.ImageInvalid, "%s: %w", ir.src.Path, errTruncated)
		return ir.err
	}
	if ir.src.Format == Raw {
		ir.err = exitcode.Wrap(exitcode.ImageInvalid, err) // the file's errors name it
	} else {
		ir.err = exitcode.New(exitcode.ImageInvalid, "%s: invalid %s data: %w", ir.src.Path, ir.src.Format, err)
	}
	return ir.err
}

func (ir *imageReader) Close() error {
	if ir.close != nil {
		return ir.close()
	}
	return nil
}

// sourceReader is what Open returns: the decoder and the file under it.
type sourceReader struct {
	*imageReader
	file *os.File
	in   *fileReader // what the decoder reads
}

// hashRest reads the rest of the file through in, after the decoder came to
// the end of its data: whatever follows (stream padding, a bzip2 stream's
// last bytes the decoder never asked for) belongs to the file's hash too.
func (r *sourceReader) hashRest() error {
	if _, err := io.Copy(io.Discard, r.in); err != nil {
		return exitcode.Wrap(exitcode.ImageInvalid, fmt.Errorf("read %s: %w", r.src.Path, err))
	}
	return nil
}

func (r *sourceReader) Close() error {
	err := r.imageReader.Close()
	if cerr := r.file.Close(); err == nil {
		err = cerr
	}
	return err
}
