package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/onramp-os/onramp/internal/cli"
	"github.com/onramp-os/onramp/onboard"
	"github.com/onramp-os/onramp/support"
)

func newSupportCmd(s streams) *cobra.Command {
	var root, to string
	cmd := &cobra.Command{
		Use:   "support [--root DIR] --to auto|FILE",
		Short: "Save support information (logs, settings, disks; secrets redacted) to a USB stick or a file",
		Long: `support writes a zip of the device's logs, setup state, network configuration,
disks, hardware and enrollment facts, with every secret redacted, for support.

--to auto writes onramp-support-UNITID-TIME.zip to the first USB stick with a
FAT, exFAT or ext4 file system (mounting and unmounting it as needed); with no
such stick it writes nothing and exits 3. --to FILE writes the zip to FILE.`,
		Args: cobra.NoArgs,
		RunE: cli.RunE(func(cmd *cobra.Command, _ []string) error {
			msg, err := support.Save(cmd.Context(), to, support.Options{Root: root, Tool: "osc", Version: cli.Version()})
			if err != nil {
				return err
			}
			fmt.Fprintln(s.out, msg)
			return nil
		}),
	}
	cmd.Flags().StringVar(&root, "root", "/", "collect the files of the system at DIR")
	cmd.Flags().StringVar(&to, "to", "", "auto (the first USB stick) or a FILE name")
	return cmd
}

// unitIDCommand is the name osc answers to as the Unit ID printer (a
// symbolic link named so to the osc binary).
const unitIDCommand = "get_unit_id"

func newUnitIDCmd(s streams) *cobra.Command {
	return &cobra.Command{
		Use:     "unit-id",
		Aliases: []string{unitIDCommand},
		Short:   "Print the Unit ID (the MAC address onboarding identifies the device by)",
		Args:    cobra.NoArgs,
		RunE: cli.RunE(func(*cobra.Command, []string) error {
			id, err := onboard.UnitID()
			if err != nil {
				return err
			}
			fmt.Fprintln(s.out, id)
			return nil
		}),
	}
}
