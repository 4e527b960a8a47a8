package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/onramp-os/onramp/onboard/lab"
)

func newDevicesCmd(s streams, state *stateFlag) *cobra.Command {
	cmd := &cobra.Command{Use: "devices", Short: "List, revoke and delete registered devices"}
	var asJSON bool
	list := &cobra.Command{
		Use:   "list [--json]",
		Short: "List registered devices with their last check-in",
		Args:  cobra.NoArgs,
		RunE: state.withState(func(cmd *cobra.Command, _ []string, st *lab.State) error {
			recs, err := st.DeviceRecords(cmd.Context())
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(s, devicesJSON(recs))
			}
			w := tabwriter.NewWriter(s.out, 0, 0, 2, ' ', 0)
			fmt.Fprintln(w, "UNIT ID\tSERIAL\tENROLLED\tLAST SEEN\tOS\tSTATE\tKEY ID\tONBOARDED BY")
			for _, d := range recs {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", d.UnitID, d.Serial, stamp(d.EnrolledAt), dash(stamp(d.LastSeen)),
					dash(d.OSVersion), deviceState(d), d.KeyID, dash(d.OnboardedBy))
			}
			return w.Flush()
		}),
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print the devices as JSON")
	cmd.AddCommand(list, &cobra.Command{
		Use:   "revoke UNITID...",
		Short: "Revoke the devices' certificates: check-ins and re-enrollments are refused",
		Args:  cobra.MinimumNArgs(1),
		RunE: state.withState(func(cmd *cobra.Command, args []string, st *lab.State) error {
			for _, id := range args {
				if err := st.RevokeDevice(cmd.Context(), id); err != nil {
					return err
				}
				fmt.Fprintf(s.err, "certificate of device %s revoked\n", strings.ToUpper(id))
			}
			return nil
		}),
	}, &cobra.Command{
		Use:   "delete UNITID...",
		Short: "Delete devices so their Unit IDs can enroll again (their certificates become unknown)",
		Args:  cobra.MinimumNArgs(1),
		RunE: state.withState(func(cmd *cobra.Command, args []string, st *lab.State) error {
			for _, id := range args {
				if err := st.DeleteDevice(cmd.Context(), id); err != nil {
					return err
				}
				fmt.Fprintf(s.err, "device %s deleted\n", strings.ToUpper(id))
			}
			return nil
		}),
	})
	return cmd
}

// deviceJSON is one device in `devices list --json`.
type deviceJSON struct {
	UnitID      string     `json:"unit_id"`
	Serial      string     `json:"serial"`
	EnrolledAt  time.Time  `json:"enrolled_at"`
	LastSeen    *time.Time `json:"last_seen"` // null: never checked in
	OSVersion   string     `json:"os_version,omitempty"`
	Revoked     bool       `json:"revoked"`
	KeyID       int64      `json:"key_id"`
	OnboardedBy string     `json:"onboarded_by,omitempty"`
	Facts       any        `json:"facts,omitempty"`
}

func devicesJSON(recs []lab.DeviceRecord) []deviceJSON {
	out := make([]deviceJSON, 0, len(recs))
	for _, d := range recs {
		j := deviceJSON{UnitID: d.UnitID, Serial: d.Serial, EnrolledAt: d.EnrolledAt, OSVersion: d.OSVersion,
			Revoked: d.Revoked, KeyID: d.KeyID, OnboardedBy: d.OnboardedBy}
		if !d.LastSeen.IsZero() {
			seen := d.LastSeen
			j.LastSeen = &seen
			j.Facts = d.Facts
		}
		out = append(out, j)
	}
	return out
}

func deviceState(d lab.DeviceRecord) string {
	if d.Revoked {
		return "revoked"
	}
	return "active"
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

func writeJSON(s streams, v any) error {
	enc := json.NewEncoder(s.out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
