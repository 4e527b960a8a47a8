// Package oscdemo makes what `osc --demo` works on: a generated sample
// image with its checksum and files standing in for USB sticks. It is apart
// from package demo (the simulated device and UMS of setup-assistant
// --demo), so osc does not link the UMS lab and its database.
package oscdemo

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
)

// OSC is what `osc --demo` works on instead of real downloads and drives:
// a generated sample image with its published checksum, and files that
// stand in for USB sticks. Writing to them is a real write to a file.
type OSC struct {
	Dir    string
	Image  string // the sample image
	Sticks []Stick
}

// Stick is a file standing in for a USB stick of a size sticks are sold by.
type Stick struct {
	Path string
	Name string // "Demo stick 1"
	Size int64
}

// The sample image: small enough to write in a moment, an ISO 9660 file
// system so its volume label shows like a real installer's.
const (
	ImageName     = "osc-12.5.0-demo.iso"
	VolumeLabel   = "OSC_12_5_0_DEMO"
	demoImageSize = 48 << 20
	isoBlock      = 2048
)

// demoSticks are the sizes sticks are sold by, one of them under the 4 GB the
// guide asks for, so its warning shows.
var demoSticks = []struct {
	file string
	size int64
}{
	{"demo-stick-1.img", 8_000_000_000},
	{"demo-stick-2.img", 16_000_000_000},
	{"demo-stick-3.img", 2_000_000_000},
}

// PrepareOSC creates the demo's files in dir, replacing earlier ones: the
// sample image, its .sha256 file and the demo sticks (sparse, empty).
func PrepareOSC(dir string) (OSC, error) {
	d := OSC{Dir: dir, Image: filepath.Join(dir, ImageName)}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return d, err
	}
	sum, err := writeDemoImage(d.Image)
	if err != nil {
		return d, err
	}
	line := fmt.Sprintf("%s  %s\n", sum, ImageName)
	if err := os.WriteFile(d.Image+".sha256", []byte(line), 0o644); err != nil {
		return d, err
	}
	for i, s := range demoSticks {
		p := filepath.Join(dir, s.file)
		f, err := os.Create(p)
		if err != nil {
			return d, err
		}
		err = f.Truncate(s.size)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return d, fmt.Errorf("demo stick %s: %w", p, err)
		}
		d.Sticks = append(d.Sticks, Stick{Path: p, Name: fmt.Sprintf("Demo stick %d", i+1), Size: s.size})
	}
	return d, nil
}

// writeDemoImage writes the sample image to path and returns its SHA-256.
// Its content is fixed (seeded), so the same image comes out every time:
// an ISO 9660 volume (primary descriptor with the label, terminator, path
// tables and an empty root directory) followed by data that alternates
// between pseudo-random and zero stretches, like a real image's files and
// gaps.
func writeDemoImage(path string) (string, error) {
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	w := bufio.NewWriterSize(io.MultiWriter(f, h), 1<<20)
	head := ISOHead(demoImageSize, VolumeLabel)
	_, err = w.Write(head)
	rng := rand.NewChaCha8([32]byte{'o', 's', 'c', '-', 'd', 'e', 'm', 'o'})
	buf := make([]byte, 1<<20)
	for off := int64(len(head)); err == nil && off < demoImageSize; off += int64(len(buf)) {
		if (off>>20)%4 == 3 {
			clear(buf)
		} else {
			_, _ = rng.Read(buf)
		}
		_, err = w.Write(buf[:min(int64(len(buf)), demoImageSize-off)])
	}
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("write demo image %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// ISOHead returns the first MiB of an ISO 9660 image of size bytes named
// label: the empty system area, the volume descriptors at block 16 and 17,
// the path tables at 18 and 19 and the root directory at 20.
func ISOHead(size int64, label string) []byte {
	b := make([]byte, 1<<20)
	const pvd, term, lTable, mTable, root = 16, 17, 18, 19, 20
	p := b[pvd*isoBlock : (pvd+1)*isoBlock]
	p[0] = 1
	copy(p[1:6], "CD001")
	p[6] = 1
	padCopy(p[8:40], "LINUX")
	padCopy(p[40:72], label)
	both32(p[80:88], uint32(size/isoBlock))
	both16(p[120:124], 1)
	both16(p[124:128], 1)
	both16(p[128:132], isoBlock)
	both32(p[132:140], 10)
	binary.LittleEndian.PutUint32(p[140:144], lTable)
	binary.BigEndian.PutUint32(p[148:152], mTable)
	dirRecord(p[156:190], root, 0)
	for _, r := range [][2]int{{190, 318}, {318, 446}, {446, 574}, {574, 702}, {702, 739}, {739, 776}, {776, 813}} {
		padCopy(p[r[0]:r[1]], "")
	}
	padCopy(p[574:702], "ONRAMP OSC DEMO")
	for _, at := range []int{813, 830} {
		copy(p[at:at+16], "2025010112000000")
	}
	for _, at := range []int{847, 864} {
		copy(p[at:at+16], "0000000000000000")
	}
	p[881] = 1

	t := b[term*isoBlock:]
	t[0] = 255
	copy(t[1:6], "CD001")
	t[6] = 1

	// One path table entry: the root directory, its own parent.
	l := b[lTable*isoBlock:]
	l[0] = 1
	binary.LittleEndian.PutUint32(l[2:6], root)
	binary.LittleEndian.PutUint16(l[6:8], 1)
	m := b[mTable*isoBlock:]
	m[0] = 1
	binary.BigEndian.PutUint32(m[2:6], root)
	binary.BigEndian.PutUint16(m[6:8], 1)

	r := b[root*isoBlock:]
	dirRecord(r[0:34], root, 0)
	dirRecord(r[34:68], root, 1)
	return b
}

// dirRecord fills a 34-byte directory record for the root directory's "."
// (id 0) or ".." (id 1).
func dirRecord(r []byte, extent uint32, id byte) {
	r[0] = 34
	both32(r[2:10], extent)
	both32(r[10:18], isoBlock)
	copy(r[18:25], []byte{125, 1, 1, 12, 0, 0, 0}) // 2025-01-01 12:00:00 UTC
	r[25] = 2                                      // directory
	both16(r[28:32], 1)
	r[32] = 1
	r[33] = id
}

func both16(b []byte, v uint16) {
	binary.LittleEndian.PutUint16(b[0:2], v)
	binary.BigEndian.PutUint16(b[2:4], v)
}

func both32(b []byte, v uint32) {
	binary.LittleEndian.PutUint32(b[0:4], v)
	binary.BigEndian.PutUint32(b[4:8], v)
}

// padCopy copies s into b and fills the rest with spaces, as ISO 9660
// strings are.
func padCopy(b []byte, s string) {
	n := copy(b, s)
	for i := n; i < len(b); i++ {
		b[i] = ' '
	}
}
