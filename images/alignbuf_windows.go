package images

import "unsafe"

// pageSize is the alignment unbuffered I/O (FILE_FLAG_NO_BUFFERING) needs
// at most: address, length and offset aligned to the sector size, which
// never exceeds a page.
const pageSize = 4096

// alignedBuf allocates n bytes aligned to a page, cut from a larger Go
// allocation (Go's heap does not move objects); the collector frees it.
func alignedBuf(n int) ([]byte, error) {
	b := make([]byte, n+pageSize)
	skip := (pageSize - int(uintptr(unsafe.Pointer(unsafe.SliceData(b))))%pageSize) % pageSize
	return b[skip : skip+n : skip+n], nil
}

// freeAligned: the collector frees what alignedBuf cut.
func freeAligned([]byte) {}
