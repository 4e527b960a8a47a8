package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/onramp-os/onramp/internal/cli"
	"github.com/onramp-os/onramp/internal/exitcode"
	"github.com/onramp-os/onramp/onboard/lab"
)

func newLoadgenCmd(s streams) *cobra.Command {
	var cfg lab.LoadConfig
	var keysFile, key string
	cmd := &cobra.Command{
		Use:   "loadgen --server HOST:PORT --token T (--keys FILE | --key K) [--devices N] [--concurrency C]",
		Short: "Enroll many simulated devices with the real client and report latency and throughput",
		Long: `loadgen runs N simulated devices against a ums-lab (or any EST server with
first-authentication keys), each doing the complete one-time-password
enrollment of the setup assistant into its own root below --work. It prints
one line: devices, successes, latency p50/p99/max and throughput. Only
loopback or your own test hosts are sensible targets.`,
		Args: cobra.NoArgs,
		RunE: cli.RunE(func(cmd *cobra.Command, _ []string) error {
			if cfg.Addr == "" || cfg.Token == "" || (keysFile == "") == (key == "") || cfg.WorkDir == "" {
				return exitcode.New(exitcode.Usage, "--server, --token, --work and one of --keys, --key are required")
			}
			if key != "" {
				cfg.Keys = []string{key}
			} else {
				keys, err := readLines(keysFile)
				if err != nil {
					return err
				}
				cfg.Keys = keys
			}
			rep, err := lab.RunLoad(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			fmt.Fprintln(s.out, rep)
			if rep.OK != rep.Devices {
				return fmt.Errorf("%d of %d enrollments failed", rep.Devices-rep.OK, rep.Devices)
			}
			return nil
		}),
	}
	cmd.Flags().StringVar(&cfg.Addr, "server", "", "lab address HOST:PORT")
	cmd.Flags().StringVar(&cfg.Token, "token", "", "communication token")
	cmd.Flags().StringVar(&keysFile, "keys", "", "file with one first-authentication key per line, one per device")
	cmd.Flags().StringVar(&key, "key", "", "one mass-deployment key for all devices")
	cmd.Flags().IntVar(&cfg.Devices, "devices", 1000, "number of devices")
	cmd.Flags().IntVar(&cfg.Concurrency, "concurrency", 0, "devices at a time (default: all)")
	cmd.Flags().StringVar(&cfg.WorkDir, "work", "", "directory for the devices' roots")
	cmd.Flags().Int64Var(&cfg.UnitBase, "unit-base", 0x00C000000000, "first Unit ID (as a number)")
	return cmd
}

func readLines(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			out = append(out, l)
		}
	}
	return out, sc.Err()
}
