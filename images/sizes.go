package images

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
)

// The size probes read only headers, trailers and indexes of a compressed
// image, never its data, so Inspect stays cheap for any image size. They
// treat every length they read as untrusted: loops advance by at least a few
// bytes per step and nothing is allocated from a length field.

const (
	xzHeaderSize = 12
	// zstdMaxWindow is the largest zstd window decoded: the zstd tool's
	// default limit, so every image it decodes without --memory works here.
	zstdMaxWindow  = 128 << 20
	zstdMaxBlock   = 128 << 10
	probeCacheSize = 4 << 10 // small: big blocks put headers far apart
	// zstdProbeBlocks bounds the block headers the size probe reads. Each
	// one is a read somewhere in the file, and on a cold cache readahead
	// turns a walk of a whole 1 GiB image into reading all of it (0.93 s
	// measured) before the write reads it again. Past the budget the
	// declared size of the frame being walked is a lower bound.
	zstdProbeBlocks = 256
)

var xzFooterMagic = []byte{'Y', 'Z'}

// probeXzSize sums the uncompressed sizes in the indexes of every xz stream
// in the first size bytes of r, walking backwards from the last stream footer
// over stream padding. The result is exact. A file whose end is not the end
// of a stream (padding, then a valid footer) is truncated, wherever the cut
// fell: errTruncated.
func probeXzSize(r io.ReaderAt, size int64) (int64, error) {
	var total int64
	pos := size
	for pos > 0 {
		last := pos == size // a broken end here is where a cut shows
		end := pos
		var err error
		if pos, err = xzSkipPadding(r, pos); err != nil {
			return 0, err
		}
		if pos == 0 {
			return 0, errors.New("xz: the file holds only padding")
		}
		if (end-pos)%4 != 0 || pos%4 != 0 || pos < 2*xzHeaderSize {
			if last {
				return 0, errTruncated
			}
			return 0, fmt.Errorf("xz: no stream ends at offset %d", pos)
		}
		var footer [xzHeaderSize]byte
		if _, err := r.ReadAt(footer[:], pos-xzHeaderSize); err != nil {
			return 0, fmt.Errorf("xz: read stream footer: %w", err)
		}
		if !bytes.Equal(footer[10:], xzFooterMagic) || footer[8] != 0 || footer[9]&0xf0 != 0 ||
			crc32.ChecksumIEEE(footer[4:10]) != binary.LittleEndian.Uint32(footer[:4]) {
			if last {
				return 0, errTruncated
			}
			return 0, fmt.Errorf("xz: no valid stream footer at offset %d (corrupt file)", pos-xzHeaderSize)
		}
		indexSize := (int64(binary.LittleEndian.Uint32(footer[4:8])) + 1) * 4
		indexStart := pos - xzHeaderSize - indexSize
		if indexStart < xzHeaderSize {
			return 0, fmt.Errorf("xz: index size %d at offset %d is larger than the file", indexSize, pos-8)
		}
		blocks, usize, err := xzReadIndex(io.NewSectionReader(r, indexStart, indexSize))
		if err != nil {
			return 0, fmt.Errorf("xz: index at offset %d: %w", indexStart, err)
		}
		start := indexStart - xzHeaderSize - blocks
		if blocks > indexStart || start < 0 {
			return 0, fmt.Errorf("xz: index at offset %d lists more blocks than the file holds", indexStart)
		}
		var header [xzHeaderSize]byte
		if _, err := r.ReadAt(header[:], start); err != nil {
			return 0, fmt.Errorf("xz: read stream header: %w", err)
		}
		if !bytes.HasPrefix(header[:], xzMagic) || !bytes.Equal(header[6:8], footer[8:10]) ||
			crc32.ChecksumIEEE(header[6:8]) != binary.LittleEndian.Uint32(header[8:]) {
			return 0, fmt.Errorf("xz: no stream header at offset %d where the index says", start)
		}
		if total > math.MaxInt64-usize {
			return 0, errors.New("xz: uncompressed size overflows")
		}
		total += usize
		pos = start
	}
	return total, nil
}

// xzSkipPadding returns the offset before the null bytes that end r at pos.
func xzSkipPadding(r io.ReaderAt, pos int64) (int64, error) {
	var buf [4096]byte
	for pos > 0 {
		n := min(pos, int64(len(buf)))
		if _, err := r.ReadAt(buf[:n], pos-n); err != nil {
			return 0, fmt.Errorf("xz: read at %d: %w", pos-n, err)
		}
		i := n
		for i > 0 && buf[i-1] == 0 {
			i--
		}
		if i > 0 {
			return pos - n + i, nil
		}
		pos -= n
	}
	return 0, nil
}

// xzIndexReader reads an index byte by byte, counting and hashing them.
type xzIndexReader struct {
	br  *bufio.Reader
	n   int64
	crc uint32
	one [1]byte
}

func (x *xzIndexReader) ReadByte() (byte, error) {
	b, err := x.br.ReadByte()
	if err != nil {
		return 0, errTruncated
	}
	x.n++
	x.one[0] = b
	x.crc = crc32.Update(x.crc, crc32.IEEETable, x.one[:])
	return b, nil
}

// xzReadIndex parses an xz index (indicator, record count, records, padding,
// CRC32) that must fill r exactly, and returns the space its blocks take and
// their uncompressed size.
func xzReadIndex(r *io.SectionReader) (blocks, usize int64, err error) {
	x := &xzIndexReader{br: bufio.NewReaderSize(r, 4096)}
	if b, err := x.ReadByte(); err != nil || b != 0 {
		return 0, 0, errors.New("no index indicator")
	}
	count, err := xzReadVarint(x)
	if err != nil {
		return 0, 0, err
	}
	for i := uint64(0); i < count; i++ {
		unpadded, err := xzReadVarint(x)
		if err != nil {
			return 0, 0, err
		}
		uncompressed, err := xzReadVarint(x)
		if err != nil {
			return 0, 0, err
		}
		if unpadded < 5 || unpadded > math.MaxInt64/4 || uncompressed > math.MaxInt64/4 {
			return 0, 0, fmt.Errorf("record %d has impossible sizes", i)
		}
		blocks += (int64(unpadded) + 3) &^ 3
		usize += int64(uncompressed)
		if blocks > math.MaxInt64/4 || usize > math.MaxInt64/4 {
			return 0, 0, errors.New("sizes overflow")
		}
	}
	for x.n%4 != 0 {
		if b, err := x.ReadByte(); err != nil || b != 0 {
			return 0, 0, errors.New("bad index padding")
		}
	}
	if x.n != r.Size()-4 {
		return 0, 0, fmt.Errorf("index is %d bytes, the footer says %d", x.n+4, r.Size())
	}
	var stored [4]byte
	if _, err := io.ReadFull(x.br, stored[:]); err != nil {
		return 0, 0, errTruncated
	}
	if binary.LittleEndian.Uint32(stored[:]) != x.crc {
		return 0, 0, errors.New("index CRC32 mismatch")
	}
	return blocks, usize, nil
}

// xzReadVarint reads an xz multibyte integer: up to 9 bytes of 7 bits,
// least significant first, with no needless trailing zero byte.
func xzReadVarint(r io.ByteReader) (uint64, error) {
	var v uint64
	for i := 0; i < 9; i++ {
		b, err := r.ReadByte()
		if err != nil {
			return 0, err
		}
		v |= uint64(b&0x7f) << (7 * i)
		if b&0x80 == 0 {
			if b == 0 && i > 0 {
				return 0, errors.New("bad multibyte integer")
			}
			return v, nil
		}
	}
	return 0, errors.New("multibyte integer too long")
}

// errProbeBudget stops a zstd size walk that reached zstdProbeBlocks.
var errProbeBudget = errors.New("zstd probe budget spent")

// probeCache serves the small reads of the zstd probe from a window of the
// file, so tiny blocks don't cost a system call each.
type probeCache struct {
	budget int // block headers left to read
	r      io.ReaderAt
	size   int64
	buf    []byte
	off    int64 // file offset of buf[0]
}

// at returns n bytes at off; fewer only at the end of the input.
func (c *probeCache) at(off int64, n int) ([]byte, error) {
	if off < c.off || off+int64(n) > c.off+int64(len(c.buf)) {
		if off < 0 || off >= c.size {
			return nil, errTruncated
		}
		c.buf = c.buf[:min(int64(cap(c.buf)), c.size-off)]
		if _, err := c.r.ReadAt(c.buf, off); err != nil {
			c.buf = c.buf[:0]
			return nil, fmt.Errorf("read at %d: %w", off, err)
		}
		c.off = off
	}
	start := off - c.off
	return c.buf[start:min(start+int64(n), int64(len(c.buf)))], nil
}

// probeZstdSize walks the zstd frames (and skippable frames) in the first
// size bytes of r through their frame and block headers. The size is exact
// when every frame declares its content size; otherwise it counts what the
// headers of the other frames prove (raw and RLE blocks, literals) and is a
// lower bound.
func probeZstdSize(r io.ReaderAt, size int64) (total int64, exact bool, err error) {
	c := &probeCache{r: r, size: size, buf: make([]byte, 0, probeCacheSize), budget: zstdProbeBlocks}
	exact = true
	for off := int64(0); off < size; {
		h, err := c.at(off, 4)
		if err != nil {
			return 0, false, fmt.Errorf("zstd: %w", err)
		}
		if len(h) < 4 {
			return 0, false, errTruncated // the start of a frame, cut
		}
		magic := binary.LittleEndian.Uint32(h)
		if magic&^0xf == zstdSkippableMagic {
			h, err := c.at(off+4, 4)
			if err != nil || len(h) < 4 {
				return 0, false, errTruncated
			}
			off += 8 + int64(binary.LittleEndian.Uint32(h))
			if off > size {
				return 0, false, errTruncated
			}
			continue
		}
		if magic != zstdFrameMagic {
			return 0, false, fmt.Errorf("zstd: no frame at offset %d", off)
		}
		n, declared, hasSize, err := zstdFrame(c, off)
		if errors.Is(err, errProbeBudget) {
			// More frames may follow this one: what it declares is a
			// lower bound (exact for the usual single-frame image).
			return total + declared, false, nil
		}
		if errors.Is(err, errTruncated) {
			return 0, false, errTruncated
		}
		if err != nil {
			return 0, false, fmt.Errorf("zstd: frame at offset %d: %w", off, err)
		}
		exact = exact && hasSize
		if total > math.MaxInt64-declared {
			return 0, false, errors.New("zstd: content size overflows")
		}
		total += declared
		off += n
	}
	return total, exact, nil
}

// zstdFrame parses the frame at off and returns its length and its content
// size: the declared one when hasSize, else the lower bound its blocks prove.
func zstdFrame(c *probeCache, off int64) (n, usize int64, hasSize bool, err error) {
	h, err := c.at(off, 18) // the longest frame header
	if err != nil || len(h) < 6 {
		return 0, 0, false, errTruncated
	}
	fhd := h[4]
	if fhd&0x08 != 0 {
		return 0, 0, false, errors.New("reserved header bit set")
	}
	single := fhd&0x20 != 0
	pos := 5
	window := int64(0)
	if !single {
		exp, mant := int64(h[5]>>3), int64(h[5]&7)
		window = int64(1) << (10 + exp)
		window += window / 8 * mant
		pos++
	}
	pos += []int{0, 1, 2, 4}[fhd&3] // dictionary ID
	fcsLen := []int{0, 2, 4, 8}[fhd>>6]
	if fcsLen == 0 && single {
		fcsLen = 1
	}
	if pos+fcsLen > len(h) {
		return 0, 0, false, errTruncated
	}
	var fcs uint64
	switch fcsLen {
	case 1:
		fcs = uint64(h[pos])
	case 2:
		fcs = uint64(binary.LittleEndian.Uint16(h[pos:])) + 256
	case 4:
		fcs = uint64(binary.LittleEndian.Uint32(h[pos:]))
	case 8:
		fcs = binary.LittleEndian.Uint64(h[pos:])
	}
	if fcs > math.MaxInt64 {
		return 0, 0, false, errors.New("impossible content size")
	}
	hasSize = fcsLen > 0
	if single {
		window = int64(fcs)
	}
	if window > zstdMaxWindow {
		return 0, 0, false, fmt.Errorf("needs a %d MiB window, more than the %d MiB allowed", window>>20, zstdMaxWindow>>20)
	}
	blocks, lower, err := zstdBlocks(c, off+int64(pos+fcsLen))
	if errors.Is(err, errProbeBudget) {
		if hasSize {
			return 0, int64(fcs), true, err
		}
		return 0, lower, false, err
	}
	if err != nil {
		return 0, 0, false, err
	}
	n = int64(pos+fcsLen) + blocks
	if fhd&0x04 != 0 {
		n += 4 // content checksum
	}
	if off+n > c.size {
		return 0, 0, false, errTruncated
	}
	if hasSize {
		return n, int64(fcs), true, nil
	}
	return n, lower, false, nil
}

// zstdBlocks walks the blocks from off up to the last one and returns the
// bytes they take and how many output bytes their headers prove.
func zstdBlocks(c *probeCache, off int64) (n, lower int64, err error) {
	for {
		if c.budget--; c.budget < 0 {
			return 0, lower, errProbeBudget
		}
		h, err := c.at(off+n, 4)
		if err != nil || len(h) < 3 {
			return 0, 0, errTruncated
		}
		bh := uint32(h[0]) | uint32(h[1])<<8 | uint32(h[2])<<16
		last, kind, bsize := bh&1 != 0, (bh>>1)&3, int64(bh>>3)
		if bsize > zstdMaxBlock {
			return 0, 0, fmt.Errorf("block at offset %d is too large", off+n)
		}
		switch kind {
		case 0: // raw
			lower += bsize
			n += 3 + bsize
		case 1: // RLE: one byte repeated bsize times
			lower += bsize
			n += 4
		case 2: // compressed: at least its literals come out
			if bsize == 0 {
				return 0, 0, fmt.Errorf("empty compressed block at offset %d", off+n)
			}
			lit, err := c.at(off+n+3, 5)
			if err != nil {
				return 0, 0, errTruncated
			}
			lower += zstdLiteralsSize(lit)
			n += 3 + bsize
		default:
			return 0, 0, fmt.Errorf("reserved block type at offset %d", off+n)
		}
		if off+n > c.size {
			return 0, 0, errTruncated
		}
		if last {
			return n, lower, nil
		}
	}
}

// zstdLiteralsSize is the regenerated size in a literals section header, 0
// when the header is cut short.
func zstdLiteralsSize(h []byte) int64 {
	if len(h) == 0 {
		return 0
	}
	var v uint64
	for i := len(h) - 1; i >= 0; i-- {
		v = v<<8 | uint64(h[i])
	}
	kind, format := h[0]&3, (h[0]>>2)&3
	need, bits, shift := 0, 0, 0
	switch {
	case kind < 2 && format&1 == 0: // raw or RLE, 1-byte header
		need, bits, shift = 1, 5, 3
	case kind < 2 && format == 1:
		need, bits, shift = 2, 12, 4
	case kind < 2:
		need, bits, shift = 3, 20, 4
	case format < 2: // compressed or treeless: 1 or 4 streams
		need, bits, shift = 3, 10, 4
	case format == 2:
		need, bits, shift = 4, 14, 4
	default:
		need, bits, shift = 5, 18, 4
	}
	if len(h) < need {
		return 0
	}
	return min(int64(v>>shift)&(1<<bits-1), zstdMaxBlock)
}
