package images

import "fmt"

// zeroMethod is how a target is made to read zeros over a range it is not
// written.
type zeroMethod int

const (
	zeroWrite   zeroMethod = iota // write zeros
	zeroOut                       // BLKZEROOUT: the device zeroes by itself
	zeroDiscard                   // BLKDISCARD: the device reads zeros after a discard
	zeroPunch                     // a file: punch a hole
	zeroScan                      // read, and write zeros where it is not zero yet
)

// zeroRange makes [off, end) of the target read zeros, by the cheapest
// method it has; a method the target turns out not to support is replaced
// by the next for the rest of the write.
func (t *target) zeroRange(off, end int64) error {
	if t.zeroFrom >= 0 {
		end = min(end, max(off, t.zeroFrom)) // zeros already from there on
	}
	if off >= end {
		return nil
	}
	// The ioctls and hole punching work on whole logical blocks; an
	// unaligned end (the image's last bytes) is written.
	aligned := off + (end-off)/int64(t.align)*int64(t.align)
	for aligned > off && t.zero != zeroWrite {
		var err error
		switch t.zero {
		case zeroScan:
			err = t.zeroScan(off, aligned)
		case zeroPunch:
			err = punchHole(t.f, off, aligned)
		case zeroDiscard:
			err = discardRange(t.f, off, aligned)
		case zeroOut:
			err = zeroOutRange(t.f, off, aligned)
		}
		if err == nil {
			off = aligned
			break
		}
		if !unsupported(err) {
			return fmt.Errorf("zero %s from %d to %d: %w", t.path, off, aligned, err)
		}
		switch t.zero {
		case zeroDiscard:
			t.zero = zeroOut
		case zeroOut:
			t.zero = zeroScan
		default:
			t.zero = zeroWrite
		}
	}
	return t.writeZeros(off, end)
}

// writeZeros writes zeros over [off, end).
func (t *target) writeZeros(off, end int64) error {
	if off >= end {
		return nil
	}
	if t.zeros == nil {
		b, err := alignedBuf(1 << 20)
		if err != nil {
			return err
		}
		t.zeros = b
	}
	for off < end {
		n := min(int64(len(t.zeros)), end-off)
		if err := t.writeAt(t.zeros[:n], off); err != nil {
			return err
		}
		off += n
	}
	return nil
}

// zeroScan reads [off, end) (aligned) and writes zeros over the blocks that
// are not zero.
func (t *target) zeroScan(off, end int64) error {
	if t.scan == nil {
		b, err := alignedBuf(1 << 20)
		if err != nil {
			return err
		}
		t.scan = b
	}
	if err := t.setDirect(true); err != nil {
		return err
	}
	for off < end {
		n := int(min(int64(len(t.scan)), end-off))
		m, err := t.readAt(t.scan[:n], off)
		if err != nil {
			return err
		}
		if m < n {
			return fmt.Errorf("read %s: it ends at %d bytes", t.path, off+int64(m))
		}
		for i := 0; i < n; {
			if allZero(t.scan[i:min(i+mapAlign, n)]) {
				i += mapAlign
				continue
			}
			j := i + mapAlign
			for j < n && !allZero(t.scan[j:min(j+mapAlign, n)]) {
				j += mapAlign
			}
			if err := t.writeZeros(off+int64(i), off+int64(min(j, n))); err != nil {
				return err
			}
			i = j
		}
		off += int64(n)
	}
	return nil
}
