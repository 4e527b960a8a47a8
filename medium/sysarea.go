package medium

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"
	"unicode/utf16"

	"github.com/onramp-os/onramp/installer"
)

// The system area of the ISO (its first 32 KiB, which ISO 9660 leaves to
// the platform) gets a hybrid MBR and a GPT so the image boots when written
// raw to a disk with 512-byte sectors: UEFI firmware finds the EFI System
// Partition (the same bytes as the El Torito EFI image), BIOSes run the MBR
// boot code (ISOLINUX's isohdpfx.bin on the legacy variant).
//
// Unlike xorriso's -isohybrid-gpt-basdat, whose partition for the ISO starts
// at 0 and holds the EFI image (overlapping both the GPT and each other, so
// sgdisk -v calls the table invalid), no two partitions overlap: the ISO is
// covered by one partition before the EFI image and one after it. The MBR is
// a hybrid in gdisk's sense: 0xEE from the GPT to the EFI image, the EFI
// image as 0xEF for firmware that reads the MBR only, and the rest of the
// ISO as an active type-0 partition (as isohybrid marks it) for BIOSes that
// boot only a disk with an active partition.
const (
	sector      = 512
	mbrCodeSize = 432
	// 248 entries fill the system area from LBA 2 to 63 (as xorriso does):
	// partitions start after it, and no gap is left for one to be put in.
	gptEntries      = 248
	gptEntrySize    = 128
	gptEntrySectors = gptEntries * gptEntrySize / sector
	firstUsableLBA  = 2 + gptEntrySectors
	// alignSectors: the image is padded to whole MiB (64 heads x 32 sectors
	// cylinders, as isohybrid does), the backup GPT in its last sectors.
	alignSectors = 2048
)

// GPT partition types, in their on-disk (mixed-endian) byte order.
var (
	gptTypeESP       = [16]byte{0x28, 0x73, 0x2a, 0xc1, 0x1f, 0xf8, 0xd2, 0x11, 0xba, 0x4b, 0x00, 0xa0, 0xc9, 0x3e, 0xc9, 0x3b} // C12A7328-F81F-11D2-BA4B-00A0C93EC93B
	gptTypeBasicData = [16]byte{0xa2, 0xa0, 0xd0, 0xeb, 0xe5, 0xb9, 0x33, 0x44, 0x87, 0xc0, 0x68, 0xb6, 0xb7, 0x26, 0x99, 0xc7} // EBD0A0A2-B9E5-4433-87C0-68B6B72699C7
)

// isoPartAttrs mark the ISO's partitions required by the platform (bit 0)
// and read-only (bit 60), as xorriso marks the partitions it adds.
const isoPartAttrs = 1<<60 | 1

// uefiOnlyMBR is the boot code of the standard variant: on a BIOS it says
// why it does not boot and hands over to the next boot device (INT 18h).
//
//	cli; xor ax,ax; mov ds,ax; mov ss,ax; mov sp,0x7c00; sti; cld
//	mov si,0x7c22
//	next: lodsb; test al,al; jz done; mov ah,0x0e; mov bx,7; int 0x10; jmp next
//	done: int 0x18
//	halt: hlt; jmp halt
//	msg (at 0x7c22)
var uefiOnlyMBR = append([]byte{
	0xfa, 0x31, 0xc0, 0x8e, 0xd8, 0x8e, 0xd0, 0xbc, 0x00, 0x7c, 0xfb, 0xfc,
	0xbe, 0x22, 0x7c,
	0xac, 0x84, 0xc0, 0x74, 0x09, 0xb4, 0x0e, 0xbb, 0x07, 0x00, 0xcd, 0x10, 0xeb, 0xf2,
	0xcd, 0x18,
	0xf4, 0xeb, 0xfd,
}, "This installer medium boots with UEFI only; on a BIOS computer use the _legacy ISO.\r\n\x00"...)

// hybridLayout says where things are on the medium, in 512-byte sectors.
type hybridLayout struct {
	isoEnd   int64 // end of the ISO 9660 volume
	efiStart int64 // the El Torito EFI image
	efiEnd   int64
	biosBoot int64 // isolinux.bin, or 0 without BIOS boot
	// The writable backup partition after the ISO, MiB-aligned; empty
	// (start == end) without one.
	backupStart, backupEnd int64
	total                  int64 // the image: ISO, backup partition, padding and the backup GPT
}

func newLayout(isoBytes, efiLBA, efiBytes, biosLBA, backupBytes int64) (hybridLayout, error) {
	l := hybridLayout{isoEnd: isoBytes / sector, efiStart: efiLBA * 4, efiEnd: efiLBA*4 + efiBytes/sector, biosBoot: biosLBA * 4}
	l.backupStart = (l.isoEnd + alignSectors - 1) / alignSectors * alignSectors
	l.backupEnd = l.backupStart + backupBytes/sector
	if backupBytes == 0 {
		l.backupStart, l.backupEnd = l.isoEnd, l.isoEnd
	}
	l.total = (l.backupEnd + 1 + gptEntrySectors + alignSectors - 1) / alignSectors * alignSectors
	if l.efiStart <= firstUsableLBA || l.efiEnd >= l.isoEnd || efiBytes%2048 != 0 || l.total > 1<<32 {
		return l, fmt.Errorf("EFI image at sector %d..%d does not fit the layout of a %d-sector ISO", l.efiStart, l.efiEnd, l.isoEnd)
	}
	return l, nil
}

// gptPart is one GPT entry; last is inclusive.
type gptPart struct {
	typ         [16]byte
	first, last int64
	attrs       uint64
	name        string
}

func (l hybridLayout) partitions() []gptPart {
	parts := []gptPart{
		{gptTypeBasicData, firstUsableLBA, l.efiStart - 1, isoPartAttrs, "ISO9660"},
		{gptTypeESP, l.efiStart, l.efiEnd - 1, 0, "EFI boot image"},
		{gptTypeBasicData, l.efiEnd, l.isoEnd - 1, isoPartAttrs, "ISO9660 files"},
	}
	if l.backupEnd > l.backupStart {
		parts = append(parts, gptPart{gptTypeBasicData, l.backupStart, l.backupEnd - 1, 0, installer.BackupLabel})
	}
	return parts
}

// writeSystemArea pads f to l.total sectors and writes the MBR with code
// (432 bytes at most), the primary GPT and the backup GPT.
func writeSystemArea(f *os.File, l hybridLayout, code []byte) error {
	if err := f.Truncate(l.total * sector); err != nil {
		return fmt.Errorf("pad %s: %w", f.Name(), err)
	}
	mbr, err := hybridMBR(l, code)
	if err != nil {
		return err
	}
	entries := make([]byte, gptEntries*gptEntrySize)
	for i, p := range l.partitions() {
		e := entries[i*gptEntrySize : (i+1)*gptEntrySize]
		copy(e[0:16], p.typ[:])
		guid, err := randomGUID()
		if err != nil {
			return err
		}
		copy(e[16:32], guid[:])
		binary.LittleEndian.PutUint64(e[32:], uint64(p.first))
		binary.LittleEndian.PutUint64(e[40:], uint64(p.last))
		binary.LittleEndian.PutUint64(e[48:], p.attrs)
		for j, c := range utf16.Encode([]rune(p.name)) {
			binary.LittleEndian.PutUint16(e[56+2*j:], c)
		}
	}
	disk, err := randomGUID()
	if err != nil {
		return err
	}
	backupEntries := l.total - 1 - gptEntrySectors
	lastUsable := backupEntries - 1
	entriesCRC := crc32.ChecksumIEEE(entries)
	writes := []struct {
		b   []byte
		lba int64
	}{
		{mbr, 0},
		{gptHeader(1, l.total-1, 2, lastUsable, disk, entriesCRC), 1},
		{entries, 2},
		{entries, backupEntries},
		{gptHeader(l.total-1, 1, backupEntries, lastUsable, disk, entriesCRC), l.total - 1},
	}
	for _, w := range writes {
		if _, err := f.WriteAt(w.b, w.lba*sector); err != nil {
			return fmt.Errorf("write partition tables to %s: %w", f.Name(), err)
		}
	}
	return nil
}

func hybridMBR(l hybridLayout, code []byte) ([]byte, error) {
	if len(code) > mbrCodeSize {
		return nil, fmt.Errorf("MBR boot code of %d bytes is larger than %d", len(code), mbrCodeSize)
	}
	mbr := make([]byte, sector)
	copy(mbr, code)
	// isohybrid: isohdpfx.bin loads isolinux.bin from this 512-byte LBA.
	binary.LittleEndian.PutUint64(mbr[432:], uint64(l.biosBoot))
	if _, err := rand.Read(mbr[440:444]); err != nil { // disk signature
		return nil, fmt.Errorf("MBR disk signature: %w", err)
	}
	parts := []struct {
		status, typ byte
		start, end  int64 // end exclusive
	}{
		{0x00, 0xee, 1, l.efiStart},
		{0x00, 0xef, l.efiStart, l.efiEnd},
		{0x80, 0x00, l.efiEnd, l.isoEnd},
	}
	for i, p := range parts {
		e := mbr[446+16*i : 446+16*(i+1)]
		e[0], e[4] = p.status, p.typ
		copy(e[1:4], chs(p.start))
		copy(e[5:8], chs(p.end-1))
		binary.LittleEndian.PutUint32(e[8:], uint32(p.start))
		binary.LittleEndian.PutUint32(e[12:], uint32(p.end-p.start))
	}
	mbr[510], mbr[511] = 0x55, 0xaa
	return mbr, nil
}

// chs encodes lba as MBR cylinder/head/sector with isohybrid's geometry of
// 64 heads and 32 sectors; beyond cylinder 1023 as "use the LBA" (FE FF FF).
func chs(lba int64) []byte {
	const heads, sectors = 64, 32
	c := lba / (heads * sectors)
	if c > 1023 {
		return []byte{0xfe, 0xff, 0xff}
	}
	h, s := lba/sectors%heads, lba%sectors+1
	return []byte{byte(h), byte(s) | byte(c>>8)<<6, byte(c)}
}

func gptHeader(self, alt, entries, lastUsable int64, disk [16]byte, entriesCRC uint32) []byte {
	h := make([]byte, sector)
	le := binary.LittleEndian
	copy(h, "EFI PART")
	le.PutUint32(h[8:], 0x00010000) // revision 1.0
	le.PutUint32(h[12:], 92)        // header size
	le.PutUint64(h[24:], uint64(self))
	le.PutUint64(h[32:], uint64(alt))
	le.PutUint64(h[40:], firstUsableLBA)
	le.PutUint64(h[48:], uint64(lastUsable))
	copy(h[56:72], disk[:])
	le.PutUint64(h[72:], uint64(entries))
	le.PutUint32(h[80:], gptEntries)
	le.PutUint32(h[84:], gptEntrySize)
	le.PutUint32(h[88:], entriesCRC)
	le.PutUint32(h[16:], crc32.ChecksumIEEE(h[:92]))
	return h
}

// randomGUID returns a version 4 GUID in GPT byte order.
func randomGUID() ([16]byte, error) {
	var g [16]byte
	if _, err := rand.Read(g[:]); err != nil {
		return g, fmt.Errorf("GUID: %w", err)
	}
	g[7] = g[7]&0x0f | 0x40 // version, in the little-endian third field
	g[8] = g[8]&0x3f | 0x80 // variant
	return g, nil
}
