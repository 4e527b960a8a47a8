package images

import (
	"bytes"
	"encoding/binary"
)

// Format of an image file, detected by magic bytes (never by extension).
type Format int

// The formats an image can come in.
const (
	Raw Format = iota
	Gzip
	Xz
	Zstd
	Bzip2
)

func (f Format) String() string {
	switch f {
	case Raw:
		return "raw"
	case Gzip:
		return "gzip"
	case Xz:
		return "xz"
	case Zstd:
		return "zstd"
	case Bzip2:
		return "bzip2"
	default:
		return "unknown"
	}
}

var (
	xzMagic        = []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}
	gzipMagic      = []byte{0x1f, 0x8b, 0x08} // deflate is the only method
	bzip2BlockSig  = []byte{0x31, 0x41, 0x59, 0x26, 0x53, 0x59}
	bzip2StreamEnd = []byte{0x17, 0x72, 0x45, 0x38, 0x50, 0x90}
)

const (
	zstdFrameMagic     = 0xfd2fb528
	zstdSkippableMagic = 0x184d2a50 // the low 4 bits are free
)

// DetectFormat names the format of an image from its first bytes (up to 512
// are looked at). Anything unknown, including a short header, is Raw: a raw
// image may start with anything.
func DetectFormat(header []byte) Format {
	switch {
	case bytes.HasPrefix(header, xzMagic):
		return Xz
	case bytes.HasPrefix(header, gzipMagic):
		return Gzip
	case len(header) >= 4 && isZstdMagic(binary.LittleEndian.Uint32(header)):
		return Zstd
	case isBzip2Header(header):
		return Bzip2
	}
	return Raw
}

func isZstdMagic(m uint32) bool {
	return m == zstdFrameMagic || m&^0xf == zstdSkippableMagic
}

// isBzip2Header wants "BZh", a block size digit and the signature of a first
// block or of the stream end: "BZh" alone is too likely at the start of a raw
// image.
func isBzip2Header(h []byte) bool {
	if len(h) < 10 || string(h[:3]) != "BZh" || h[3] < '1' || h[3] > '9' {
		return false
	}
	return bytes.Equal(h[4:10], bzip2BlockSig) || bytes.Equal(h[4:10], bzip2StreamEnd)
}
