package images

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"time"

	"github.com/onramp-os/onramp/internal/exitcode"
)

// Compare reads path (a block device or file) with direct I/O and checks that
// it starts with exactly the image's bytes, returning how many it compared.
// A difference is a VerifyFailed error naming the first differing byte.
func Compare(ctx context.Context, src Source, path string, progress func(Progress)) (int64, error) {
	rd, err := src.Open()
	if err != nil {
		return 0, err
	}
	defer rd.Close()
	f, direct, err := openDirect(path)
	if err != nil {
		return 0, fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	rt := &target{path: path, f: f, direct: direct, align: 4096}

	const size = 4 << 20
	got, err := alignedBuf(size)
	if err != nil {
		return 0, err
	}
	defer freeAligned(got)
	want := make([]byte, size)
	meter := newRateMeter()
	report := func(done int64, final bool) {
		if progress == nil {
			return
		}
		total := int64(0)
		if src.SizeExact {
			total = src.Size
		}
		rate := meter.add(time.Now(), done)
		ph := PhaseVerify
		if final {
			ph = PhaseDone
		}
		progress(Progress{Target: path, Phase: ph, Bytes: done, Total: total, Rate: rate, ETA: eta(done, total, rate)})
	}
	var off int64
	last := time.Now()
	for {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		n, rerr := io.ReadFull(rd, want)
		if n > 0 {
			m, err := rt.readAt(got[:roundUp(int64(n), 4096)], off)
			if err != nil {
				return 0, err
			}
			if m < n {
				return 0, exitcode.New(exitcode.VerifyFailed, "%s ends at byte %d, before the image does", path, off+int64(m))
			}
			if !bytes.Equal(got[:n], want[:n]) {
				for i := range n {
					if got[i] != want[i] {
						return 0, exitcode.New(exitcode.VerifyFailed, "%s differs from the image at byte %d (offset 0x%x)", path, off+int64(i), off+int64(i))
					}
				}
			}
			off += int64(n)
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			report(off, true)
			return off, nil
		}
		if rerr != nil {
			return 0, fmt.Errorf("read %s: %w", src.Path, rerr)
		}
		if time.Since(last) > 200*time.Millisecond {
			report(off, false)
			last = time.Now()
		}
	}
}
