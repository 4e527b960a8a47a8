package images

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"

	"github.com/onramp-os/onramp/internal/exitcode"
)

// BmapBlockSize is the block size of the bmaps CreateBmap makes, bmaptool's.
const BmapBlockSize = 4096

// CreateBmap maps the blocks of the image src that hold anything but zeros,
// with a SHA-256 per range: holes of a sparse raw image are skipped without
// reading, a compressed image is decoded once. A block of zeros is left
// unmapped like a hole (both read as zeros in the image): osc write makes
// the target read zeros there, bmaptool copy leaves it as it was.
func CreateBmap(ctx context.Context, src Source) (*Bmap, error) {
	s := &bmapScanner{b: &Bmap{Path: src.Path, Version: "2.0", BlockSize: BmapBlockSize, ChecksumType: "sha256"}, start: -1}
	s.h, _ = newBmapHash("sha256")
	buf, err := alignedBuf(4 << 20)
	if err != nil {
		return nil, err
	}
	defer freeAligned(buf)
	var size int64
	if src.Format == Raw {
		size, err = s.scanSparse(ctx, src.Path, buf)
	} else {
		size, err = s.scanStream(ctx, src, buf)
	}
	if err != nil {
		return nil, err
	}
	if size == 0 {
		return nil, exitcode.New(exitcode.ImageInvalid, "%s: the image is empty", src.Path)
	}
	s.end()
	b := s.b
	b.ImageSize = size
	b.BlocksCount = (size + BmapBlockSize - 1) / BmapBlockSize
	for _, r := range b.Ranges {
		b.MappedBlocks += r.Last - r.First + 1
	}
	return b, nil
}

type bmapScanner struct {
	b     *Bmap
	h     hash.Hash
	start int64 // first block of the open range, -1 when none is
	last  int64
}

// feed scans data, the image from off (a block boundary) on.
func (s *bmapScanner) feed(off int64, data []byte) {
	for i := 0; i < len(data); i += BmapBlockSize {
		blk := data[i:min(i+BmapBlockSize, len(data))]
		if allZero(blk) {
			s.end()
			continue
		}
		if s.start < 0 {
			s.start = (off + int64(i)) / BmapBlockSize
			s.h.Reset()
		}
		s.last = (off + int64(i)) / BmapBlockSize
		s.h.Write(blk)
	}
}

// end closes the open range, if any.
func (s *bmapScanner) end() {
	if s.start < 0 {
		return
	}
	s.b.Ranges = append(s.b.Ranges, BmapRange{First: s.start, Last: s.last, Checksum: hex.EncodeToString(s.h.Sum(nil))})
	s.start = -1
}

// scanStream scans a compressed image as it decodes.
func (s *bmapScanner) scanStream(ctx context.Context, src Source, buf []byte) (int64, error) {
	rd, err := src.Open()
	if err != nil {
		return 0, err
	}
	defer rd.Close()
	var off int64
	for {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		n, err := io.ReadFull(rd, buf)
		s.feed(off, buf[:n])
		off += int64(n)
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return off, nil
		}
		if err != nil {
			return 0, fmt.Errorf("read %s: %w", src.Path, err)
		}
	}
}

// scanSparse scans the data of a raw image, asking the file system where
// its holes are (SEEK_DATA, SEEK_HOLE).
func (s *bmapScanner) scanSparse(ctx context.Context, path string, buf []byte) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, exitcode.Wrap(exitcode.ImageInvalid, fmt.Errorf("open %s: %w", path, err))
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, fmt.Errorf("stat %s: %w", path, err)
	}
	size := fi.Size()
	for pos := int64(0); pos < size; {
		data, hole, ok := nextData(f, pos, size)
		if !ok {
			break // a hole up to the end
		}
		data = max(pos, data/BmapBlockSize*BmapBlockSize)
		hole = min(size, roundUp(hole, BmapBlockSize))
		if data > pos {
			s.end()
		}
		for off := data; off < hole; {
			if err := ctx.Err(); err != nil {
				return 0, err
			}
			n, err := f.ReadAt(buf[:min(int64(len(buf)), hole-off)], off)
			if n == 0 && err != nil {
				return 0, exitcode.Wrap(exitcode.ImageInvalid, fmt.Errorf("read %s at %d: %w", path, off, err))
			}
			s.feed(off, buf[:n])
			off += int64(n)
		}
		pos = hole
	}
	return size, nil
}

// Marshal writes b as bmaptool does (format 2.0), BmapFileChecksum included.
func (b *Bmap) Marshal() []byte {
	h, _ := newBmapHash(b.ChecksumType)
	zeros := bytes.Repeat([]byte{'0'}, 2*h.Size())
	var w bytes.Buffer
	mapped := b.MappedBlocks * b.BlockSize
	fmt.Fprintf(&w, `<?xml version="1.0" ?>
<!-- The block map of an image: the blocks that hold data (partition tables,
     file system metadata, files). Only these need to be written to a target
     and verified; the others read as zeros in the image. Written by osc image
     bmap in bmaptool's format, which bmaptool copy reads. -->

<bmap version="2.0">
    <!-- Image size in bytes: %s -->
    <ImageSize> %d </ImageSize>

    <!-- Size of a block in bytes -->
    <BlockSize> %d </BlockSize>

    <!-- Count of blocks in the image file -->
    <BlocksCount> %d </BlocksCount>

    <!-- Count of mapped blocks: %s or %.1f%% -->
    <MappedBlocksCount> %d </MappedBlocksCount>

    <!-- Type of checksum used in this file -->
    <ChecksumType> %s </ChecksumType>

    <!-- The checksum of this bmap file. When it is calculated, the value of
         the checksum has be zero (all ASCII "0" symbols).  -->
    <BmapFileChecksum> %s </BmapFileChecksum>

    <!-- The block map: ranges of blocks, each with the checksum of its bytes. -->
    <BlockMap>
`, humanBytes(b.ImageSize), b.ImageSize, b.BlockSize, b.BlocksCount, humanBytes(mapped),
		100*float64(b.MappedBlocks)/float64(max(b.BlocksCount, 1)), b.MappedBlocks, b.ChecksumType, zeros)
	for _, r := range b.Ranges {
		if r.First == r.Last {
			fmt.Fprintf(&w, "        <Range chksum=\"%s\"> %d </Range>\n", r.Checksum, r.First)
		} else {
			fmt.Fprintf(&w, "        <Range chksum=\"%s\"> %d-%d </Range>\n", r.Checksum, r.First, r.Last)
		}
	}
	w.WriteString("    </BlockMap>\n</bmap>\n")
	out := w.Bytes()
	h.Write(out)
	sum := hex.EncodeToString(h.Sum(nil))
	i := bytes.Index(out, zeros)
	copy(out[i:], sum)
	return out
}

// WriteBmapFile writes b to path, replacing it only once complete.
func WriteBmapFile(path string, b *Bmap) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b.Marshal()); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", tmp.Name(), err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("%s: %w", tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("%s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("%s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("rename to %s: %w", path, err)
	}
	return nil
}

// humanBytes is n in binary units with one decimal, as bmaptool comments it.
func humanBytes(n int64) string {
	units := []string{"bytes", "KiB", "MiB", "GiB", "TiB", "PiB"}
	f, u := float64(n), 0
	for f >= 1024 && u < len(units)-1 {
		f /= 1024
		u++
	}
	if u == 0 {
		return fmt.Sprintf("%d bytes", n)
	}
	return fmt.Sprintf("%.1f %s", f, units[u])
}
