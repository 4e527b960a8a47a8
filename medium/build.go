// Package medium builds the installer medium: a hybrid ISO 9660 image (Rock
// Ridge) holding a verified payload in onramp/, bootable by UEFI through
// shim and GRUB (Secure Boot) in an El Torito EFI image, by BIOS through
// ISOLINUX on the legacy variant, from an optical drive and, written raw,
// from a USB stick (hybrid MBR and GPT in the system area). It does not write sticks (that
// is images.Write) and does not make payloads (images.SignPayload).
package medium

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/diskfs/go-diskfs/backend/file"
	"github.com/diskfs/go-diskfs/filesystem/iso9660"

	"github.com/onramp-os/onramp/firstboot"
	"github.com/onramp-os/onramp/images"
	"github.com/onramp-os/onramp/installer"
	"github.com/onramp-os/onramp/internal/atomicfile"
	"github.com/onramp-os/onramp/internal/exitcode"
	"github.com/onramp-os/onramp/internal/fatimage"
	"github.com/onramp-os/onramp/internal/grubcfg"
	"github.com/onramp-os/onramp/internal/inputfile"
)

// Variants of the medium (DESIGN.md "Installer medium").
const (
	Standard = "standard" // UEFI
	Legacy   = "legacy"   // UEFI and BIOS
)

// Paths on the ISO.
const (
	efiImagePath = "boot/efi.img"
	catalogPath  = "boot/boot.catalog"
	answersPath  = "autoinstall.yaml"
)

// Options say what Build puts on the medium besides the payload.
type Options struct {
	// Variant is Standard or Legacy; empty means the payload's. It must
	// match the manifest: a legacy payload installs a system that boots
	// with BIOS, and only a legacy medium starts on such a device.
	Variant string
	// Answers, when set, is copied to /autoinstall.yaml for the unattended
	// installer. The ISO is then written with mode 0600: it may hold secrets.
	Answers string
	// SyslinuxDirs (legacy) are searched for ISOLINUX; empty means
	// DefaultSyslinuxDirs.
	SyslinuxDirs []string
	// Memtest (legacy), when set, is a memtest86+ binary for the boot
	// menu's "Memory Test".
	Memtest string
	// Verify is how the payload was verified; the copy on the finished ISO
	// is verified the same way before it replaces the output.
	Verify images.VerifyOptions
	// BackupSize (bytes, whole MiB, 0 for none) appends a writable FAT32
	// partition named installer.BackupLabel after the ISO: written to a
	// stick, it keeps the live installer's backups of settings and licenses
	// (which would otherwise be in memory only). Zeros until used, so it
	// costs nothing in a compressed image.
	BackupSize int64
}

// DefaultBackupSize is the OSC-BACKUP partition's size by default: backups
// hold settings and licenses, a few MiB each.
const DefaultBackupSize = 64 << 20

// minBackupSize keeps FAT32 above its minimum cluster count with 512-byte
// clusters (65525), so every FAT reader agrees on the type.
const minBackupSize = 33 << 20

// MaxBackupSize bounds the OSC-BACKUP partition (1 TiB).
const MaxBackupSize = 1 << 40

// Result describes a medium Build wrote.
type Result struct {
	Path, Label, Variant string
	Size                 int64 // bytes, padding and backup GPT included
	Memtest              bool
	BackupSize           int64 // the OSC-BACKUP partition, 0 without one
	// Bmap is the block map written beside the ISO (Path + ".bmap"), for
	// osc write and bmaptool copy: zeros (the backup partition's empty data
	// area, padding) are unmapped.
	Bmap *images.Bmap
}

// Build writes the installer medium for the payload p, which the caller has
// opened from a directory and verified (images.Payload.Verify), to out.
// onramp/ gets what the manifest lists, manifest.json and manifest.sig, and
// nothing else of the directory. Every payload file is read through the
// manifest check again as it is copied, and the ISO's own onramp/ is
// verified before it is renamed to out: out is complete or untouched. Its
// block map, out.bmap, follows it; an old one is removed first, so out.bmap
// never describes another ISO.
func Build(ctx context.Context, p *images.Payload, out string, opt Options) (*Result, error) {
	variant, err := checkOptions(p, out, &opt)
	if err != nil {
		return nil, err
	}
	var sl *syslinux
	if variant == Legacy {
		if sl, err = findSyslinux(opt.SyslinuxDirs); err != nil {
			return nil, err
		}
	}
	dir := filepath.Dir(out)
	// The workspace holds a copy of the payload: next to the output, which
	// needs that space anyway, rather than in a possibly small /tmp.
	work, err := os.MkdirTemp(dir, ".osc-image-work-*")
	if err != nil {
		return nil, fmt.Errorf("workspace: %w", err)
	}
	defer os.RemoveAll(work)
	efiSize, err := stageMedium(ctx, work, p, variant, sl, opt)
	if err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(out)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", out, err)
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	label := VolumeLabel(p.Manifest.Version)
	if err := writeISO(ctx, tmp, work, label, variant, efiSize, opt.BackupSize, sl); err != nil {
		return nil, err
	}
	size, err := tmp.Seek(0, io.SeekEnd)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", tmp.Name(), err)
	}
	mode := os.FileMode(0o644)
	if opt.Answers != "" {
		mode = 0o600
	}
	if err := tmp.Chmod(mode); err != nil {
		return nil, fmt.Errorf("%s: %w", tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		return nil, fmt.Errorf("%s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("%s: %w", tmp.Name(), err)
	}
	if err := verifyCopy(ctx, tmp.Name(), p, opt.Verify); err != nil {
		return nil, err
	}
	bmap, err := images.CreateBmap(ctx, images.Source{Path: tmp.Name(), Format: images.Raw, Size: size, SizeExact: true})
	if err != nil {
		return nil, err
	}
	bmapPath := out + ".bmap"
	if err := os.Remove(bmapPath); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("remove the old %s: %w", bmapPath, err)
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return nil, fmt.Errorf("rename to %s: %w", out, err)
	}
	done = true
	bmap.Path = bmapPath
	if err := images.WriteBmapFile(bmapPath, bmap); err != nil {
		return nil, err
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return &Result{Path: out, Label: label, Variant: variant, Size: size, Memtest: opt.Memtest != "", BackupSize: opt.BackupSize, Bmap: bmap}, nil
}

// checkOptions refuses, before anything is written, what cannot make a
// medium, and returns the variant.
func checkOptions(p *images.Payload, out string, opt *Options) (string, error) {
	usage := func(format string, args ...any) (string, error) {
		return "", exitcode.New(exitcode.Usage, format, args...)
	}
	variant := opt.Variant
	if variant == "" {
		variant = p.Manifest.Variant
	}
	switch {
	case variant != Standard && variant != Legacy:
		return usage("--variant %q is not %s or %s", variant, Standard, Legacy)
	case variant != p.Manifest.Variant:
		return usage("--variant %s, but payload %s is %s (sign it with osc image sign --variant %s)", variant, p.Origin, p.Manifest.Variant, variant)
	case variant != Legacy && opt.Memtest != "":
		return usage("--memtest needs --variant %s (the memory test boots with BIOS)", Legacy)
	case variant != Legacy && len(opt.SyslinuxDirs) > 0:
		return usage("--syslinux needs --variant %s", Legacy)
	case opt.BackupSize != 0 && (opt.BackupSize < minBackupSize || opt.BackupSize%(1<<20) != 0 || opt.BackupSize > MaxBackupSize):
		return usage("--backup-mib %d: the backup partition is 0 (none) or %d to %d MiB", opt.BackupSize>>20, minBackupSize>>20, MaxBackupSize>>20)
	}
	if fi, err := os.Stat(p.Origin); err != nil || !fi.IsDir() {
		return usage("--payload %s is not a payload directory", p.Origin)
	}
	if fi, err := os.Stat(out); err == nil && !fi.Mode().IsRegular() {
		return usage("--out %s exists and is not a regular file", out)
	}
	if fi, err := os.Stat(filepath.Dir(out)); err != nil || !fi.IsDir() {
		return usage("--out %s: no directory %s", out, filepath.Dir(out))
	}
	for flag, path := range map[string]string{"--answers": opt.Answers, "--memtest": opt.Memtest} {
		if path == "" {
			continue
		}
		if fi, err := os.Stat(path); err != nil || !fi.Mode().IsRegular() {
			return usage("%s %s is not a readable file", flag, path)
		}
	}
	for _, f := range []string{efiBootLoader, efiGRUB} {
		if _, ok := p.Manifest.File(f); !ok {
			return "", exitcode.New(exitcode.ImageInvalid, "payload %s has no %s; the medium boots UEFI through %s (shim) and %s (GRUB)",
				p.Origin, f, efiBootLoader, efiGRUB)
		}
	}
	for _, f := range p.Manifest.Files {
		if f.Size >= 1<<32 {
			return "", exitcode.New(exitcode.ImageInvalid, "payload %s: %s has %d bytes; an ISO 9660 file holds less than 4 GiB", p.Origin, f.Path, f.Size)
		}
	}
	return variant, nil
}

// stageMedium lays out the ISO's files in work: onramp/ (the payload),
// boot/efi.img, isolinux/ (legacy) and autoinstall.yaml. It returns the
// size of the EFI image.
func stageMedium(ctx context.Context, work string, p *images.Payload, variant string, sl *syslinux, opt Options) (int64, error) {
	for _, f := range p.Manifest.Files {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		dst := filepath.Join(work, images.PayloadDir, filepath.FromSlash(f.Path))
		if err := addPayloadFile(p, f.Path, func(r io.Reader) error { return copyTo(dst, r) }); err != nil {
			return 0, err
		}
	}
	if err := copyTo(filepath.Join(work, images.PayloadDir, images.ManifestName), bytes.NewReader(p.Raw)); err != nil {
		return 0, err
	}
	if p.Signed() {
		// Payload keeps the signature to itself: read it again and check it
		// is still the one that verified this manifest.
		sig, err := os.ReadFile(filepath.Join(p.Origin, images.SignatureName))
		if err != nil {
			return 0, exitcode.New(exitcode.ImageInvalid, "payload %s: %v", p.Origin, err)
		}
		if _, err := images.CheckSignature(p.Raw, sig, opt.Verify.Keys); err != nil {
			return 0, fmt.Errorf("payload %s: %w", p.Origin, err)
		}
		if err := copyTo(filepath.Join(work, images.PayloadDir, images.SignatureName), bytes.NewReader(sig)); err != nil {
			return 0, err
		}
	}
	efiImage := filepath.Join(work, filepath.FromSlash(efiImagePath))
	if err := copyTo(efiImage, bytes.NewReader(nil)); err != nil {
		return 0, err
	}
	efiSize, err := writeEFIImage(ctx, efiImage, p)
	if err != nil {
		return 0, err
	}
	// Started from an optical drive, GRUB reads from the ISO 9660 file
	// system, not the EFI image: the same menu there (its kernel and initrd
	// are the payload's in onramp/).
	if err := copyTo(filepath.Join(work, filepath.FromSlash(grubcfg.EFIConfig)), bytes.NewReader(grubMenu())); err != nil {
		return 0, err
	}
	copies := map[string]string{}
	if opt.Answers != "" {
		// Checked as the live installer will check them (it runs osc
		// install there): a medium with answers that fail would only fail
		// on the device. Staged 0600: they may hold a one-time password.
		data, err := inputfile.Read(opt.Answers, firstboot.MaxAnswersSize)
		if err != nil {
			return 0, exitcode.New(exitcode.Usage, "--answers: %v", err)
		}
		a, err := installer.ParseAnswers(data, true)
		if err != nil {
			return 0, exitcode.Wrap(exitcode.Usage, fmt.Errorf("--answers %s: %w", opt.Answers, err))
		}
		if !a.Set["accept_eula"] {
			return 0, exitcode.New(exitcode.Usage, "--answers %s: accept_eula: required: the live installer has no other way to accept the license", opt.Answers)
		}
		if err := atomicfile.WriteFile(filepath.Join(work, answersPath), data, 0o600); err != nil {
			return 0, err
		}
	}
	if variant == Legacy {
		for name, src := range sl.files {
			copies[isolinuxDir+"/"+name] = src
		}
		if opt.Memtest != "" {
			copies[memtestPath[1:]] = opt.Memtest
		}
		title := p.Manifest.OSName + " " + p.Manifest.Version
		if err := copyTo(filepath.Join(work, isolinuxDir, "isolinux.cfg"), bytes.NewReader(isolinuxConfig(title, opt.Memtest != ""))); err != nil {
			return 0, err
		}
	}
	for dst, src := range copies {
		if err := copyFile(filepath.Join(work, filepath.FromSlash(dst)), src); err != nil {
			return 0, err
		}
	}
	return efiSize, nil
}

// writeISO writes the ISO 9660 file system of work to f with its boot
// catalog, then the hybrid partition tables into its system area, and the
// FAT32 file system of the backup partition after the ISO.
func writeISO(ctx context.Context, f *os.File, work, label, variant string, efiSize, backupSize int64, sl *syslinux) error {
	fs, err := iso9660.Create(file.New(f, false), 0, 0, 2048, work)
	if err != nil {
		return fmt.Errorf("ISO 9660: %w", err)
	}
	efiEntry := &iso9660.ElToritoEntry{Platform: iso9660.EFI, Emulation: iso9660.NoEmulation, BootFile: "/" + efiImagePath}
	entries := []*iso9660.ElToritoEntry{efiEntry}
	code := uefiOnlyMBR
	if variant == Legacy {
		bios := &iso9660.ElToritoEntry{Platform: iso9660.BIOS, Emulation: iso9660.NoEmulation,
			BootFile: "/" + isolinuxDir + "/" + isolinuxBin, BootTable: true}
		entries = []*iso9660.ElToritoEntry{bios, efiEntry}
		code = sl.mbr
	}
	err = fs.Finalize(iso9660.FinalizeOptions{RockRidge: true, VolumeIdentifier: label,
		ElTorito: &iso9660.ElTorito{BootCatalog: "/" + catalogPath, Entries: entries}})
	if err != nil {
		return fmt.Errorf("ISO 9660: %w", err)
	}
	boot, err := readBootCatalog(f)
	if err != nil {
		return fmt.Errorf("ISO 9660 as written: %w", err)
	}
	var efiLBA, biosLBA int64
	for _, b := range boot {
		switch b.platform {
		case platformEFI:
			efiLBA = b.lba
		case platformBIOS:
			biosLBA = b.lba
		}
	}
	if efiLBA == 0 || (variant == Legacy) != (biosLBA != 0) {
		return fmt.Errorf("ISO 9660 as written: boot catalog %+v lacks an entry", boot)
	}
	blocks, err := volumeBlocks(f)
	if err != nil {
		return err
	}
	l, err := newLayout(blocks*2048, efiLBA, efiSize, biosLBA, backupSize)
	if err != nil {
		return err
	}
	if err := writeSystemArea(f, l, code); err != nil {
		return err
	}
	if l.backupEnd == l.backupStart {
		return nil
	}
	return fatimage.Format(ctx, f.Name(), l.backupStart*sector, (l.backupEnd-l.backupStart)*sector,
		"-F", "32", "-s", "1", "-S", "512", "-n", installer.BackupLabel)
}

// volumeBlocks reads the size of the ISO 9660 volume, in 2048-byte blocks,
// from its primary volume descriptor.
func volumeBlocks(r io.ReaderAt) (int64, error) {
	pvd := make([]byte, 88)
	if _, err := r.ReadAt(pvd, 16*2048); err != nil {
		return 0, fmt.Errorf("primary volume descriptor: %w", err)
	}
	if pvd[0] != 1 || string(pvd[1:6]) != "CD001" {
		return 0, fmt.Errorf("no primary volume descriptor at sector 16")
	}
	return int64(pvd[80]) | int64(pvd[81])<<8 | int64(pvd[82])<<16 | int64(pvd[83])<<24, nil
}

// verifyCopy checks the payload on the written ISO the way osc install will
// read it: same manifest, same signature verdict, every file hash.
func verifyCopy(ctx context.Context, iso string, p *images.Payload, opt images.VerifyOptions) error {
	back, err := images.OpenPayload(iso)
	if err != nil {
		return exitcode.New(exitcode.VerifyFailed, "read back %s: %v", iso, err)
	}
	defer back.Close()
	opt.Progress = nil
	if !bytes.Equal(back.Raw, p.Raw) || back.Signed() != p.Signed() {
		return exitcode.New(exitcode.VerifyFailed, "read back %s: the manifest or its signature differs from the payload's", iso)
	}
	if err := back.Verify(ctx, opt); err != nil {
		return exitcode.New(exitcode.VerifyFailed, "read back %s: %v", iso, err)
	}
	return nil
}

// VolumeLabel is the ISO volume identifier for a version: OSC_ and the
// version upper-cased, every character ISO 9660 does not allow in it
// replaced by "_", at most 32 characters.
func VolumeLabel(version string) string {
	label := []byte("OSC_" + strings.ToUpper(version))
	for i, c := range label {
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			label[i] = '_'
		}
	}
	return string(label[:min(len(label), 32)])
}

func copyTo(dst string, r io.Reader) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fmt.Errorf("workspace: %w", err)
	}
	out, err := os.Create(dst)
	if err != nil {
		return fmt.Errorf("workspace: %w", err)
	}
	if _, err := io.Copy(out, r); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("workspace: %w", err)
	}
	return nil
}

func copyFile(dst, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := copyTo(dst, in); err != nil {
		return fmt.Errorf("copy %s: %w", src, err)
	}
	return nil
}
