package main

import (
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/onramp-os/onramp/internal/exitcode"
	"github.com/onramp-os/onramp/onboard/lab"
)

func newLicensesCmd(s streams, state *stateFlag) *cobra.Command {
	cmd := &cobra.Command{Use: "licenses", Short: "Assign and list device licenses (delivered at the device's next check-in)"}
	var unit, product string
	var days int
	assign := &cobra.Command{
		Use:   "assign --unit UNITID --product NAME [--days N]",
		Short: "Sign a license for a device; it receives it at its next check-in",
		Args:  cobra.NoArgs,
		RunE: state.withState(func(cmd *cobra.Command, _ []string, st *lab.State) error {
			if unit == "" || product == "" {
				return exitcode.New(exitcode.Usage, "--unit and --product are required")
			}
			a, err := st.AssignLicense(cmd.Context(), unit, product, days)
			if errors.Is(err, lab.ErrInvalidLicense) {
				return exitcode.Wrap(exitcode.Usage, err)
			}
			if err != nil {
				return err
			}
			fmt.Fprintln(s.out, a.ID)
			fmt.Fprintf(s.err, "license %s: %s for %s until %s\n", a.ID, a.Product, a.UnitID, a.ExpiresAt.Format(time.RFC3339))
			return nil
		}),
	}
	assign.Flags().StringVar(&unit, "unit", "", "the device's Unit ID (12 hexadecimal characters)")
	assign.Flags().StringVar(&product, "product", "", "product name")
	assign.Flags().IntVar(&days, "days", 365, "validity in days (1-3660)")

	var asJSON bool
	var of string
	list := &cobra.Command{
		Use:   "list [--unit UNITID] [--json]",
		Short: "List assigned licenses",
		Args:  cobra.NoArgs,
		RunE: state.withState(func(cmd *cobra.Command, _ []string, st *lab.State) error {
			ls, err := st.Licenses(cmd.Context(), of)
			if err != nil {
				return err
			}
			if asJSON {
				if ls == nil {
					ls = []lab.Assignment{}
				}
				return writeJSON(s, ls)
			}
			now := time.Now()
			w := tabwriter.NewWriter(s.out, 0, 0, 2, ' ', 0)
			fmt.Fprintln(w, "ID\tUNIT ID\tPRODUCT\tISSUED\tEXPIRES\tSTATE")
			for _, a := range ls {
				state := "valid"
				if !now.Before(a.ExpiresAt) {
					state = "expired"
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", a.ID, a.UnitID, a.Product, stamp(a.IssuedAt), stamp(a.ExpiresAt), state)
			}
			return w.Flush()
		}),
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print the licenses as JSON")
	list.Flags().StringVar(&of, "unit", "", "only the licenses of this Unit ID")
	cmd.AddCommand(assign, list)
	return cmd
}
