package images

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"

	"github.com/onramp-os/onramp/internal/exitcode"
)

// Source is an image file ready to be streamed.
type Source struct {
	Path      string
	Format    Format
	FileSize  int64 // bytes on disk
	Size      int64 // uncompressed bytes: exact when SizeExact, else a lower bound (0 = unknown)
	SizeExact bool
	Label     string // ISO 9660 volume label when the image is an ISO and it can be read cheaply; "" otherwise
}

const (
	// sourceBufSize is the read size on the compressed file.
	sourceBufSize = 256 << 10
	// labelProbeSize is how much of a compressed image Inspect decodes to
	// find an ISO label: the primary volume descriptor is at 32 KiB.
	labelProbeSize = 64 << 10
)

// Inspect looks at the image at path: its format, its uncompressed size as
// far as headers and trailers tell without decoding, and its ISO label. A
// file that isn't a readable, non-empty regular file, or whose compressed
// structure is broken where Inspect looks, is an ImageInvalid error.
func Inspect(path string) (Source, error) {
	src := Source{Path: path}
	f, err := os.Open(path)
	if err != nil {
		return src, exitcode.Wrap(exitcode.ImageInvalid, fmt.Errorf("open %s: %w", path, err))
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return src, exitcode.Wrap(exitcode.ImageInvalid, fmt.Errorf("stat %s: %w", path, err))
	}
	if !fi.Mode().IsRegular() {
		return src, exitcode.New(exitcode.ImageInvalid, "%s: not a regular file (%s)", path, fi.Mode().Type())
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
	case Gzip:
		src.Size = probeGzipSize(f, src.FileSize)
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
func (s Source) probeLabel(f *os.File) (string, error) {
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
	f, err := os.Open(s.Path)
	if err != nil {
		return nil, exitcode.Wrap(exitcode.ImageInvalid, fmt.Errorf("open %s: %w", s.Path, err))
	}
	rd, err := s.decoder(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	return &sourceReader{imageReader: rd, file: f}, nil
}

// decoder reads the uncompressed content of f, which it does not close.
func (s Source) decoder(f *os.File) (*imageReader, error) {
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
		ir.r, ir.close, err = newXzDecoder(br)
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

func (ir *imageReader) Read(p []byte) (int, error) {
	if ir.err != nil {
		return 0, ir.err
	}
	n, err := ir.r.Read(p)
	if err != nil && err != io.EOF {
		err = ir.fail(err)
	}
	return n, err
}

func (ir *imageReader) fail(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		err = errors.New("the data ends early (truncated file?)")
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
}

func (r *sourceReader) Close() error {
	err := r.imageReader.Close()
	if cerr := r.file.Close(); err == nil {
		err = cerr
	}
	return err
}

// zstdConcurrency is how many blocks the zstd decoder works on at once.
const zstdConcurrency = 1

// newXzDecoder reads xz streams, concatenated and padded ones included.
func newXzDecoder(r io.Reader) (io.Reader, func() error, error) {
	z, err := xz.NewReader(r)
	if err != nil {
		return nil, nil, err
	}
	return z, nil, nil
}
