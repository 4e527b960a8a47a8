package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"github.com/onramp-os/onramp/agent"
	"github.com/onramp-os/onramp/internal/cli"
	"github.com/onramp-os/onramp/internal/exitcode"
	"github.com/onramp-os/onramp/onboard"
)

// version is set at build time (-ldflags -X main.version=...).
var version = "dev"

// Run executes onramp-agent with args and returns the process exit code:
// 0 checked in, 1 failure (not onboarded, server unreachable), 2 usage,
// 3 the server refused the device certificate.
func Run(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer, args []string) int {
	var root string
	var once, asJSON bool
	var sched agent.Schedule
	cmd := &cobra.Command{
		Use:   "onramp-agent [--root DIR] [--once [--json]] [--interval D]",
		Short: "Check in with the management server, receive licenses, renew the device certificate",
		Long: `onramp-agent connects to the UMS the device is onboarded with (` + "/" + onboard.UMSDir + `),
authenticated by the device certificate over mutual TLS 1.3. It reports the Unit
ID, the OS version and a few facts (MAC addresses, disks, uptime), stores the
licenses the UMS assigns to the device atomically on DATA, and re-enrolls (EST
simplereenroll) when less than a third of the certificate's validity is left.
Without --once it checks in now and then every --interval, with backoff and
jitter after failures, until stopped; a device not yet onboarded is looked at
again every --min-backoff.`,
		Args: cobra.NoArgs,
		RunE: cli.RunE(func(cmd *cobra.Command, _ []string) error {
			log := slog.New(slog.NewTextHandler(stderr, nil))
			cfg := agent.Config{Root: root, Version: version, Log: log}
			if !once {
				return agent.Run(cmd.Context(), cfg, sched, nil)
			}
			res, err := agent.Once(cmd.Context(), cfg)
			if err != nil {
				if errors.Is(err, onboard.ErrRefused) {
					return exitcode.Wrap(exitcode.Refused, err)
				}
				return err
			}
			if asJSON {
				enc := json.NewEncoder(stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(res)
			}
			fmt.Fprintf(stdout, "Checked in with %s as %s.\n", res.Server, res.UnitID)
			if res.Reenrolled {
				fmt.Fprintf(stdout, "Certificate renewed, valid until %s.\n", res.CertExpiry.UTC().Format(time.RFC3339))
			}
			fmt.Fprintf(stdout, "Licenses: %d received from the server.\n", res.Received)
			for _, st := range res.Rejected {
				fmt.Fprintf(stdout, "  refused: %s\n", st.Summary())
			}
			for _, st := range res.Licenses {
				fmt.Fprintf(stdout, "  %s  %s\n", st.File, st.Summary())
			}
			return nil
		}),
	}
	cmd.Flags().StringVar(&root, "root", "/", "the system to act for (an offline root: its /etc/onramp/ums and /data/licenses)")
	cmd.Flags().BoolVar(&once, "once", false, "check in once and exit (non-zero when it failed)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "with --once: print the result as JSON")
	cmd.Flags().DurationVar(&sched.Interval, "interval", time.Hour, "time between check-ins")
	cmd.Flags().DurationVar(&sched.MinBackoff, "min-backoff", 30*time.Second, "first wait after a failed check-in (doubles up to --interval)")
	return cli.Execute(ctx, cmd, stdin, stdout, stderr, args)
}
