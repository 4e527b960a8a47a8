package images

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/onramp-os/onramp/internal/exitcode"
)

// A block map (bmap, the XML format of bmaptool) lists the blocks of an
// image that hold data; the others need neither writing nor verifying.

const (
	// bmapMaxFile bounds the bmap file read: one range per 4 KiB of a 1 TiB
	// image that alternates data and holes would still fit.
	bmapMaxFile = 64 << 20
	// bmapMaxImage bounds ImageSize (and so every offset computed from it).
	bmapMaxImage = 1 << 50
	// bmapMaxBlock bounds BlockSize.
	bmapMaxBlock = 1 << 30
)

// Bmap is a parsed block map.
type Bmap struct {
	Path         string // the file it was read from
	Version      string // "1.0" to "2.x"
	BlockSize    int64
	ImageSize    int64
	BlocksCount  int64
	MappedBlocks int64
	ChecksumType string      // sha256, sha1 or md5; "" for versions 1.0-1.2, which have none
	Ranges       []BmapRange // sorted, disjoint, within the image
}

// BmapRange is a run of mapped blocks, First to Last inclusive, with the
// hex checksum of its bytes ("" when the bmap gives none).
type BmapRange struct {
	First, Last int64
	Checksum    string
}

// rangeBytes is where r lies in the image, in bytes (the image's last block
// may be partial).
func (b *Bmap) rangeBytes(r BmapRange) (start, end int64) {
	return r.First * b.BlockSize, min((r.Last+1)*b.BlockSize, b.ImageSize)
}

// MappedBytes is how many bytes of the image the bmap maps.
func (b *Bmap) MappedBytes() int64 {
	var n int64
	for _, r := range b.Ranges {
		s, e := b.rangeBytes(r)
		n += e - s
	}
	return n
}

func (b *Bmap) newHash() hash.Hash {
	switch b.ChecksumType {
	case "sha256":
		return sha256.New()
	case "sha1":
		return sha1.New()
	case "md5":
		return md5.New()
	}
	return nil
}

func newBmapHash(kind string) (hash.Hash, bool) {
	h := (&Bmap{ChecksumType: kind}).newHash()
	return h, h != nil
}

// bmapXML is the document as bmaptool writes it; numbers are kept as text so
// that errors can name the field.
type bmapXML struct {
	XMLName           xml.Name `xml:"bmap"`
	Version           string   `xml:"version,attr"`
	ImageSize         *string  `xml:"ImageSize"`
	BlockSize         *string  `xml:"BlockSize"`
	BlocksCount       *string  `xml:"BlocksCount"`
	MappedBlocksCount *string  `xml:"MappedBlocksCount"`
	ChecksumType      *string  `xml:"ChecksumType"`
	BmapFileChecksum  *string  `xml:"BmapFileChecksum"`
	BmapFileSHA1      *string  `xml:"BmapFileSHA1"`
	BlockMap          *struct {
		Ranges []struct {
			Text   string `xml:",chardata"`
			Chksum string `xml:"chksum,attr"`
			SHA1   string `xml:"sha1,attr"`
		} `xml:"Range"`
	} `xml:"BlockMap"`
}

// LoadBmap reads and checks the bmap file at path (ParseBmap).
func LoadBmap(path string) (*Bmap, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, exitcode.Wrap(exitcode.ImageInvalid, fmt.Errorf("open bmap: %w", err))
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, bmapMaxFile+1))
	if err != nil {
		return nil, exitcode.Wrap(exitcode.ImageInvalid, fmt.Errorf("read bmap %s: %w", path, err))
	}
	if len(data) > bmapMaxFile {
		return nil, exitcode.New(exitcode.ImageInvalid, "bmap %s: larger than %d MiB", path, bmapMaxFile>>20)
	}
	return ParseBmap(path, data)
}

// ParseBmap parses a bmap (format versions 1.x and 2.x) and checks it: its
// own checksum (BmapFileChecksum, BmapFileSHA1: the file hashed with that
// value replaced by zeros, as bmaptool does), the counts against the image
// size and the ranges. Every problem is an ImageInvalid error naming path
// and the field.
func ParseBmap(path string, data []byte) (*Bmap, error) {
	bad := func(format string, args ...any) (*Bmap, error) {
		return nil, exitcode.New(exitcode.ImageInvalid, "bmap %s: %s", path, fmt.Sprintf(format, args...))
	}
	var doc bmapXML
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	if err := dec.Decode(&doc); err != nil {
		return bad("not a bmap XML document: %v", err)
	}
	b := &Bmap{Path: path, Version: strings.TrimSpace(doc.Version)}
	major, minor, ok := parseVersion(b.Version)
	if !ok || major < 1 || major > 2 {
		return bad("version %q: supported are 1.x and 2.x", b.Version)
	}
	var selfSum *string
	switch {
	case major == 2 || minor >= 4:
		if doc.ChecksumType == nil {
			return bad("ChecksumType missing (needed by version %s)", b.Version)
		}
		b.ChecksumType = strings.ToLower(strings.TrimSpace(*doc.ChecksumType))
		if _, ok := newBmapHash(b.ChecksumType); !ok {
			return bad("ChecksumType %q: supported are sha256, sha1 and md5", b.ChecksumType)
		}
		if selfSum = doc.BmapFileChecksum; selfSum == nil {
			return bad("BmapFileChecksum missing (needed by version %s)", b.Version)
		}
	case minor == 3:
		b.ChecksumType = "sha1"
		if selfSum = doc.BmapFileSHA1; selfSum == nil {
			return bad("BmapFileSHA1 missing (needed by version %s)", b.Version)
		}
	}
	if selfSum != nil {
		field := "BmapFileChecksum"
		if doc.BmapFileChecksum == nil {
			field = "BmapFileSHA1"
		}
		if err := checkSelfSum(data, strings.TrimSpace(*selfSum), b.ChecksumType); err != nil {
			return bad("%s: %v", field, err)
		}
	}

	var err error
	num := func(field string, v *string, lo, hi int64) int64 {
		if err != nil {
			return 0
		}
		if v == nil {
			err = fmt.Errorf("%s missing", field)
			return 0
		}
		n, perr := strconv.ParseInt(strings.TrimSpace(*v), 10, 64)
		if perr != nil || n < lo || n > hi {
			err = fmt.Errorf("%s %q: want a whole number from %d to %d", field, strings.TrimSpace(*v), lo, hi)
		}
		return n
	}
	b.ImageSize = num("ImageSize", doc.ImageSize, 1, bmapMaxImage)
	b.BlockSize = num("BlockSize", doc.BlockSize, 1, bmapMaxBlock)
	b.BlocksCount = num("BlocksCount", doc.BlocksCount, 0, bmapMaxImage)
	b.MappedBlocks = num("MappedBlocksCount", doc.MappedBlocksCount, 0, bmapMaxImage)
	if err != nil {
		return bad("%v", err)
	}
	if want := (b.ImageSize + b.BlockSize - 1) / b.BlockSize; b.BlocksCount != want {
		return bad("BlocksCount %d does not fit ImageSize %d with BlockSize %d (want %d)", b.BlocksCount, b.ImageSize, b.BlockSize, want)
	}
	if doc.BlockMap == nil {
		return bad("BlockMap missing")
	}
	sumLen := 0
	if h, ok := newBmapHash(b.ChecksumType); ok {
		sumLen = 2 * h.Size()
	}
	for i, x := range doc.BlockMap.Ranges {
		r, err := parseRange(x.Text)
		if err != nil {
			return bad("Range %d %q: %v", i+1, strings.TrimSpace(x.Text), err)
		}
		if r.Last >= b.BlocksCount {
			return bad("Range %d %q lies outside the image (BlocksCount %d)", i+1, strings.TrimSpace(x.Text), b.BlocksCount)
		}
		// Versions before 1.3 have no checksums (bmaptool ignores any).
		sum := ""
		switch {
		case major == 1 && minor == 3:
			sum = x.SHA1
		case sumLen > 0:
			sum = x.Chksum
		}
		sum = strings.ToLower(strings.TrimSpace(sum))
		if sum != "" {
			if _, err := hex.DecodeString(sum); err != nil || len(sum) != sumLen {
				return bad("Range %d: checksum %q is not %d hex digits of %s", i+1, sum, sumLen, b.ChecksumType)
			}
		}
		r.Checksum = sum
		b.Ranges = append(b.Ranges, r)
	}
	slices.SortFunc(b.Ranges, func(x, y BmapRange) int { return cmpInt64(x.First, y.First) })
	var mapped int64
	for i, r := range b.Ranges {
		if i > 0 && r.First <= b.Ranges[i-1].Last {
			return bad("Range %d-%d overlaps range %d-%d", r.First, r.Last, b.Ranges[i-1].First, b.Ranges[i-1].Last)
		}
		mapped += r.Last - r.First + 1
	}
	if mapped != b.MappedBlocks {
		return bad("MappedBlocksCount %d, but the ranges hold %d blocks", b.MappedBlocks, mapped)
	}
	return b, nil
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func parseVersion(v string) (major, minor int, ok bool) {
	a, b, found := strings.Cut(v, ".")
	if !found {
		return 0, 0, false
	}
	var err1, err2 error
	major, err1 = strconv.Atoi(a)
	minor, err2 = strconv.Atoi(b)
	return major, minor, err1 == nil && err2 == nil && minor >= 0
}

// parseRange reads "X-Y" or "X" (block numbers).
func parseRange(s string) (BmapRange, error) {
	a, b, isRange := strings.Cut(s, "-")
	first, err := strconv.ParseInt(strings.TrimSpace(a), 10, 64)
	if err != nil || first < 0 {
		return BmapRange{}, errors.New("want a block number or FIRST-LAST")
	}
	last := first
	if isRange {
		if last, err = strconv.ParseInt(strings.TrimSpace(b), 10, 64); err != nil || last < first {
			return BmapRange{}, errors.New("want FIRST-LAST with FIRST <= LAST")
		}
	}
	return BmapRange{First: first, Last: last}, nil
}

// checkSelfSum checks a bmap's checksum of itself: bmaptool hashes the file
// with the first occurrence of the checksum's text replaced by as many "0".
func checkSelfSum(data []byte, sum, kind string) error {
	h, _ := newBmapHash(kind)
	if len(sum) != 2*h.Size() {
		return fmt.Errorf("%q is not %d hex digits of %s", sum, 2*h.Size(), kind)
	}
	i := bytes.Index(data, []byte(sum))
	if i < 0 {
		return fmt.Errorf("%q not found as written", sum)
	}
	h.Write(data[:i])
	h.Write(bytes.Repeat([]byte{'0'}, len(sum)))
	h.Write(data[i+len(sum):])
	if got := hex.EncodeToString(h.Sum(nil)); got != strings.ToLower(sum) {
		return fmt.Errorf("the file's %s is %s, it says %s: the bmap is damaged or altered", kind, got, sum)
	}
	return nil
}

// Check refuses a bmap that does not describe src: a different ImageSize
// when the image's size is known (an image of unknown size is checked as
// it streams).
func (b *Bmap) Check(src Source) error {
	if src.SizeExact && src.Size != b.ImageSize {
		return exitcode.New(exitcode.ImageInvalid, "bmap %s: ImageSize %d, but %s holds %d bytes", b.Path, b.ImageSize, src.Path, src.Size)
	}
	if !src.SizeExact && src.Size > b.ImageSize {
		return exitcode.New(exitcode.ImageInvalid, "bmap %s: ImageSize %d, but %s holds at least %d bytes", b.Path, b.ImageSize, src.Path, src.Size)
	}
	return nil
}

// FindBmap looks for the bmap of an image where bmaptool does: IMAGE.bmap,
// then with one extension after another taken off (osc.iso.xz: osc.iso.xz.bmap,
// osc.iso.bmap, osc.bmap). It returns "" when there is none.
func FindBmap(image string) string {
	p := image
	for {
		if fi, err := os.Stat(p + ".bmap"); err == nil && fi.Mode().IsRegular() {
			return p + ".bmap"
		}
		ext := filepath.Ext(p)
		if ext == "" || ext == p || strings.HasSuffix(p, "/"+ext) {
			return ""
		}
		p = strings.TrimSuffix(p, ext)
	}
}

// BmapPathFor is where a bmap of src belongs: beside the uncompressed
// image's name (osc.iso.xz: osc.iso.bmap), where FindBmap and bmaptool look.
func BmapPathFor(src Source) string {
	p := src.Path
	if ext := strings.ToLower(filepath.Ext(p)); src.Format != Raw && compressedExt[ext] {
		p = strings.TrimSuffix(p, filepath.Ext(p))
	}
	return p + ".bmap"
}

var compressedExt = map[string]bool{".xz": true, ".gz": true, ".gzip": true, ".zst": true, ".zstd": true, ".bz2": true}

// BmapFor is the block map to write src with: the one at path, or with
// path "" the one FindBmap finds beside the image; loaded and checked
// against src. It is nil, with no error, when there is none.
func BmapFor(src Source, path string) (*Bmap, error) {
	if path == "" {
		path = FindBmap(src.Path)
	}
	if path == "" {
		return nil, nil
	}
	b, err := LoadBmap(path)
	if err != nil {
		return nil, err
	}
	if err := b.Check(src); err != nil {
		return nil, err
	}
	return b, nil
}
