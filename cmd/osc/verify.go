package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/onramp-os/onramp/blockdev"
	"github.com/onramp-os/onramp/images"
	"github.com/onramp-os/onramp/internal/cli"
	"github.com/onramp-os/onramp/internal/exitcode"
)

type verifyFlags struct {
	json, noBmap, noChecksum bool
	bmap                     string
}

func newVerifyCmd(s streams) *cobra.Command {
	var f verifyFlags
	cmd := &cobra.Command{
		Use:   "verify [--json] [--bmap FILE | --no-bmap] [--no-checksum] IMAGE TARGET",
		Short: "Compare a written stick (or image file) with the image",
		Long: `Read TARGET and compare it with IMAGE from its start. The image is checked as it is read:
its compressed data, its published checksum (IMAGE.sha256, SHA256SUMS; --no-checksum skips
it) and its block map's checksums. A damaged image exits 5 and does not blame the stick;
a stick that differs from an intact image exits 4. With a block map (IMAGE.bmap beside the
image, or --bmap), only the mapped ranges are compared, as osc write writes them.`,
		Args: cobra.ExactArgs(2),
		RunE: cli.RunE(func(cmd *cobra.Command, args []string) error {
			if f.noBmap && f.bmap != "" {
				return exitcode.New(exitcode.Usage, "--bmap and --no-bmap exclude each other")
			}
			rep := newReporter(s, f.json)
			return rep.fatal(verifyTarget(cmd.Context(), rep, f, args[0], args[1]))
		}),
	}
	fl := cmd.Flags()
	fl.BoolVar(&f.json, "json", false, "print progress and the result as JSON lines on stdout")
	fl.StringVar(&f.bmap, "bmap", "", "the image's block map (bmaptool's format); default: IMAGE.bmap if there is one")
	fl.BoolVar(&f.noBmap, "no-bmap", false, "ignore a block map beside the image: compare every byte")
	fl.BoolVar(&f.noChecksum, "no-checksum", false, "do not look for a published checksum (IMAGE.sha256, SHA256SUMS)")
	return cmd
}

func verifyTarget(ctx context.Context, rep *reporter, f verifyFlags, image, target string) error {
	src, err := images.Inspect(image)
	if err != nil {
		return err
	}
	bmap, err := loadBmap(src, f.bmap, f.noBmap)
	if err != nil {
		return err
	}
	sum, err := expectedChecksum(image, f.noChecksum)
	if err != nil {
		return err
	}
	n, err := images.Compare(ctx, src, target, images.CompareOptions{Bmap: bmap, Checksum: sum, Progress: rep.progress})
	if err != nil {
		return err
	}
	if sum != nil {
		rep.info(fmt.Sprintf("SHA-256 of %s matches %s", image, sum.From))
	}
	if bmap != nil {
		rep.info(fmt.Sprintf("%s holds %s in the ranges %s maps (%s of %s compared)", target, image, bmap.Path,
			blockdev.HumanSize(n), blockdev.HumanSize(bmap.ImageSize)))
		return nil
	}
	rep.info(fmt.Sprintf("%s holds exactly %s (%s)", target, image, blockdev.HumanSize(n)))
	return nil
}
