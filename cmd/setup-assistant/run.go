package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/onramp-os/onramp/firstboot"
	"github.com/onramp-os/onramp/internal/exitcode"
)

// options are the command line.
type options struct {
	root           string
	demo           bool
	demoStep       time.Duration
	answers        string
	nonInteractive bool
	accessible     bool
	force          bool
	geoIPURL       string
	support        string
	unitID         bool
	rescueTTY      string
	savedModem     bool
}

// streams are the standard streams of one invocation.
type streams struct {
	in       io.Reader
	out, err io.Writer
}

// Run executes setup-assistant with args and returns the exit code: 0 done
// (or nothing to do), 1 a step failed, 2 bad flags or answers (the error
// names the field), 130 interrupted.
func Run(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer, args []string) int {
	s := streams{in: stdin, out: stdout, err: stderr}
	var o options
	root := &cobra.Command{
		Use:   "setup-assistant",
		Short: "First-boot setup: language, keyboard, license, network, time zone, onboarding",
		Long: `setup-assistant configures a device on its first start: display language and
keyboard, the license, the network (wired, Wi-Fi, mobile broadband), the time
zone, and onboarding to the management server.

Without flags on a terminal it configures the running system. --root DIR
configures an offline root instead; --answers FILE --non-interactive runs
every step from an answers file (docs/answers.md).`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch {
			case o.support != "":
				return saveSupport(cmd.Context(), s, o)
			case o.unitID:
				return printUnitID(s)
			case o.rescueTTY != "":
				return rescueLogin(cmd.Context(), s, o)
			case o.savedModem:
				return connectSavedModem(cmd.Context(), s, o)
			}
			return run(cmd.Context(), s, o)
		},
	}
	f := root.Flags()
	f.StringVar(&o.root, "root", "", "configure the root file system at DIR instead of / (with --demo: where the demo writes)")
	f.BoolVar(&o.demo, "demo", false, "run on a simulated device, writing into a temporary root printed at the end")
	f.DurationVar(&o.demoStep, "demo-step", 600*time.Millisecond, "how long each simulated network or server step takes")
	_ = f.MarkHidden("demo-step")
	f.StringVar(&o.answers, "answers", "", "answers FILE (YAML) to prefill the steps")
	f.BoolVar(&o.nonInteractive, "non-interactive", false, "run every step from --answers without asking")
	f.BoolVar(&o.accessible, "accessible", false, "plain line-by-line prompts for screen readers (automatic with TERM=dumb)")
	f.BoolVar(&o.force, "force", false, "run even when the setup was completed before")
	f.StringVar(&o.geoIPURL, "geoip-url", "", "URL answering with the time zone of the caller, after DHCP option 101")
	f.StringVar(&o.support, "support", "", "save support information (secrets redacted) to auto (the first USB stick) or a FILE, and exit")
	f.BoolVar(&o.unitID, "unit-id", false, "print the Unit ID and exit")
	f.StringVar(&o.rescueTTY, "rescue-login", "", "be the login program of the rescue console TTY (agetty --login-program)")
	_ = f.MarkHidden("rescue-login")
	f.BoolVar(&o.savedModem, "connect-saved-modem", false, "connect the saved mobile broadband connection and keep it connected (onramp-modem.service)")
	_ = f.MarkHidden("connect-saved-modem")
	f.StringVar(&onboardingService, "onboarding-service", "", "Onboarding Service base URL for onboarding by e-mail")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return exitcode.Wrap(exitcode.Usage, err) })
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	var tagged *exitcode.Error
	var answer *firstboot.AnswerError
	switch {
	case errors.As(err, &answer) && answer.Device:
		err = exitcode.Wrap(exitcode.Failure, err)
	case errors.As(err, &answer):
		err = exitcode.Wrap(exitcode.Usage, err)
	case !errors.As(err, &tagged) && !errors.Is(err, context.Canceled):
		err = exitcode.Wrap(exitcode.Failure, err)
	}
	fmt.Fprintf(stderr, "setup-assistant: %v\n", err)
	return exitcode.Code(err)
}
