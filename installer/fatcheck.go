package installer

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// maxFATBytes bounds one file allocation table osc reads: 16 million
// FAT32 clusters, a 512 GiB partition at 32 KiB a cluster, far beyond an
// ESP or an installer stick's OSC-BACKUP partition.
const maxFATBytes = 64 << 20

// fatGeometry is what a FAT boot sector says, checked against the
// partition.
type fatGeometry struct {
	bytesPerSector, sectorsPerCluster uint64
	reserved, fats, sectorsPerFAT     uint64
	rootSectors, totalSectors         uint64
	clusters                          uint64 // data clusters
	entryBits                         uint64 // 12, 16 or 32
}

// checkFAT checks the FAT file system of size bytes at start of r before
// go-diskfs reads it, which trusts the boot sector's counts and allocates
// what they claim: sector and cluster sizes the specification allows, the
// areas inside the partition, a table that fits the clusters (not a
// multiple of them), and clusters chains that end (no cycle). It reads
// the boot sector and one table, both bounded by the partition's size.
func checkFAT(r io.ReaderAt, start, size int64) error {
	g, err := readFATGeometry(r, start, size)
	if err != nil {
		return err
	}
	table := make([]byte, g.sectorsPerFAT*g.bytesPerSector)
	if _, err := r.ReadAt(table, start+int64(g.reserved*g.bytesPerSector)); err != nil {
		return fmt.Errorf("read the FAT: %w", err)
	}
	return checkFATChains(table, g.entryBits, g.clusters+2)
}

func readFATGeometry(r io.ReaderAt, start, size int64) (*fatGeometry, error) {
	bs := make([]byte, 512)
	if size < int64(len(bs)) {
		return nil, fmt.Errorf("a partition of %d bytes holds no FAT file system", size)
	}
	if _, err := r.ReadAt(bs, start); err != nil {
		return nil, fmt.Errorf("read the boot sector: %w", err)
	}
	if bs[510] != 0x55 || bs[511] != 0xaa {
		return nil, errors.New("no boot sector signature")
	}
	le16 := func(off int) uint64 { return uint64(binary.LittleEndian.Uint16(bs[off:])) }
	le32 := func(off int) uint64 { return uint64(binary.LittleEndian.Uint32(bs[off:])) }
	g := &fatGeometry{bytesPerSector: le16(11), sectorsPerCluster: uint64(bs[13]), reserved: le16(14),
		fats: uint64(bs[16]), totalSectors: le16(19), sectorsPerFAT: le16(22)}
	switch g.bytesPerSector {
	case 512, 1024, 2048, 4096:
	default:
		return nil, fmt.Errorf("boot sector: %d bytes per sector, not 512, 1024, 2048 or 4096", g.bytesPerSector)
	}
	if spc := g.sectorsPerCluster; spc == 0 || spc > 128 || spc&(spc-1) != 0 {
		return nil, fmt.Errorf("boot sector: %d sectors per cluster, not a power of two up to 128", spc)
	}
	if g.reserved == 0 {
		return nil, errors.New("boot sector: no reserved sectors")
	}
	if g.fats != 1 && g.fats != 2 {
		return nil, fmt.Errorf("boot sector: %d FATs, not 1 or 2", g.fats)
	}
	fat32 := g.sectorsPerFAT == 0
	if fat32 {
		g.sectorsPerFAT = le32(36)
	}
	if g.totalSectors == 0 {
		g.totalSectors = le32(32)
	}
	g.rootSectors = (le16(17)*32 + g.bytesPerSector - 1) / g.bytesPerSector
	if fat32 != (g.rootSectors == 0) {
		return nil, fmt.Errorf("boot sector: %d root directory entries for a FAT%s", le16(17), map[bool]string{true: "32", false: "12/16"}[fat32])
	}
	if g.totalSectors*g.bytesPerSector > uint64(size) {
		return nil, fmt.Errorf("boot sector: %d sectors of %d bytes, the partition has %d bytes", g.totalSectors, g.bytesPerSector, size)
	}
	meta := g.reserved + g.fats*g.sectorsPerFAT + g.rootSectors
	if g.sectorsPerFAT == 0 || meta >= g.totalSectors {
		return nil, fmt.Errorf("boot sector: %d sectors per FAT (%d FATs) and %d reserved do not fit in %d sectors", g.sectorsPerFAT, g.fats, g.reserved, g.totalSectors)
	}
	g.clusters = (g.totalSectors - meta) / g.sectorsPerCluster
	switch {
	case fat32:
		g.entryBits = 32
	case g.clusters < 4085:
		g.entryBits = 12
	default:
		g.entryBits = 16
	}
	// The table holds an entry per cluster plus two, rounded up to a
	// sector; formatters round the clusters a little, never by half.
	need := ((g.clusters+2)*g.entryBits/8 + g.bytesPerSector - 1) / g.bytesPerSector
	if g.sectorsPerFAT < need || g.sectorsPerFAT > 2*need+8 {
		return nil, fmt.Errorf("boot sector: %d sectors per FAT for %d clusters (about %d needed)", g.sectorsPerFAT, g.clusters, need)
	}
	if g.sectorsPerFAT*g.bytesPerSector > maxFATBytes {
		return nil, fmt.Errorf("boot sector: a FAT of %d bytes, at most %d", g.sectorsPerFAT*g.bytesPerSector, maxFATBytes)
	}
	return g, nil
}

// checkFATChains refuses a table in which a cluster chain loops: a
// reader following it would never reach the end. n is the number of
// entries (clusters plus the two reserved).
func checkFATChains(table []byte, bits, n uint64) error {
	if (n*bits+7)/8 > uint64(len(table)) {
		return fmt.Errorf("a FAT of %d bytes for %d entries", len(table), n)
	}
	next := func(c uint64) uint64 {
		switch bits {
		case 12: // c*3/2+1 < len(table), as (n*12+7)/8 <= len(table)
			v := uint64(table[c*3/2]) | uint64(table[c*3/2+1])<<8
			if c%2 == 1 {
				return v >> 4
			}
			return v & 0xfff
		case 16:
			return uint64(binary.LittleEndian.Uint16(table[c*2:]))
		}
		return uint64(binary.LittleEndian.Uint32(table[c*4:])) & 0x0fffffff
	}
	const (
		unvisited = iota
		onPath
		done
	)
	state := make([]uint8, n)
	for c := uint64(2); c < n; c++ {
		path := c
		for path >= 2 && path < n && state[path] == unvisited {
			state[path] = onPath
			path = next(path)
		}
		if path >= 2 && path < n && state[path] == onPath {
			return fmt.Errorf("the cluster chain through cluster %d loops", path)
		}
		for p := c; p >= 2 && p < n && state[p] == onPath; p = next(p) {
			state[p] = done
		}
	}
	return nil
}
