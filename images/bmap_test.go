package images

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onramp-os/onramp/internal/exitcode"
	"github.com/onramp-os/onramp/internal/testutil"
)

// sparseImage writes a sparse image of size bytes with random data at the
// given offsets (one 4 KiB block-aligned run each, of len bytes), holes
// elsewhere, and returns its content.
func sparseImage(t *testing.T, path string, size int64, runs ...[2]int64) []byte {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	img := make([]byte, size)
	for i, r := range runs {
		data := installerLike(int(r[1]), uint64(100+i))
		for j := range data {
			data[j] |= 1 // no zero bytes: every block is data
		}
		copy(img[r[0]:], data)
		if _, err := f.WriteAt(data, r[0]); err != nil {
			t.Fatal(err)
		}
	}
	return img
}

// sparseRuns is the layout the bmap tests use: data in the head, in the
// middle (not on a 4 KiB boundary at its end) and in the image's last,
// partial block.
var sparseRuns = [][2]int64{{0, 64 << 10}, {5<<20 + 8192, 3<<20 + 100}, {20<<20 - 4096, 4096 + 1000}}

const sparseSize = 20<<20 + 1000

func TestCreateBmapMatchesBmaptool(t *testing.T) {
	testutil.RequireTools(t, "bmaptool")
	dir := t.TempDir()
	img := filepath.Join(dir, "sparse.img")
	sparseImage(t, img, sparseSize, sparseRuns...)
	testutil.Run(t, "bmaptool", "create", "-o", img+".theirs", img)
	theirs, err := LoadBmap(img + ".theirs")
	if err != nil {
		t.Fatal(err)
	}
	ours, err := CreateBmap(context.Background(), inspect(t, img))
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(ours.Ranges) != fmt.Sprint(theirs.Ranges) || ours.ImageSize != theirs.ImageSize ||
		ours.BlocksCount != theirs.BlocksCount || ours.MappedBlocks != theirs.MappedBlocks {
		t.Fatalf("ours %+v\ntheirs %+v", ours, theirs)
	}
	// Marshalled and read back, it is the same map, its own checksum good.
	back, err := ParseBmap("ours", ours.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(back.Ranges) != fmt.Sprint(ours.Ranges) {
		t.Fatalf("read back %v, want %v", back.Ranges, ours.Ranges)
	}
}

// TestCreateBmapCompressedAndZeros: an xz image is mapped as it decodes, and
// blocks of zeros that are not holes are left unmapped too.
func TestCreateBmapCompressedAndZeros(t *testing.T) {
	testutil.RequireTools(t, "xz")
	dir := t.TempDir()
	raw := filepath.Join(dir, "dense.img")
	img := make([]byte, 3<<20+512)
	copy(img[4096:], bytes.Repeat([]byte{7}, 4096*3))
	img[2<<20+17] = 1
	img[len(img)-1] = 1
	writeFile(t, raw, img)
	testutil.Run(t, "xz", "-k", "-0", raw)
	for _, p := range []string{raw, raw + ".xz"} {
		b, err := CreateBmap(context.Background(), inspect(t, p))
		if err != nil {
			t.Fatal(err)
		}
		last := int64(len(img)-1) / 4096
		if got, want := fmt.Sprint(rangesOf(b)), fmt.Sprint([][2]int64{{1, 3}, {512, 512}, {last, last}}); got != want {
			t.Errorf("%s: ranges %s, want %s", p, got, want)
		}
		if b.ImageSize != int64(len(img)) || b.MappedBytes() != 4*4096+512 {
			t.Errorf("%s: size %d mapped %d", p, b.ImageSize, b.MappedBytes())
		}
	}
	if got, want := BmapPathFor(inspect(t, raw+".xz")), raw+".bmap"; got != want {
		t.Errorf("BmapPathFor = %s, want %s", got, want)
	}
}

func rangesOf(b *Bmap) [][2]int64 {
	var out [][2]int64
	for _, r := range b.Ranges {
		out = append(out, [2]int64{r.First, r.Last})
	}
	return out
}

// oldBmap writes a bmap of format 1.x the way bmaptool 2.x-3.x did: 1.3
// with SHA-1 in "sha1" attributes and BmapFileSHA1, 1.2 without checksums.
func oldBmap(version string, size int64, ranges [][2]int64, img []byte) []byte {
	var w bytes.Buffer
	fmt.Fprintf(&w, "<?xml version=\"1.0\" ?>\n<bmap version=\"%s\">\n <ImageSize> %d </ImageSize>\n <BlockSize> 4096 </BlockSize>\n", version, size)
	fmt.Fprintf(&w, " <BlocksCount> %d </BlocksCount>\n", (size+4095)/4096)
	mapped := int64(0)
	for _, r := range ranges {
		mapped += r[1] - r[0] + 1
	}
	fmt.Fprintf(&w, " <MappedBlocksCount> %d </MappedBlocksCount>\n", mapped)
	if version == "1.3" {
		fmt.Fprintf(&w, " <BmapFileSHA1> %s </BmapFileSHA1>\n", strings.Repeat("0", 40))
	}
	w.WriteString(" <BlockMap>\n")
	for _, r := range ranges {
		attr := ""
		if version == "1.3" {
			s := sha1.Sum(img[r[0]*4096 : min((r[1]+1)*4096, size)])
			attr = fmt.Sprintf(" sha1=\"%x\"", s)
		}
		if r[0] == r[1] {
			fmt.Fprintf(&w, "  <Range%s> %d </Range>\n", attr, r[0])
		} else {
			fmt.Fprintf(&w, "  <Range%s> %d-%d </Range>\n", attr, r[0], r[1])
		}
	}
	w.WriteString(" </BlockMap>\n</bmap>\n")
	out := w.Bytes()
	if version == "1.3" {
		s := sha1.Sum(out)
		i := bytes.Index(out, []byte(strings.Repeat("0", 40)))
		copy(out[i:], hex.EncodeToString(s[:]))
	}
	return out
}

func TestParseBmapVersions(t *testing.T) {
	img := installerLike(40960+100, 30)
	ranges := [][2]int64{{0, 1}, {4, 4}, {10, 10}}
	for _, v := range []string{"1.2", "1.3"} {
		b, err := ParseBmap("old.bmap", oldBmap(v, int64(len(img)), ranges, img))
		if err != nil {
			t.Fatalf("%s: %v", v, err)
		}
		wantType := map[string]string{"1.2": "", "1.3": "sha1"}[v]
		if b.ChecksumType != wantType || fmt.Sprint(rangesOf(b)) != fmt.Sprint(ranges) || b.MappedBytes() != 3*4096+100 {
			t.Errorf("%s: %+v", v, b)
		}
		if v == "1.3" && b.Ranges[2].Checksum == "" {
			t.Errorf("1.3: no range checksum read")
		}
	}
	// Version 2.0 with each checksum type, and 1.4 (2.0 by another number).
	for _, kind := range []string{"sha256", "sha1", "md5"} {
		b := bmapOf(img, 4096, kind, ranges)
		data := b.Marshal()
		if kind == "md5" {
			data = bytes.Replace(data, []byte(`version="2.0"`), []byte(`version="1.4"`), 1)
			data = fixSelfSum(data, kind)
		}
		got, err := ParseBmap("x.bmap", data)
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		if got.ChecksumType != kind || fmt.Sprint(got.Ranges) != fmt.Sprint(b.Ranges) {
			t.Errorf("%s: %+v", kind, got)
		}
	}
}

// bmapOf makes a bmap of img with the given block ranges and checksums.
func bmapOf(img []byte, bs int64, kind string, ranges [][2]int64) *Bmap {
	size := int64(len(img))
	b := &Bmap{Version: "2.0", BlockSize: bs, ImageSize: size, BlocksCount: (size + bs - 1) / bs, ChecksumType: kind}
	for _, r := range ranges {
		h := b.newHash()
		h.Write(img[r[0]*bs : min((r[1]+1)*bs, size)])
		b.Ranges = append(b.Ranges, BmapRange{r[0], r[1], hex.EncodeToString(h.Sum(nil))})
		b.MappedBlocks += r[1] - r[0] + 1
	}
	return b
}

// fixSelfSum recomputes the BmapFileChecksum of an edited bmap.
func fixSelfSum(data []byte, kind string) []byte {
	h, _ := newBmapHash(kind)
	start := bytes.Index(data, []byte("<BmapFileChecksum> ")) + len("<BmapFileChecksum> ")
	n := 2 * h.Size()
	copy(data[start:], strings.Repeat("0", n))
	h.Write(data)
	copy(data[start:], hex.EncodeToString(h.Sum(nil)))
	return data
}

// TestParseBmapRefuses: every flaw is an ImageInvalid error (exit 5) naming
// the field.
func TestParseBmapRefuses(t *testing.T) {
	img := installerLike(40960, 31)
	good := bmapOf(img, 4096, "sha256", [][2]int64{{0, 1}, {4, 4}}).Marshal()
	edit := func(old, new string) []byte {
		return fixSelfSum(bytes.Replace(bytes.Clone(good), []byte(old), []byte(new), 1), "sha256")
	}
	tampered := bytes.Replace(bytes.Clone(good), []byte("> 4 </Range>"), []byte("> 5 </Range>"), 1)
	for _, tt := range []struct {
		name, want string
		data       []byte
	}{
		{"tampered", "BmapFileChecksum", tampered},
		{"not xml", "not a bmap XML", []byte("hello")},
		{"version", `version "3.0"`, edit(`version="2.0"`, `version="3.0"`)},
		{"checksum type", `ChecksumType "crc32"`, edit("<ChecksumType> sha256 ", "<ChecksumType> crc32 ")},
		{"image size", "ImageSize", edit("<ImageSize> 40960 ", "<ImageSize> -5 ")},
		{"blocks count", "BlocksCount 10 does not fit ImageSize 50000", edit("<ImageSize> 40960 ", "<ImageSize> 50000 ")},
		{"block size", "BlockSize", edit("<BlockSize> 4096 ", "<BlockSize> 0 ")},
		{"outside", `Range 2 "12" lies outside the image (BlocksCount 10)`, edit("> 4 </Range>", "> 12 </Range>")},
		{"reversed", `Range 1 "1-0"`, edit("> 0-1 </Range>", "> 1-0 </Range>")},
		{"overlap", "Range 1-4 overlaps range 0-1", edit("> 4 </Range>", "> 1-4 </Range>")},
		{"mapped count", "MappedBlocksCount 3, but the ranges hold 4", edit("> 4 </Range>", "> 4-5 </Range>")},
		{"range checksum", "Range 1: checksum", edit(`chksum="`, `chksum="zz`)},
		{"missing self checksum", "BmapFileChecksum missing", bytes.Replace(bytes.Clone(good), []byte("BmapFileChecksum>"), []byte("Other>"), 2)},
	} {
		_, err := ParseBmap("x.bmap", tt.data)
		if exitcode.KindOf(err) != exitcode.ImageInvalid || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want ImageInvalid naming %q", tt.name, err, tt.want)
		}
	}

	// ImageSize against the image itself.
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a.img"), img[:40000])
	b, err := ParseBmap("x.bmap", good)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Check(inspect(t, filepath.Join(dir, "a.img"))); exitcode.KindOf(err) != exitcode.ImageInvalid || !strings.Contains(err.Error(), "ImageSize 40960") {
		t.Errorf("Check: %v", err)
	}
}

func TestFindBmap(t *testing.T) {
	dir := t.TempDir()
	img := filepath.Join(dir, "osc-1.0.iso.xz")
	writeFile(t, img, []byte("x"))
	if got := FindBmap(img); got != "" {
		t.Errorf("no bmap: found %q", got)
	}
	writeFile(t, filepath.Join(dir, "osc-1.0.iso.bmap"), nil)
	if got := FindBmap(img); got != filepath.Join(dir, "osc-1.0.iso.bmap") {
		t.Errorf("found %q, want osc-1.0.iso.bmap", got)
	}
	writeFile(t, img+".bmap", nil)
	if got := FindBmap(img); got != img+".bmap" {
		t.Errorf("found %q, want %s.bmap first", got, img)
	}
}

// writeWithBmap writes path (its bmap made by CreateBmap from raw) to dst.
func writeWithBmap(t *testing.T, raw, path, dst string, opt Options) Result {
	t.Helper()
	b, err := CreateBmap(context.Background(), inspect(t, raw))
	if err != nil {
		t.Fatal(err)
	}
	opt.Bmap = b
	return onlyResult(t, Write(context.Background(), inspect(t, path), []string{dst}, opt))
}

// TestWriteBmapVerifiesMappedOnly: the read-back covers the mapped ranges
// (a flipped byte there fails, naming it) and nothing else (a byte changed
// in an unmapped range after the write is not read).
func TestWriteBmapVerifiesMappedOnly(t *testing.T) {
	dir := t.TempDir()
	raw := filepath.Join(dir, "sparse.img")
	img := sparseImage(t, raw, sparseSize, sparseRuns...)
	for _, tt := range []struct {
		at   int64
		fail bool
	}{{6<<20 + 5, true}, {12 << 20, false}} {
		dst := filepath.Join(t.TempDir(), "t.img")
		testHookBeforeVerify = func(path string) {
			f, err := os.OpenFile(path, os.O_WRONLY, 0)
			if err != nil {
				t.Error(err)
				return
			}
			defer f.Close()
			f.WriteAt([]byte{^img[tt.at]}, tt.at)
		}
		r := writeWithBmap(t, raw, raw, dst, Options{Verify: true})
		testHookBeforeVerify = nil
		switch {
		case tt.fail && (exitcode.KindOf(r.Err) != exitcode.VerifyFailed || !strings.Contains(r.Err.Error(), fmt.Sprintf("at byte %d ", tt.at))):
			t.Errorf("flipped mapped byte %d: %v", tt.at, r.Err)
		case !tt.fail && r.Err != nil:
			t.Errorf("changed unmapped byte %d: %v", tt.at, r.Err)
		}
	}
}

// TestWriteBmapRefusesMismatch: an image that does not match its bmap's
// range checksums or ImageSize (known only as a gzip image streams) fails
// with ImageInvalid naming what, and leaves no bootable head.
func TestWriteBmapRefusesMismatch(t *testing.T) {
	testutil.RequireTools(t, "gzip")
	dir := t.TempDir()
	raw := filepath.Join(dir, "sparse.img")
	img := sparseImage(t, raw, sparseSize, sparseRuns...)
	b, err := CreateBmap(context.Background(), inspect(t, raw))
	if err != nil {
		t.Fatal(err)
	}
	other := bytes.Clone(img)
	other[6<<20] ^= 0x40
	writeFile(t, filepath.Join(dir, "other.img"), other)
	dst := filepath.Join(dir, "t.img")
	r := onlyResult(t, Write(context.Background(), inspect(t, filepath.Join(dir, "other.img")), []string{dst}, Options{Bmap: b}))
	if exitcode.KindOf(r.Err) != exitcode.ImageInvalid || !strings.Contains(r.Err.Error(), "Range 1282-2050 has sha256") {
		t.Fatalf("changed image: %v", r.Err)
	}
	if got, _ := os.ReadFile(dst); !bytes.Equal(got[:headSize], make([]byte, headSize)) {
		t.Error("a target written from a mismatching image keeps a head")
	}

	// A gzip image one block longer than ImageSize: its size shows as it
	// streams.
	long := append(bytes.Clone(img), bytes.Repeat([]byte{1}, 4096)...)
	writeFile(t, filepath.Join(dir, "long.img"), long)
	testutil.Run(t, "gzip", "-1", filepath.Join(dir, "long.img"))
	src := inspect(t, filepath.Join(dir, "long.img.gz"))
	if src.SizeExact {
		t.Fatal("gzip size should be a lower bound")
	}
	r = onlyResult(t, Write(context.Background(), src, []string{filepath.Join(dir, "t2.img")}, Options{Bmap: b}))
	if exitcode.KindOf(r.Err) != exitcode.ImageInvalid || !strings.Contains(r.Err.Error(), "ImageSize") {
		t.Fatalf("longer image: %v", r.Err)
	}
}

// TestBmaptoolCompatibility: bmaptool copy writes an image with our bmap,
// and osc writes one with the bmap of bmaptool create; both give the image.
func TestBmaptoolCompatibility(t *testing.T) {
	testutil.RequireTools(t, "bmaptool", "cmp")
	dir := t.TempDir()
	raw := filepath.Join(dir, "sparse.img")
	sparseImage(t, raw, sparseSize, sparseRuns...)
	ours, err := CreateBmap(context.Background(), inspect(t, raw))
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteBmapFile(filepath.Join(dir, "ours.bmap"), ours); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "by-bmaptool.img")
	testutil.Run(t, "bmaptool", "copy", "--bmap", filepath.Join(dir, "ours.bmap"), raw, out)
	testutil.Run(t, "cmp", raw, out)

	testutil.Run(t, "bmaptool", "create", "-o", filepath.Join(dir, "theirs.bmap"), raw)
	theirs, err := LoadBmap(filepath.Join(dir, "theirs.bmap"))
	if err != nil {
		t.Fatal(err)
	}
	out = filepath.Join(dir, "by-osc.img")
	writeFile(t, out, bytes.Repeat([]byte{0x5A}, sparseSize))
	r := onlyResult(t, Write(context.Background(), inspect(t, raw), []string{out}, Options{Verify: true, Bmap: theirs}))
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	testutil.Run(t, "cmp", raw, out)
}

func FuzzParseBmap(f *testing.F) {
	img := installerLike(40960+100, 32)
	f.Add(bmapOf(img, 4096, "sha256", [][2]int64{{0, 1}, {4, 4}, {10, 10}}).Marshal())
	f.Add(bmapOf(img, 512, "md5", [][2]int64{{0, 80}}).Marshal())
	f.Add(oldBmap("1.3", int64(len(img)), [][2]int64{{0, 1}, {4, 4}}, img))
	f.Add(oldBmap("1.2", int64(len(img)), [][2]int64{{3, 9}}, img))
	f.Add([]byte(`<bmap version="1.0"><ImageSize>1</ImageSize><BlockSize>1</BlockSize><BlocksCount>1</BlocksCount><MappedBlocksCount>1</MappedBlocksCount><BlockMap><Range>0</Range></BlockMap></bmap>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := ParseBmap("fuzz.bmap", data)
		if err != nil {
			if exitcode.KindOf(err) != exitcode.ImageInvalid {
				t.Fatalf("error of kind %v: %v", exitcode.KindOf(err), err)
			}
			return
		}
		// What parses is consistent: ranges sorted, disjoint, inside.
		var mapped int64
		for i, r := range b.Ranges {
			if r.First > r.Last || r.Last >= b.BlocksCount || (i > 0 && r.First <= b.Ranges[i-1].Last) {
				t.Fatalf("bad range %+v in %+v", r, b)
			}
			mapped += r.Last - r.First + 1
		}
		if mapped != b.MappedBlocks || b.MappedBytes() > b.ImageSize {
			t.Fatalf("counts: %+v", b)
		}
		widenMapping(b)
	})
}
