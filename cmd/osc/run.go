package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/onramp-os/onramp/internal/exitcode"
)

// streams are the standard streams of one invocation.
type streams struct {
	in       io.Reader
	out, err io.Writer
}

// isTerminal reports whether w is a terminal (progress bars, prompts).
func isTerminal(v any) bool {
	f, ok := v.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// Run executes osc with args and returns the process exit code (DESIGN.md:
// 0 ok, 1 failure, 2 usage, 3 refused, 4 verification failed, 5 image
// invalid, 130 aborted).
func Run(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer, args []string) int {
	s := streams{in: stdin, out: stdout, err: stderr}
	root := newRootCmd(s)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	var tagged *exitcode.Error
	if !errors.As(err, &tagged) && !errors.Is(err, context.Canceled) {
		// Errors cobra raises itself: unknown command or flag, wrong arguments.
		err = exitcode.Wrap(exitcode.Usage, err)
	}
	if !errors.Is(err, errReported) {
		fmt.Fprintf(stderr, "osc: %v\n", err)
	}
	if exitcode.KindOf(err) == exitcode.Usage {
		fmt.Fprintf(stderr, "Run 'osc --help' for usage.\n")
	}
	return exitcode.Code(err)
}

// errReported marks an error whose details were already printed (per-target
// results), so Run prints nothing more but still exits with its kind.
var errReported = errors.New("reported")

// runE adapts a command body so every error it returns carries a kind:
// untagged ones are plain failures, not usage errors.
func runE(f func(cmd *cobra.Command, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		err := f(cmd, args)
		if err == nil || errors.Is(err, context.Canceled) {
			return err
		}
		var tagged *exitcode.Error
		if errors.As(err, &tagged) {
			return err
		}
		return exitcode.Wrap(exitcode.Failure, err)
	}
}

func newRootCmd(s streams) *cobra.Command {
	var demo bool
	var dir, demoDir string
	root := &cobra.Command{
		Use:   "osc",
		Short: "OS Creator: write installer sticks and install the base system",
		Long: `osc writes installer images to USB sticks, verified, and installs the base system.

Without arguments on a terminal it opens the interactive tool.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs,
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			return runTUI(cmd.Context(), s, tuiOptions{demo: demo, dir: dir, demoDir: demoDir})
		}),
	}
	root.Flags().BoolVar(&demo, "demo", false, "open the interactive tool with a generated sample image and file-backed demo sticks")
	root.Flags().StringVar(&dir, "dir", ".", "folder holding the installer images (*.iso) to offer")
	root.Flags().StringVar(&demoDir, "demo-dir", "", "folder for the --demo files (default: a new temporary folder)")
	_ = root.Flags().MarkHidden("demo-dir")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return exitcode.Wrap(exitcode.Usage, err)
	})
	root.AddCommand(newDrivesCmd(s), newWriteCmd(s), newVerifyCmd(s))
	root.AddCommand(newInstallCmd(s), newRestoreCmd(s), newInspectCmd(s), newImageCmd(s))
	return root
}
