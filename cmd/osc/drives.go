package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/onramp-os/onramp/blockdev"
	"github.com/onramp-os/onramp/internal/cli"
)

func newDrivesCmd(s streams) *cobra.Command {
	var all, asJSON bool
	cmd := &cobra.Command{
		Use:   "drives",
		Short: "List drives an installer stick can be written to",
		Long: `List drives an installer stick can be written to: removable or USB drives.
With --all, every disk, with the flags that decide whether osc will write it.`,
		Args: cobra.NoArgs,
		RunE: cli.RunE(func(*cobra.Command, []string) error {
			ds, err := blockdev.List()
			if err != nil {
				return err
			}
			if !all {
				ds = blockdev.Candidates(ds)
			}
			if asJSON {
				if ds == nil {
					ds = []blockdev.Drive{}
				}
				enc := json.NewEncoder(s.out)
				enc.SetIndent("", "  ")
				return enc.Encode(ds)
			}
			return printDrives(s, ds, all)
		}),
	}
	cmd.Flags().BoolVar(&all, "all", false, "list every disk, with flags system, mounted, removable, readonly, usb")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the drives as a JSON array")
	return cmd
}

func printDrives(s streams, ds []blockdev.Drive, all bool) error {
	if len(ds) == 0 {
		if all {
			fmt.Fprintln(s.err, "No disks found.")
		} else {
			fmt.Fprintln(s.err, "No removable or USB drives found. Plug in a stick, or see every disk with --all.")
		}
		return nil
	}
	tw := tabwriter.NewWriter(s.out, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DEVICE\tSIZE\tTRANSPORT\tMODEL\tFLAGS")
	for _, d := range ds {
		model := strings.TrimSpace(d.Vendor + " " + d.Model)
		if model == "" {
			model = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", d.Path, blockdev.HumanSize(d.Size), orDash(d.Transport), model, flags(d))
	}
	return tw.Flush()
}

func flags(d blockdev.Drive) string {
	var f []string
	for _, x := range []struct {
		on   bool
		name string
	}{{d.System, "system"}, {d.Mounted, "mounted"}, {d.Removable, "removable"}, {d.ReadOnly, "readonly"}, {d.USB, "usb"}} {
		if x.on {
			f = append(f, x.name)
		}
	}
	return orDash(strings.Join(f, ","))
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
