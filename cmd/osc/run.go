package main

import (
	"context"
	"io"

	"github.com/spf13/cobra"

	"github.com/onramp-os/onramp/internal/cli"
)

// streams are the standard streams of one invocation.
type streams struct {
	in       io.Reader
	out, err io.Writer
}

// Run executes osc with args and returns the process exit code (DESIGN.md:
// 0 ok, 1 failure, 2 usage, 3 refused, 4 verification failed, 5 image
// invalid, 130 aborted).
func Run(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer, args []string) int {
	return cli.Execute(ctx, newRootCmd(streams{in: stdin, out: stdout, err: stderr}), stdin, stdout, stderr, args)
}

func newRootCmd(s streams) *cobra.Command {
	var demo bool
	var dir, demoDir, source string
	root := &cobra.Command{
		Use:   "osc",
		Short: "OS Creator: write installer sticks and install the base system",
		Long: `osc writes installer images to USB sticks, verified, and installs the base system.

Without arguments on a terminal it opens the interactive tool.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs,
		RunE: cli.RunE(func(cmd *cobra.Command, _ []string) error {
			return runTUI(cmd.Context(), s, tuiOptions{demo: demo, dir: dir, demoDir: demoDir, source: source})
		}),
	}
	root.Flags().BoolVar(&demo, "demo", false, "open the interactive tool with a generated sample image and file-backed demo sticks")
	root.Flags().StringVar(&dir, "dir", ".", "folder holding the installer images (*.iso) to offer")
	root.Flags().StringVar(&demoDir, "demo-dir", "", "folder for the --demo files (default: a new temporary folder)")
	root.Flags().StringVar(&source, "source", "", "installer ISO or payload directory \"Install base system\" installs (default: the onramp/ payload beside osc)")
	_ = root.Flags().MarkHidden("demo-dir")
	root.AddCommand(newDrivesCmd(s), newWriteCmd(s), newVerifyCmd(s))
	root.AddCommand(linuxOnly(newInstallCmd(s)), linuxOnly(newRestoreCmd(s)), linuxOnly(newInspectCmd(s)), newImageCmd(s))
	root.AddCommand(linuxOnly(newSupportCmd(s)), linuxOnly(newUnitIDCmd(s)))
	return root
}
