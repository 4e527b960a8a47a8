package main

import (
	"bufio"
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/onramp-os/onramp/blockdev"
	"github.com/onramp-os/onramp/images"
	"github.com/onramp-os/onramp/installer"
	"github.com/onramp-os/onramp/internal/cli"
	"github.com/onramp-os/onramp/internal/exitcode"
)

type writeFlags struct {
	yes, force, noVerify, json, noBmap, noChecksum bool
	bmap                                           string
}

func newWriteCmd(s streams) *cobra.Command {
	var f writeFlags
	cmd := &cobra.Command{
		Use:   "write [--yes] [--force] [--no-verify] [--json] [--bmap FILE | --no-bmap] IMAGE TARGET [TARGET...]",
		Short: "Write an installer image to one or more USB sticks, verified",
		Long: `Write IMAGE (.iso, .img, .raw, optionally compressed .xz, .gz, .zst, .bz2) to every
TARGET at once: block devices (/dev/sdX) or image files. Safety checks come first:
the system disk is never written; mounted, read-only and fixed disks only with --force.
A published checksum (IMAGE.sha256, SHA256SUMS) is checked in the same read of the image
that writes it, before the first MiB (the partition table) is written: a mismatch leaves
every target unbootable and exits 5. An IMAGE.sha256 that does not list the image is
refused; --no-checksum writes without looking for one. Every target is read back and
compared unless --no-verify.

Nothing is written to a device before the write can happen: an image whose format does
not record its size (.gz, .bz2, some .zst) is read through once first, so one too large
for the device is refused (exit 3) and a damaged one (exit 5) without changing it. Then
the first MiB of every target is zeroed, the rest written, and the image's first MiB
written last: a write cut short, by kill -9 or a pulled plug too, leaves nothing that boots.

A block map (bmaptool's IMAGE.bmap, found beside the image as bmaptool looks for it, also
osc.iso.bmap for osc.iso.xz, or given with --bmap) limits writing and verifying to the
blocks that hold data, each checked against the map's checksums; the rest of the target
is made to read zeros, as in the image. A map that does not fit the image is refused
(exit 5). --no-bmap writes and verifies every byte.`,
		Args: cobra.MinimumNArgs(2),
		ValidArgsFunction: func(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
			if len(args) == 0 {
				return []string{"iso", "img", "raw", "xz", "gz", "zst", "bz2"}, cobra.ShellCompDirectiveFilterFileExt
			}
			ds, err := blockdev.List()
			if err != nil {
				return nil, cobra.ShellCompDirectiveDefault
			}
			var paths []string
			for _, d := range blockdev.Candidates(ds) {
				paths = append(paths, d.Path+"\t"+d.Describe())
			}
			return paths, cobra.ShellCompDirectiveDefault
		},
		RunE: cli.RunE(func(cmd *cobra.Command, args []string) error {
			return runWrite(cmd.Context(), s, f, args[0], args[1:])
		}),
	}
	fl := cmd.Flags()
	fl.BoolVarP(&f.yes, "yes", "y", false, "do not ask for confirmation")
	fl.BoolVar(&f.force, "force", false, "also write mounted, read-only or non-removable disks (never the system disk)")
	fl.BoolVar(&f.noVerify, "no-verify", false, "skip reading the targets back")
	fl.BoolVar(&f.json, "json", false, "print progress and results as JSON lines on stdout")
	fl.StringVar(&f.bmap, "bmap", "", "the image's block map (bmaptool's format); default: IMAGE.bmap if there is one")
	fl.BoolVar(&f.noBmap, "no-bmap", false, "ignore a block map beside the image: write and verify every byte")
	fl.BoolVar(&f.noChecksum, "no-checksum", false, "do not look for a published checksum (IMAGE.sha256, SHA256SUMS): write the image unchecked")
	return cmd
}

func runWrite(ctx context.Context, s streams, f writeFlags, image string, targets []string) error {
	for i, t := range targets {
		for _, earlier := range targets[:i] {
			if blockdev.SameTarget(earlier, t) {
				return exitcode.New(exitcode.Usage, "targets %s and %s are the same device or file", earlier, t)
			}
		}
	}
	if f.noBmap && f.bmap != "" {
		return exitcode.New(exitcode.Usage, "--bmap and --no-bmap exclude each other")
	}
	rep := newReporter(s, f.json)
	src, err := images.Inspect(image)
	if err != nil {
		return rep.fatal(err)
	}
	bmap, err := loadBmap(src, f.bmap, f.noBmap)
	if err != nil {
		return rep.fatal(err)
	}
	sum, err := expectedChecksum(image, f.noChecksum)
	if err != nil {
		return rep.fatal(err)
	}
	checks := make([]images.TargetCheck, 0, len(targets))
	for _, t := range targets {
		c, err := installer.CheckWriteTarget(src, t, f.force)
		if err != nil {
			return rep.fatal(err)
		}
		for _, w := range c.Warnings {
			rep.warning(t, w)
		}
		checks = append(checks, c)
	}
	if !f.yes {
		if err := confirm(s, checks); err != nil {
			return rep.fatal(err)
		}
	}
	if sum != nil {
		rep.info(fmt.Sprintf("SHA-256 of %s is checked against %s as it is written", image, sum.From))
	}
	if bmap != nil {
		rep.info(fmt.Sprintf("bmap %s: %s of %s mapped; only those are written and verified", bmap.Path,
			blockdev.HumanSize(bmap.MappedBytes()), blockdev.HumanSize(bmap.ImageSize)))
	}
	results := images.Write(ctx, src, targets, images.Options{Verify: !f.noVerify, Progress: rep.progress, Bmap: bmap, Checksum: sum})
	for _, r := range results {
		if r.Checksum {
			rep.info(fmt.Sprintf("SHA-256 of %s matches %s", image, sum.From))
			break
		}
	}
	return rep.results(results)
}

// loadBmap is the block map given with --bmap or found beside the image,
// checked against it; nil when there is none or with --no-bmap.
func loadBmap(src images.Source, path string, noBmap bool) (*images.Bmap, error) {
	if noBmap {
		return nil, nil
	}
	return images.BmapFor(src, path)
}

// expectedChecksum is the image's published SHA-256, nil when there is
// none or with --no-checksum.
func expectedChecksum(image string, noChecksum bool) (*images.Checksum, error) {
	if noChecksum {
		return nil, nil
	}
	return images.ExpectedChecksum(image)
}

// confirm asks once for all targets, default No. Targets with warnings
// (unusual sizes) are named again in the question.
func confirm(s streams, checks []images.TargetCheck) error {
	for _, c := range checks {
		fmt.Fprintln(s.err, c.ConfirmText())
		for _, w := range c.Warnings {
			fmt.Fprintf(s.err, "  Warning: %s\n", w)
		}
	}
	fmt.Fprint(s.err, "Continue? [y/N] ")
	line, _ := bufio.NewReader(s.in).ReadString('\n')
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return nil
	}
	return exitcode.New(exitcode.Aborted, "nothing written: not confirmed")
}
