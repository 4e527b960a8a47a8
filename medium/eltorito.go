package medium

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
)

// El Torito platform IDs.
const (
	platformBIOS = 0x00
	platformEFI  = 0xef
)

// bootImage is one boot entry of an El Torito catalog.
type bootImage struct {
	platform byte
	lba      int64 // in 2048-byte blocks
	sectors  int   // virtual 512-byte sectors to load; 0 for "all" (large EFI images)
}

// readBootCatalog returns the boot entries of the ISO in r, found through
// the boot record volume descriptor: the builder reads back where
// go-diskfs placed each boot image rather than relying on its internals.
func readBootCatalog(r io.ReaderAt) ([]bootImage, error) {
	vd := make([]byte, 2048)
	var catalog int64 = -1
	for lba := int64(16); lba < 32 && catalog < 0; lba++ {
		if _, err := r.ReadAt(vd, lba*2048); err != nil {
			return nil, fmt.Errorf("volume descriptor %d: %w", lba, err)
		}
		if !bytes.Equal(vd[1:6], []byte("CD001")) {
			return nil, fmt.Errorf("volume descriptor %d: no CD001 signature", lba)
		}
		switch vd[0] {
		case 0: // boot record
			if bytes.HasPrefix(vd[7:39], []byte("EL TORITO SPECIFICATION")) {
				catalog = int64(binary.LittleEndian.Uint32(vd[71:75]))
			}
		case 255:
			return nil, fmt.Errorf("no El Torito boot record")
		}
	}
	if catalog < 0 {
		return nil, fmt.Errorf("no El Torito boot record")
	}
	cat := make([]byte, 2048)
	if _, err := r.ReadAt(cat, catalog*2048); err != nil {
		return nil, fmt.Errorf("boot catalog at %d: %w", catalog, err)
	}
	if cat[0] != 1 || cat[30] != 0x55 || cat[31] != 0xaa {
		return nil, fmt.Errorf("boot catalog at %d: no validation entry", catalog)
	}
	entry := func(e []byte, platform byte) bootImage {
		return bootImage{platform: platform, lba: int64(binary.LittleEndian.Uint32(e[8:12])), sectors: int(binary.LittleEndian.Uint16(e[6:8]))}
	}
	images := []bootImage{entry(cat[32:64], cat[1])}
	for off := 64; off+32 <= len(cat); {
		h := cat[off : off+32]
		if h[0] != 0x90 && h[0] != 0x91 {
			break
		}
		n := int(binary.LittleEndian.Uint16(h[2:4]))
		for i := 1; i <= n && off+32*(i+1) <= len(cat); i++ {
			images = append(images, entry(cat[off+32*i:off+32*(i+1)], h[1]))
		}
		off += 32 * (n + 1)
		if h[0] == 0x91 {
			break
		}
	}
	return images, nil
}
