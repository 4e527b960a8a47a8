// Package cli runs a cobra command tree the way Onramp's programs do:
// in-process with the given streams, every error carrying an exit-code kind
// (cobra's own errors — unknown command or flag, wrong arguments — are usage
// errors), one "NAME: error" line on stderr. It holds no commands itself.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/onramp-os/onramp/internal/exitcode"
)

// ErrReported marks an error whose details a command already printed (per
// target results, say): Execute prints nothing more but exits with its kind.
var ErrReported = errors.New("reported")

// Execute runs root with args on the given streams and returns the process
// exit code.
func Execute(ctx context.Context, root *cobra.Command, stdin io.Reader, stdout, stderr io.Writer, args []string) int {
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SilenceUsage, root.SilenceErrors = true, true
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return exitcode.Wrap(exitcode.Usage, err) })
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	var tagged *exitcode.Error
	if !errors.As(err, &tagged) && !errors.Is(err, context.Canceled) {
		err = exitcode.Wrap(exitcode.Usage, err)
	}
	if !errors.Is(err, ErrReported) {
		fmt.Fprintf(stderr, "%s: %v\n", root.Name(), err)
	}
	if exitcode.KindOf(err) == exitcode.Usage {
		fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", root.Name())
	}
	return exitcode.Code(err)
}

// RunE adapts a command body so every error it returns carries a kind:
// untagged ones are plain failures, not usage errors.
func RunE(f func(cmd *cobra.Command, args []string) error) func(*cobra.Command, []string) error {
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

// IsTerminal reports whether v (a stream) is a terminal: progress bars and
// prompts only then.
func IsTerminal(v any) bool {
	f, ok := v.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// Version is the program's version: the module version, or the VCS
// revision of a development build ("dev-0123456789ab"), or "dev".
func Version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "dev"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			return "dev-" + s.Value[:12]
		}
	}
	return "dev"
}
