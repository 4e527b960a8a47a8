package main

import (
	"bufio"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/onramp-os/onramp/internal/exitcode"
	"github.com/onramp-os/onramp/onboard/lab"
)

func newKeysCmd(s streams, state *stateFlag) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "Create, list and disable first-authentication keys",
	}
	cmd.AddCommand(newKeysCreateCmd(s, state), newKeysListCmd(s, state), newKeysDisableCmd(s, state))
	return cmd
}

func newKeysCreateCmd(s streams, state *stateFlag) *cobra.Command {
	var oneTime, mass bool
	var count int
	var unit, password string
	cmd := &cobra.Command{
		Use:   "create --one-time [--count N] | --unit UNITID | --mass [--password P|-]",
		Short: "Create keys; each new key is printed alone on a line of stdout",
		Long: `create makes first-authentication keys (the "one-time password" a device is
onboarded with):
  --one-time [--count N]   one-time keys: any device, once each
  --unit UNITID            a one-time key only the device with this Unit ID may use
  --mass [--password P]    a mass-deployment key: any number of devices; with
                           --password a chosen secret ("-" reads it from stdin):
                           at least 12 characters, three of lower case, upper
                           case, digits and others, 8 different characters
Keys are shown only here: the lab keeps their SHA-256.`,
		Args: cobra.NoArgs,
		RunE: state.withState(func(cmd *cobra.Command, _ []string, st *lab.State) error {
			spec, n, err := keySpec(s, oneTime, mass, unit, password, count, cmd.Flags().Changed("count"))
			if err != nil {
				return err
			}
			for i := 0; i < n; i++ {
				_, secret, err := st.CreateKey(cmd.Context(), spec)
				if err != nil {
					return err
				}
				fmt.Fprintln(s.out, secret)
			}
			return nil
		}),
	}
	cmd.Flags().BoolVar(&oneTime, "one-time", false, "one-time keys for any device")
	cmd.Flags().IntVar(&count, "count", 1, "number of one-time keys")
	cmd.Flags().StringVar(&unit, "unit", "", "a one-time key bound to this Unit ID")
	cmd.Flags().BoolVar(&mass, "mass", false, "a mass-deployment key")
	cmd.Flags().StringVar(&password, "password", "", `chosen mass-deployment password ("-": read from stdin)`)
	return cmd
}

// keySpec checks the flag combination and returns what to create, n times.
func keySpec(s streams, oneTime, mass bool, unit, password string, count int, countSet bool) (lab.KeySpec, int, error) {
	kinds := 0
	for _, set := range []bool{oneTime, mass, unit != ""} {
		if set {
			kinds++
		}
	}
	if kinds != 1 {
		return lab.KeySpec{}, 0, exitcode.New(exitcode.Usage, "give exactly one of --one-time, --unit UNITID, --mass")
	}
	if countSet && !oneTime {
		return lab.KeySpec{}, 0, exitcode.New(exitcode.Usage, "--count goes with --one-time")
	}
	if password != "" && !mass {
		return lab.KeySpec{}, 0, exitcode.New(exitcode.Usage, "--password goes with --mass")
	}
	switch {
	case oneTime:
		if count < 1 || count > 100000 {
			return lab.KeySpec{}, 0, exitcode.New(exitcode.Usage, "--count must be between 1 and 100000")
		}
		return lab.KeySpec{Kind: lab.KindOneTime}, count, nil
	case unit != "":
		return lab.KeySpec{Kind: lab.KindBound, UnitID: strings.ToUpper(strings.ReplaceAll(unit, ":", ""))}, 1, nil
	}
	if password == "-" {
		line, err := bufio.NewReader(s.in).ReadString('\n')
		if err != nil && line == "" {
			return lab.KeySpec{}, 0, exitcode.New(exitcode.Usage, "no password on stdin")
		}
		password = strings.TrimRight(line, "\r\n")
	}
	return lab.KeySpec{Kind: lab.KindMass, Password: password}, 1, nil
}

func newKeysListCmd(s streams, state *stateFlag) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List keys (never their secrets)",
		Args:  cobra.NoArgs,
		RunE: state.withState(func(cmd *cobra.Command, _ []string, st *lab.State) error {
			keys, err := st.Keys(cmd.Context())
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(s.out, 0, 0, 2, ' ', 0)
			fmt.Fprintln(w, "ID\tKIND\tSTATE\tUSES\tUNIT\tLAST USED BY\tE-MAIL\tCREATED")
			for _, k := range keys {
				fmt.Fprintf(w, "%d\t%s\t%s\t%d\t%s\t%s\t%s\t%s\n", k.ID, k.Kind, k.State(), k.Uses,
					dash(k.UnitID), dash(k.UsedBy), dash(k.Email), k.CreatedAt.Format("2006-01-02 15:04:05Z07:00"))
			}
			return w.Flush()
		}),
	}
}

func newKeysDisableCmd(s streams, state *stateFlag) *cobra.Command {
	return &cobra.Command{
		Use:   "disable ID...",
		Short: "Disable keys by their ID (see keys list)",
		Args:  cobra.MinimumNArgs(1),
		RunE: state.withState(func(cmd *cobra.Command, args []string, st *lab.State) error {
			for _, a := range args {
				id, err := strconv.ParseInt(a, 10, 64)
				if err != nil {
					return exitcode.New(exitcode.Usage, "%q is not a key ID", a)
				}
				if err := st.DisableKey(cmd.Context(), id); err != nil {
					return err
				}
				fmt.Fprintf(s.err, "key %d disabled\n", id)
			}
			return nil
		}),
	}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
