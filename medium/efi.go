package medium

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/onramp-os/onramp/images"
	"github.com/onramp-os/onramp/internal/fatimage"
	"github.com/onramp-os/onramp/internal/grubcfg"
)

// The payload's UEFI boot chain, which the EFI image holds as the payload's
// efi/ tree has it: shim (signed for Secure Boot) at the removable-media
// default path, and the signed GRUB shim starts from the same directory.
const (
	efiBootLoader = images.EFIDir + "/EFI/BOOT/BOOTX64.EFI"
	efiGRUB       = images.EFIDir + "/EFI/BOOT/grubx64.efi"
)

// efiLabel is the FAT volume label of the EFI image.
const efiLabel = "OSC-EFI"

// writeEFIImage creates the FAT image the El Torito EFI entry and the ESP
// partition point at: the payload's efi/ tree (shim and GRUB), GRUB's menu,
// and the kernel and initrd it boots (from its own volume). It returns its
// size, a multiple of 2048 bytes.
func writeEFIImage(ctx context.Context, path string, p *images.Payload) (int64, error) {
	tree, err := fatimage.NewTree()
	if err != nil {
		return 0, err
	}
	defer tree.Remove()
	add := func(dst string, r io.Reader) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		return tree.Add(dst, r)
	}
	files := map[string]string{
		kernelPath[1:]: images.KernelName,
		initrdPath[1:]: images.InitrdName,
	}
	for _, f := range p.Manifest.Files {
		if rest, ok := strings.CutPrefix(f.Path, images.EFIDir+"/"); ok {
			files[rest] = f.Path
		}
	}
	for dst, src := range files {
		if err := addPayloadFile(p, src, func(r io.Reader) error { return add(dst, r) }); err != nil {
			return 0, err
		}
	}
	if err := add(grubcfg.EFIConfig, bytes.NewReader(grubMenu())); err != nil {
		return 0, err
	}
	size := fatSize(tree.Bytes(), tree.Files())
	if err := os.Truncate(path, size); err != nil {
		return 0, fmt.Errorf("EFI image: %w", err)
	}
	if err := fatimage.Format(ctx, path, 0, size, "-n", efiLabel); err != nil {
		return 0, fmt.Errorf("EFI image: %w", err)
	}
	if err := tree.CopyTo(ctx, path, 0); err != nil {
		return 0, fmt.Errorf("EFI image: %w", err)
	}
	return size, nil
}

// fatSize is a FAT image size that holds files of the given total size:
// each file may waste up to a cluster (mkfs.fat picks at most 32 KiB for
// these sizes), the two FATs and the directories need a few percent. It is
// a whole number of MiB, so also of the 2048-byte ISO blocks.
func fatSize(bytes int64, files int) int64 {
	const mib = 1 << 20
	n := bytes + int64(files)*32<<10 + bytes/32 + mib
	return (n + mib - 1) / mib * mib
}

// addPayloadFile hands the payload file name, checked against the
// manifest as it is read, to use.
func addPayloadFile(p *images.Payload, name string, use func(io.Reader) error) error {
	r, err := p.Open(name)
	if err != nil {
		return err
	}
	defer r.Close()
	return use(r)
}
