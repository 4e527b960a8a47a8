//go:build linux || darwin

package images

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// alignedBuf allocates n bytes outside the Go heap with page alignment, as
// O_DIRECT needs: address, length and offset aligned to the logical block
// size, which never exceeds a page.
func alignedBuf(n int) ([]byte, error) {
	b, err := unix.Mmap(-1, 0, n, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return nil, fmt.Errorf("allocate %d-byte I/O buffer: %w", n, err)
	}
	return b, nil
}

func freeAligned(b []byte) {
	if b != nil {
		_ = unix.Munmap(b[:cap(b)])
	}
}
