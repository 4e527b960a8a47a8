package images

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Limits of the ISO 9660 check. Installer media hold a few hundred
// directories of a few kilobytes each; these are far above that and far
// below what a hostile size field could make a reader allocate.
const (
	isoBlock           = 2048
	isoMaxDescriptors  = 64       // volume descriptors before the terminator
	isoMaxPathTable    = 4 << 20  // bytes of one path table
	isoMaxDirectory    = 4 << 20  // bytes of one directory extent
	isoMaxDirTotal     = 64 << 20 // bytes of all directory extents together
	isoMaxDirectories  = 1 << 16  // directories of one tree
	isoMaxContinuation = 64 << 10 // bytes of one SUSP continuation area
	isoMaxCEChain      = 16       // continuation areas one record may chain
)

// checkISO checks the structures of the ISO 9660 image r of size bytes
// that go-diskfs' reader trusts, before that reader sees them: volume
// descriptors (a terminator, a logical block of 2048 bytes, a 34-byte
// root record), path tables and every directory record of every tree
// (extents inside the image, directory and continuation sizes bounded,
// chains of continuation areas finite, every path table entry a
// directory of the tree). It reads at most a bounded amount, whatever the
// image claims, so a crafted image costs neither memory nor time.
func checkISO(r io.ReaderAt, size int64) error {
	if size < 16*isoBlock+2*isoBlock {
		return fmt.Errorf("%d bytes is too small for an ISO 9660 image", size)
	}
	c := isoChecker{r: r, size: size}
	var primary bool
	for i := 0; ; i++ {
		if i == isoMaxDescriptors {
			return fmt.Errorf("no volume descriptor set terminator in the first %d descriptors", isoMaxDescriptors)
		}
		off := int64(16+i) * isoBlock
		vd, err := c.read(off, isoBlock)
		if err != nil {
			return fmt.Errorf("volume descriptor %d: %w", i, err)
		}
		if !bytes.Equal(vd[1:6], isoStandardID) || vd[6] != 1 {
			return fmt.Errorf("volume descriptor %d at byte %d: no CD001 version 1 identifier", i, off)
		}
		switch vd[0] {
		case 255:
			if !primary {
				return errors.New("no primary volume descriptor")
			}
			return nil
		case 1, 2:
			if vd[0] == 1 {
				primary = true
			}
			if err := c.volume(vd, vd[0] == 2); err != nil {
				return fmt.Errorf("volume descriptor %d (type %d) at byte %d: %w", i, vd[0], off, err)
			}
		}
	}
}

type isoChecker struct {
	r        io.ReaderAt
	size     int64
	dirBytes int64 // directory bytes read so far, all trees
}

// read returns n bytes at off, refusing a range outside the image.
func (c *isoChecker) read(off, n int64) ([]byte, error) {
	if off < 0 || n < 0 || off > c.size || n > c.size-off {
		return nil, fmt.Errorf("%d bytes at byte %d lie outside the image of %d bytes", n, off, c.size)
	}
	b := make([]byte, n)
	if _, err := c.r.ReadAt(b, off); err != nil {
		return nil, fmt.Errorf("read %d bytes at byte %d: %w", n, off, err)
	}
	return b, nil
}

// volume checks a primary or supplementary volume descriptor and the tree
// and path table it points to.
func (c *isoChecker) volume(vd []byte, supplementary bool) error {
	le, be := binary.LittleEndian.Uint16(vd[128:]), binary.BigEndian.Uint16(vd[130:])
	if le != isoBlock || be != isoBlock {
		return fmt.Errorf("logical block size %d/%d, only %d is supported", le, be, isoBlock)
	}
	if blocks := int64(binary.LittleEndian.Uint32(vd[80:])); blocks*isoBlock > c.size {
		return fmt.Errorf("the volume has %d bytes, the image only %d (truncated?)", blocks*isoBlock, c.size)
	}
	root := vd[156 : 156+34]
	if root[0] != 34 || root[32] != 1 || root[25]&0x02 == 0 {
		return errors.New("the root directory record is not a 34-byte directory record")
	}
	dirs, err := c.tree(root, !supplementary)
	if err != nil {
		return err
	}
	ptSize := int64(binary.LittleEndian.Uint32(vd[132:]))
	if ptSize > isoMaxPathTable {
		return fmt.Errorf("path table of %d bytes, at most %d", ptSize, isoMaxPathTable)
	}
	pt, err := c.read(int64(binary.LittleEndian.Uint32(vd[140:]))*isoBlock, ptSize)
	if err != nil {
		return fmt.Errorf("path table: %w", err)
	}
	for i := 0; i < len(pt); {
		if i+8 > len(pt) {
			return fmt.Errorf("path table entry at byte %d is cut off", i)
		}
		n := int(pt[i])
		next := i + 8 + n + n%2
		if n == 0 || next > len(pt) {
			return fmt.Errorf("path table entry at byte %d has a bad name length %d", i, n)
		}
		if loc := binary.LittleEndian.Uint32(pt[i+2:]); !dirs[loc] {
			return fmt.Errorf("path table entry at byte %d points to block %d, not a directory of the tree", i, loc)
		}
		i = next
	}
	return nil
}

// tree walks the directory tree from root, checking every record, and
// returns the extents of its directories.
func (c *isoChecker) tree(root []byte, susp bool) (map[uint32]bool, error) {
	seen := map[uint32]bool{}
	queue := [][]byte{root}
	for len(queue) > 0 {
		rec := queue[0]
		queue = queue[1:]
		loc, n := binary.LittleEndian.Uint32(rec[2:]), int64(binary.LittleEndian.Uint32(rec[10:]))
		if seen[loc] {
			continue
		}
		if len(seen) == isoMaxDirectories {
			return nil, fmt.Errorf("more than %d directories", isoMaxDirectories)
		}
		seen[loc] = true
		if n > isoMaxDirectory {
			return nil, fmt.Errorf("directory at block %d has %d bytes, at most %d", loc, n, isoMaxDirectory)
		}
		if c.dirBytes += n; c.dirBytes > isoMaxDirTotal {
			return nil, fmt.Errorf("directories of more than %d bytes in all", isoMaxDirTotal)
		}
		dir, err := c.read(int64(loc)*isoBlock, n)
		if err != nil {
			return nil, fmt.Errorf("directory at block %d: %w", loc, err)
		}
		subdirs, err := c.records(dir, susp)
		if err != nil {
			return nil, fmt.Errorf("directory at block %d: %w", loc, err)
		}
		queue = append(queue, subdirs...)
	}
	return seen, nil
}

// records checks the records of one directory extent and returns those of
// its subdirectories (not . and ..).
func (c *isoChecker) records(dir []byte, susp bool) ([][]byte, error) {
	var subdirs [][]byte
	for i := 0; i < len(dir); {
		n := int(dir[i])
		if n == 0 { // the rest of this block is padding
			i += isoBlock - i%isoBlock
			continue
		}
		if n < 34 || i+n > len(dir) || i/isoBlock != (i+n-1)/isoBlock {
			return nil, fmt.Errorf("record at byte %d: length %d", i, n)
		}
		rec := dir[i : i+n]
		nameLen := int(rec[32])
		if nameLen == 0 || 33+nameLen > n {
			return nil, fmt.Errorf("record at byte %d: name length %d in a record of %d bytes", i, nameLen, n)
		}
		loc, size := int64(binary.LittleEndian.Uint32(rec[2:])), int64(binary.LittleEndian.Uint32(rec[10:]))
		if loc*isoBlock > c.size || size > c.size-loc*isoBlock {
			return nil, fmt.Errorf("record at byte %d: extent of %d bytes at block %d lies outside the image", i, size, loc)
		}
		if susp {
			pad := 0
			if nameLen > 1 && nameLen%2 == 0 {
				pad = 1 // as go-diskfs reads it
			}
			if 33+nameLen+pad < n {
				if err := c.susp(rec[33+nameLen+pad:]); err != nil {
					return nil, fmt.Errorf("record at byte %d: %w", i, err)
				}
			}
		}
		self := nameLen == 1 && (rec[33] == 0 || rec[33] == 1)
		if rec[25]&0x02 != 0 && !self {
			subdirs = append(subdirs, rec)
		}
		i += n
	}
	return subdirs, nil
}

// susp checks the System Use entries of a record: each entry inside the
// area, and the continuation areas (CE) it chains inside the image,
// bounded in size and in number.
func (c *isoChecker) susp(area []byte) error {
	for hops := 0; ; hops++ {
		var next []byte
		for i := 0; i+3 < len(area); {
			n := int(area[i+2])
			if n < 4 {
				break
			}
			if i+n > len(area) {
				return fmt.Errorf("system use entry %q of %d bytes at byte %d is cut off", area[i:i+2], n, i)
			}
			if string(area[i:i+2]) == "CE" {
				if n != 28 {
					return fmt.Errorf("continuation entry of %d bytes, not 28", n)
				}
				loc := int64(binary.LittleEndian.Uint32(area[i+4:]))
				off := int64(binary.LittleEndian.Uint32(area[i+12:]))
				size := int64(binary.LittleEndian.Uint32(area[i+20:]))
				if size > isoMaxContinuation {
					return fmt.Errorf("continuation area of %d bytes, at most %d", size, isoMaxContinuation)
				}
				b, err := c.read(loc*isoBlock+off, size)
				if err != nil {
					return fmt.Errorf("continuation area: %w", err)
				}
				next = b
			}
			i += n
		}
		if next == nil {
			return nil
		}
		if hops == isoMaxCEChain {
			return fmt.Errorf("more than %d chained continuation areas", isoMaxCEChain)
		}
		area = next
	}
}
