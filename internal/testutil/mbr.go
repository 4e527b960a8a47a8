package testutil

import "encoding/binary"

// MBRWithOnePartition returns a boot sector whose table has one type-0x83
// partition from sector 2048 to the end of a disk of size bytes.
func MBRWithOnePartition(size int64) []byte {
	mbr := make([]byte, 512)
	e := mbr[446:462]
	e[4] = 0x83
	copy(e[1:4], []byte{0xfe, 0xff, 0xff}) // CHS fields are unused; LBA counts
	copy(e[5:8], []byte{0xfe, 0xff, 0xff})
	binary.LittleEndian.PutUint32(e[8:], 2048)
	binary.LittleEndian.PutUint32(e[12:], uint32(size/512-2048))
	mbr[510], mbr[511] = 0x55, 0xaa
	return mbr
}
