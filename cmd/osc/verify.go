package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/onramp-os/onramp/blockdev"
	"github.com/onramp-os/onramp/images"
	"github.com/onramp-os/onramp/internal/cli"
)

func newVerifyCmd(s streams) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "verify IMAGE TARGET",
		Short: "Compare a written stick (or image file) with the image",
		Args:  cobra.ExactArgs(2),
		RunE: cli.RunE(func(cmd *cobra.Command, args []string) error {
			rep := newReporter(s, asJSON)
			return rep.fatal(verifyTarget(cmd.Context(), rep, args[0], args[1]))
		}),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print progress and the result as JSON lines on stdout")
	return cmd
}

func verifyTarget(ctx context.Context, rep *reporter, image, target string) error {
	src, err := images.Inspect(image)
	if err != nil {
		return err
	}
	n, err := images.Compare(ctx, src, target, rep.progress)
	if err != nil {
		return err
	}
	rep.info(fmt.Sprintf("%s holds exactly %s (%s)", target, image, blockdev.HumanSize(n)))
	return nil
}
