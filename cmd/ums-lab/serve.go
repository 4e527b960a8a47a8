package main

import (
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/spf13/cobra"

	"github.com/onramp-os/onramp/internal/exitcode"
	"github.com/onramp-os/onramp/onboard/lab"
)

func newServeCmd(s streams, state *stateFlag) *cobra.Command {
	var listen string
	var cfg lab.Config
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve EST and the Onboarding Service over HTTPS (TLS 1.3)",
		Long: `serve answers EST below /device-connector/device/.well-known/est/ (cacerts,
simpleenroll, simplereenroll), the Onboarding Service below /onboarding and the
test identity provider below /idp, and device check-ins (mutual TLS with the
device certificate) at /device-connector/device/checkin, until interrupted. On SIGTERM or SIGINT it
stops accepting, lets requests in flight finish (--shutdown-grace), then closes
the database. Failed enrollments are limited per source address and per Unit
ID (429 with Retry-After). Logs go to stderr and never contain keys, passwords
or tokens.`,
		Args: cobra.NoArgs,
		RunE: state.withState(func(cmd *cobra.Command, _ []string, st *lab.State) error {
			host, _, err := net.SplitHostPort(listen)
			if err != nil {
				return exitcode.New(exitcode.Usage, "--listen %q: %v", listen, err)
			}
			if ip := net.ParseIP(host); host != "" && (ip == nil || !ip.IsUnspecified()) {
				cfg.Hosts = append(cfg.Hosts, host)
			}
			cfg.Logger = slog.New(slog.NewTextHandler(s.err, nil))
			srv, err := lab.NewServer(st, cfg)
			if err != nil {
				return err
			}
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				return fmt.Errorf("listen: %w", err)
			}
			fp := st.Fingerprint()
			cfg.Logger.Info("serving", "addr", ln.Addr().String(), "communication_token", fp.Part(3),
				"service_url", lab.ServiceURL(ln.Addr().String()))
			return srv.Serve(cmd.Context(), ln)
		}),
	}
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:8443", "address to listen on (HOST:PORT)")
	cmd.Flags().StringSliceVar(&cfg.Hosts, "host", nil, "extra host name or address for the server certificate (repeatable)")
	cmd.Flags().IntVar(&cfg.PendingEnrolls, "pending", 0, "answer the first N enrollment requests of each device with 202 Accepted")
	cmd.Flags().DurationVar(&cfg.RetryAfter, "retry-after", time.Second, "Retry-After of those answers")
	cmd.Flags().DurationVar(&cfg.PollInterval, "poll-interval", 5*time.Second, "device-flow polling interval (whole seconds)")
	cmd.Flags().DurationVar(&cfg.DeviceCertValidity, "device-cert-validity", 365*24*time.Hour, "validity of issued device certificates")
	cmd.Flags().DurationVar(&cfg.SignInTTL, "sign-in-ttl", 10*time.Minute, "how long a device-flow sign-in code is valid")
	cmd.Flags().DurationVar(&cfg.ShutdownGrace, "shutdown-grace", 10*time.Second, "on SIGTERM or SIGINT, how long requests in flight may still finish")
	return cmd
}
