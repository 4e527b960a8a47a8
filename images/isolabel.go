package images

import (
	"bytes"
	"io"
)

// The primary volume descriptor of an ISO 9660 image is the first descriptor,
// in sector 16 of 2048 bytes.
const (
	isoPVDOffset = 16 * 2048
	isoPVDType   = 1
)

var isoStandardID = []byte("CD001")

// ISOLabel reads the volume identifier from the primary volume descriptor of
// an ISO 9660 image: type 1 and "CD001" at byte 32768, the identifier in bytes
// 40 to 72 of it, padded with spaces. It reports false when r holds no such
// descriptor.
func ISOLabel(r io.ReaderAt) (string, bool) {
	var pvd [72]byte
	if n, err := r.ReadAt(pvd[:], isoPVDOffset); n < len(pvd) && err != nil {
		return "", false
	}
	if pvd[0] != isoPVDType || !bytes.Equal(pvd[1:6], isoStandardID) || pvd[6] != 1 {
		return "", false
	}
	id := bytes.TrimRight(pvd[40:72], " \x00")
	for _, c := range id {
		if c < 0x20 || c > 0x7e { // not even a d-character: not a label to show
			return "", false
		}
	}
	return string(id), true
}
