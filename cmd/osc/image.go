package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/onramp-os/onramp/images"
	"github.com/onramp-os/onramp/installer"
	"github.com/onramp-os/onramp/internal/cli"
	"github.com/onramp-os/onramp/internal/exitcode"
	"github.com/onramp-os/onramp/medium"
)

func newImageCmd(s streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "image",
		Short: "Sign and inspect installer payloads, build installer media and block maps",
		Args:  cobra.NoArgs,
		RunE: cli.RunE(func(cmd *cobra.Command, _ []string) error {
			return exitcode.New(exitcode.Usage, "osc image needs a subcommand: keygen, sign, inspect, build or bmap")
		}),
	}
	cmd.AddCommand(newImageKeygenCmd(s), newImageSignCmd(s), newImageInspectCmd(s), linuxOnly(newImageBuildCmd(s)), newImageBmapCmd(s))
	return cmd
}

func newImageKeygenCmd(s streams) *cobra.Command {
	return &cobra.Command{
		Use:   "keygen PREFIX",
		Short: "Create a signing key pair: PREFIX.key (mode 0600) and PREFIX.pub",
		Args:  cobra.ExactArgs(1),
		RunE: cli.RunE(func(_ *cobra.Command, args []string) error {
			pub, err := images.GenerateKey(args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(s.out, "wrote %s.key and %s.pub (key ID %s)\n", args[0], args[0], images.KeyID(pub))
			return nil
		}),
	}
}

func newImageSignCmd(s streams) *cobra.Command {
	var key string
	var opt images.SignOptions
	cmd := &cobra.Command{
		Use:   "sign --key PREFIX.key [--os-name N --version V ...] DIR",
		Short: "Write manifest.json for the files in a payload directory and sign it",
		Args:  cobra.ExactArgs(1),
		RunE: cli.RunE(func(_ *cobra.Command, args []string) error {
			priv, err := images.LoadPrivateKey(key)
			if err != nil {
				return err
			}
			m, err := images.SignPayload(args[0], priv, opt)
			if err != nil {
				return err
			}
			fmt.Fprintf(s.out, "signed %s %s (%d files) in %s\n", m.OSName, m.Version, len(m.Files), args[0])
			return nil
		}),
	}
	fl := cmd.Flags()
	fl.StringVar(&key, "key", "", "private key written by osc image keygen")
	fl.StringVar(&opt.OSName, "os-name", "", "product name shown to users (kept from an existing manifest)")
	fl.StringVar(&opt.Version, "version", "", "system version (kept from an existing manifest)")
	fl.StringVar(&opt.Variant, "variant", "", "standard or legacy (default standard)")
	fl.StringVar(&opt.Arch, "arch", "", "architecture (default x86_64)")
	fl.Int64Var(&opt.MinTargetSize, "min-target-size", 0, "smallest target drive in bytes (default 8 GB)")
	fl.Int64Var(&opt.SlotSize, "slot-size", 0, "size of SYS-A and SYS-B in bytes (default twice the system image, at least 1 GiB)")
	fl.StringVar(&opt.KernelOptions, "kernel-options", "", "appended to the kernel command line of the installed system's boot entries, e.g. console=ttyS0,115200 (kept from an existing manifest)")
	_ = cmd.MarkFlagRequired("key")
	return cmd
}

func newImageInspectCmd(s streams) *cobra.Command {
	var trustKeys []string
	var skipSig, asJSON bool
	var eula string
	cmd := &cobra.Command{
		Use:   "inspect [--trust-key F] [--eula LANG] [--json] SOURCE",
		Short: "Show and verify a payload (ISO or directory): manifest, signature, file hashes",
		Args:  cobra.ExactArgs(1),
		RunE: cli.RunE(func(cmd *cobra.Command, args []string) error {
			keys, err := images.LoadTrustedKeys(trustKeys...)
			if err != nil {
				return err
			}
			p, err := images.OpenPayload(args[0])
			if err != nil {
				return err
			}
			defer p.Close()
			verr := p.Verify(cmd.Context(), images.VerifyOptions{Keys: keys, AllowUnsigned: skipSig})
			if eula != "" && verr == nil {
				lang, text, err := p.EULAText(eula)
				if err != nil {
					return err
				}
				fmt.Fprintf(s.out, "EULA (%s):\n%s\n", lang, text)
				return nil
			}
			if asJSON {
				_ = json.NewEncoder(s.out).Encode(struct {
					*images.Manifest
					SignedBy string `json:"signed_by,omitempty"`
					Verified bool   `json:"verified"`
					Error    string `json:"error,omitempty"`
				}{p.Manifest, p.SignedBy, verr == nil, errString(verr)})
				return verr
			}
			m := p.Manifest
			fmt.Fprintf(s.out, "%s %s (%s, %s)\n", m.OSName, m.Version, m.Variant, m.Arch)
			fmt.Fprintf(s.out, "minimum target %s, system slots %s, EULA in %v\n", describeSize(m.MinTargetSize), describeSize(m.SlotSize), m.Languages())
			for _, f := range m.Files {
				fmt.Fprintf(s.out, "  %-40s %12d  %s\n", f.Path, f.Size, f.SHA256)
			}
			switch {
			case verr != nil:
				fmt.Fprintf(s.out, "NOT VERIFIED: %v\n", verr)
				return exitcode.Wrap(exitcode.KindOf(verr), cli.ErrReported)
			case p.SignedBy == "":
				fmt.Fprintln(s.out, "files verified; payload NOT signed (--insecure-skip-signature)")
			default:
				fmt.Fprintf(s.out, "signature by key %s and all files verified\n", p.SignedBy)
			}
			return nil
		}),
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&trustKeys, "trust-key", nil, "also trust this public key (PEM)")
	fl.BoolVar(&skipSig, "insecure-skip-signature", false, "tolerate a missing signature")
	fl.BoolVar(&asJSON, "json", false, "print the manifest and the verdict as JSON")
	fl.StringVar(&eula, "eula", "", "print the EULA in this language instead")
	return cmd
}

func newImageBuildCmd(s streams) *cobra.Command {
	var trustKeys []string
	var skipSig bool
	var payload, out string
	var opt medium.Options
	var backupMiB int64
	cmd := &cobra.Command{
		Use:   "build --payload DIR --out FILE.iso [--variant standard|legacy] [--answers FILE] [--syslinux DIR] [--memtest FILE] [--backup-mib N]",
		Short: "Build the bootable installer ISO (UEFI; legacy adds BIOS) from a payload directory",
		Long: `Build the installer medium: an ISO 9660 image with the payload in onramp/, booting with
UEFI (the payload's efi/EFI/BOOT/BOOTX64.EFI, shim, starting grubx64.efi beside it: Secure
Boot) and, for --variant legacy, with BIOS (ISOLINUX), from a DVD or written raw to a USB stick (osc write). The payload's
signature and every file hash are checked first (exit 5), and the copy on the ISO again
before FILE.iso is replaced. --answers FILE becomes /autoinstall.yaml for an unattended
installation; the ISO is then mode 0600. FILE.iso.bmap, its block map (osc image bmap),
is written beside it: osc write and bmaptool copy then skip its empty space.`,
		Args: cobra.NoArgs,
		RunE: cli.RunE(func(cmd *cobra.Command, _ []string) error {
			if backupMiB < 0 || backupMiB > medium.MaxBackupSize>>20 {
				// Checked before the shift: a huge count would wrap around.
				return exitcode.New(exitcode.Usage, "--backup-mib %d: the backup partition is 0 (none) or up to %d MiB", backupMiB, medium.MaxBackupSize>>20)
			}
			rep := newReporter(s, false)
			p, err := openVerifiedPayload(cmd.Context(), rep, payload, trustKeys, skipSig)
			if err != nil {
				return err
			}
			defer p.Close()
			if opt.Verify.Keys, err = images.LoadTrustedKeys(trustKeys...); err != nil {
				return err
			}
			opt.Verify.AllowUnsigned = skipSig
			opt.BackupSize = backupMiB << 20
			res, err := medium.Build(cmd.Context(), p, out, opt)
			if err != nil {
				return err
			}
			extra := ""
			if res.Memtest {
				extra = ", with memory test"
			}
			if res.BackupSize > 0 {
				extra += fmt.Sprintf(", %d MiB %s partition", res.BackupSize>>20, installer.BackupLabel)
			}
			fmt.Fprintf(s.out, "wrote %s: %s %s, %s variant%s, volume %s, %s; payload verified on the ISO\n",
				res.Path, p.Manifest.OSName, p.Manifest.Version, res.Variant, extra, res.Label, describeSize(res.Size))
			fmt.Fprintf(s.out, "wrote %s: %s mapped\n", res.Bmap.Path, describeSize(res.Bmap.MappedBytes()))
			return nil
		}),
	}
	fl := cmd.Flags()
	fl.StringVar(&payload, "payload", "", "payload directory (signed with osc image sign)")
	fl.StringVar(&out, "out", "", "ISO file to write, e.g. osc-VERSION.iso or osc-VERSION_legacy.iso")
	fl.StringVar(&opt.Variant, "variant", "", "standard (UEFI) or legacy (UEFI and BIOS); default: the payload's")
	fl.StringVar(&opt.Answers, "answers", "", "answers file for the unattended installer, put at /autoinstall.yaml")
	fl.StringArrayVar(&opt.SyslinuxDirs, "syslinux", nil, "legacy: directory with isolinux.bin, isohdpfx.bin, ldlinux.c32, menu.c32, libutil.c32, libcom32.c32 (default: Debian's isolinux and syslinux-common)")
	fl.StringVar(&opt.Memtest, "memtest", "", "legacy: memtest86+ binary (memtest86+x64.bin) for a Memory Test entry")
	fl.Int64Var(&backupMiB, "backup-mib", medium.DefaultBackupSize>>20, "size in MiB of the writable "+installer.BackupLabel+" partition after the ISO, where the installer keeps its backups when written to a stick (0: none)")
	fl.StringArrayVar(&trustKeys, "trust-key", nil, "also trust payloads signed with this public key (PEM); repeatable")
	fl.BoolVar(&skipSig, "insecure-skip-signature", false, "tolerate a payload without signature (never a bad one)")
	_ = cmd.MarkFlagRequired("payload")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}

func newImageBmapCmd(s streams) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "bmap [-o FILE.bmap] IMAGE",
		Short: "Write the block map of an image (bmaptool's format) for faster writing",
		Long: `Map the blocks of IMAGE (raw, or compressed: .xz, .gz, .zst, .bz2) that hold anything
but zeros, with a SHA-256 per range, into a bmap file in bmaptool's format 2.0. osc write
and bmaptool copy then write and verify only those blocks. The default output is the
uncompressed image's name with .bmap (osc.iso.xz: osc.iso.bmap), where both look for it.`,
		Args: cobra.ExactArgs(1),
		RunE: cli.RunE(func(cmd *cobra.Command, args []string) error {
			src, err := images.Inspect(args[0])
			if err != nil {
				return err
			}
			b, err := images.CreateBmap(cmd.Context(), src)
			if err != nil {
				return err
			}
			if out == "" {
				out = images.BmapPathFor(src)
			}
			if err := images.WriteBmapFile(out, b); err != nil {
				return err
			}
			fmt.Fprintf(s.out, "wrote %s: %s of %s mapped in %d ranges\n", out, describeSize(b.MappedBytes()), describeSize(b.ImageSize), len(b.Ranges))
			return nil
		}),
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "bmap file to write (default: IMAGE without its compression suffix, plus .bmap)")
	return cmd
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
