package main

import (
	"context"
	"io"

	"github.com/spf13/cobra"

	"github.com/onramp-os/onramp/internal/cli"
	"github.com/onramp-os/onramp/internal/exitcode"
	"github.com/onramp-os/onramp/onboard/lab"
)

// streams are the standard streams of one invocation.
type streams struct {
	in       io.Reader
	out, err io.Writer
}

// Run executes ums-lab with args and returns the process exit code (0 ok,
// 1 failure, 2 usage, 130 aborted).
func Run(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer, args []string) int {
	return cli.Execute(ctx, newRootCmd(streams{in: stdin, out: stdout, err: stderr}), stdin, stdout, stderr, args)
}

// stateFlag is the --state every command takes.
type stateFlag struct{ dir string }

// open opens the state directory, which must be given.
func (f *stateFlag) open() (*lab.State, error) {
	if f.dir == "" {
		return nil, exitcode.New(exitcode.Usage, "--state DIR is required")
	}
	return lab.OpenState(f.dir)
}

// withState runs f with the opened state and closes it afterwards.
func (f *stateFlag) withState(body func(cmd *cobra.Command, args []string, st *lab.State) error) func(*cobra.Command, []string) error {
	return cli.RunE(func(cmd *cobra.Command, args []string) error {
		st, err := f.open()
		if err != nil {
			return err
		}
		defer st.Close()
		return body(cmd, args, st)
	})
}

func newRootCmd(s streams) *cobra.Command {
	state := &stateFlag{}
	root := &cobra.Command{
		Use:   "ums-lab",
		Short: "Reference server for device onboarding: EST enrollment, first-authentication keys, Onboarding Service",
		Long: `ums-lab is a small, real reference server for the management side of onboarding:
EST certificate enrollment (RFC 7030) with first-authentication keys, a device
registry and an Onboarding Service with device-flow sign-in. Its CA and database
live in the --state directory; administration commands work while it serves.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&state.dir, "state", "", "state directory (CA, keys, registry); created on first use")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return exitcode.Wrap(exitcode.Usage, err)
	})
	root.AddCommand(
		newServeCmd(s, state),
		newKeysCmd(s, state),
		newTokenCmd(s, state),
		newDevicesCmd(s, state),
		newLicensesCmd(s, state),
		newObsCmd(s, state),
		newLoadgenCmd(s),
	)
	return root
}
