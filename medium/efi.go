package medium

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"

	"github.com/onramp-os/onramp/images"
	"github.com/onramp-os/onramp/internal/fatimage"
)

// efiBootLoader is the payload's UEFI boot loader (systemd-boot), which the
// EFI image holds at the removable-media default path.
const efiBootLoader = images.EFIDir + "/EFI/BOOT/BOOTX64.EFI"

// efiLabel is the FAT volume label of the EFI image.
const efiLabel = "OSC-EFI"

// writeEFIImage creates the FAT image the El Torito EFI entry and the ESP
// partition point at: systemd-boot, its menu, and the kernel and initrd it
// boots (a UEFI boot loader reads only its own volume). It returns its
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
	for dst, src := range map[string]string{
		"EFI/BOOT/BOOTX64.EFI": efiBootLoader,
		kernelPath[1:]:         images.KernelName,
		initrdPath[1:]:         images.InitrdName,
	} {
		if err := addPayloadFile(p, src, func(r io.Reader) error { return add(dst, r) }); err != nil {
			return 0, err
		}
	}
	if err := add("loader/loader.conf", bytes.NewReader(loaderConf())); err != nil {
		return 0, err
	}
	for i, e := range menu {
		if err := add("loader/entries/"+e.id+".conf", bytes.NewReader(loaderEntry(i, e))); err != nil {
			return 0, err
		}
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
