package installer

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/diskfs/go-diskfs/backend/file"
	"github.com/diskfs/go-diskfs/filesystem/fat32"

	"github.com/onramp-os/onramp/images"
	"github.com/onramp-os/onramp/internal/fatimage"
	"github.com/onramp-os/onramp/internal/grubcfg"
)

// espFile is one file placed on the ESP: from the payload (checked against
// the manifest as it is read) or generated (GRUB's menu, release).
type espFile struct {
	dst  string // path on the ESP
	src  string // payload path; empty for generated content
	data []byte // generated content
}

// slotOptions is the kernel command line of a slot's boot entries.
func slotOptions(m *images.Manifest, slot string) string {
	opts := fmt.Sprintf("root=PARTLABEL=%s ro onramp.slot=%s", LabelSysA, slot)
	if m.KernelOptions != "" {
		opts += " " + m.KernelOptions
	}
	return opts
}

// espFiles lists what the ESP of slot A holds: the payload's efi/ tree at
// the root (shim as EFI/BOOT/BOOTX64.EFI and the signed GRUB beside it),
// kernel and initrd under onramp/a/, GRUB's menu for slot A where the
// signed GRUB reads it (grubcfg.EFIConfig) and, when the payload boots BIOS
// too, where core.img does (GRUBConfig), and release.json.
func espFiles(m *images.Manifest) ([]espFile, error) {
	var files []espFile
	for _, f := range m.Files {
		if rest, ok := strings.CutPrefix(f.Path, images.EFIDir+"/"); ok {
			files = append(files, espFile{dst: rest, src: f.Path})
		}
	}
	menu := grubConfig(m)
	files = append(files,
		espFile{dst: "onramp/a/vmlinuz", src: images.KernelName},
		espFile{dst: "onramp/a/initrd.img", src: images.InitrdName},
		espFile{dst: grubcfg.EFIConfig, data: menu},
	)
	bios, err := hasBIOSBoot(m)
	if err != nil {
		return nil, err
	}
	if bios {
		files = append(files, espFile{dst: GRUBConfig, data: menu})
	}
	rel, err := json.MarshalIndent(release{Layout: LayoutVersion, OSName: m.OSName, OSVersion: m.Version, Variant: m.Variant}, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(files, espFile{dst: releaseFile, data: append(rel, '\n')}), nil
}

// writeESP creates the FAT32 file system of the ESP with mkfs.fat and fills
// it with mcopy, both addressing the partition by offset on the target (an
// image file or the whole disk alike). go-diskfs' reader is used to verify.
func writeESP(ctx context.Context, path string, p *images.Payload, part Part, files []espFile) error {
	tree, err := fatimage.NewTree()
	if err != nil {
		return fmt.Errorf("staging %s: %w", LabelESP, err)
	}
	defer tree.Remove()
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := stageESPFile(tree, p, f); err != nil {
			return err
		}
	}
	// -s 1 -S 512: 512-byte clusters, so 256 MiB holds enough clusters to be
	// FAT32 (UEFI requires FAT32 on the ESP). -I: the old partitions the
	// kernel may still list are being replaced on purpose.
	if err := fatimage.Format(ctx, path, part.Start, part.Size, "-I", "-F", "32", "-s", "1", "-S", "512", "-n", LabelESP); err != nil {
		return err
	}
	return tree.CopyTo(ctx, path, part.Start)
}

func stageESPFile(tree *fatimage.Tree, p *images.Payload, f espFile) error {
	var r io.Reader = bytes.NewReader(f.data)
	if f.src != "" {
		rc, err := p.Open(f.src)
		if err != nil {
			return err
		}
		defer rc.Close()
		r = rc
	}
	return tree.Add(f.dst, r)
}

// verifyESP reads every file back from the ESP and compares its SHA-256.
func (t *Target) verifyESP(m *images.Manifest, part Part, files []espFile) error {
	fsys, err := fat32.Read(file.New(t.f, true), part.Size, part.Start, int64(sector512))
	if err != nil {
		return verifyFailed("%s: read back: %v", LabelESP, err)
	}
	for _, f := range files {
		want := sha256.Sum256(f.data)
		wantHex := hex.EncodeToString(want[:])
		if f.src != "" {
			mf, _ := m.File(f.src)
			wantHex = mf.SHA256
		}
		data, err := fsys.ReadFile(f.dst)
		if err != nil {
			return verifyFailed("%s: read back %s: %v", LabelESP, f.dst, err)
		}
		if got := sha256.Sum256(data); hex.EncodeToString(got[:]) != wantHex {
			return verifyFailed("%s: %s reads back different from what was written", LabelESP, f.dst)
		}
	}
	return nil
}
