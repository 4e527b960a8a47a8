package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/onramp-os/onramp/installer"
	"github.com/onramp-os/onramp/internal/cli"
	"github.com/onramp-os/onramp/license"
)

func newInspectCmd(s streams) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "inspect [--json] TARGET",
		Short: "Show a drive and the installation on it (layout, version, settings, licenses)",
		Args:  cobra.ExactArgs(1),
		RunE: cli.RunE(func(_ *cobra.Command, args []string) error {
			in, err := installer.Inspect(args[0])
			if err != nil {
				return err
			}
			if asJSON {
				return json.NewEncoder(s.out).Encode(in)
			}
			printInspection(s, in)
			return nil
		}),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	return cmd
}

func printInspection(s streams, in *installer.Inspection) {
	w := s.out
	fmt.Fprintf(w, "Target:          %s\n", in.Path)
	fmt.Fprintf(w, "Size:            %s\n", describeSize(in.Size))
	if d := in.Drive; d != nil {
		fmt.Fprintf(w, "Model:           %s\n", orUnknown(d.Vendor+" "+d.Model))
		fmt.Fprintf(w, "Serial:          %s\n", orUnknown(d.Serial))
		fmt.Fprintf(w, "Transport:       %s\n", orUnknown(d.Transport))
	} else {
		fmt.Fprintf(w, "Model:           image file\n")
	}
	ex := in.Existing
	fmt.Fprintf(w, "Partition table: %s\n", ex.Table)
	defer printProblems(w, ex)
	if ex.Layout == 0 {
		fmt.Fprintf(w, "Installation:    none found\n")
		return
	}
	fmt.Fprintf(w, "Installation:    layout version %d", ex.Layout)
	if ex.OSVersion != "" {
		fmt.Fprintf(w, ", %s %s", ex.OSName, ex.OSVersion)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "Settings:        %s\n", present(in.Settings, "files"))
	printSettings(w, in.SettingsFiles)
	fmt.Fprintf(w, "Licenses:        %d (%d valid on this machine)\n", in.Licenses, license.Count(in.LicenseStates))
	for _, st := range in.LicenseStates {
		fmt.Fprintf(w, "  %s  %s\n", st.File, st.Summary())
	}
}

// printProblems shows what could not be read, installation found or not:
// a damaged partition table or file system is news the text must carry
// as --json does.
func printProblems(w io.Writer, ex *installer.Existing) {
	if ex.Problem != "" {
		fmt.Fprintf(w, "Problem:         %s\n", ex.Problem)
	}
	for _, d := range ex.Damaged {
		fmt.Fprintf(w, "Damaged:         %s\n", d)
	}
	if ex.Unclean {
		fmt.Fprintf(w, "Unclean:         %s was not shut down cleanly: its journal holds changes not shown here; osc install replays it before migrating\n", installer.LabelData)
	}
}

// printSettings lists the settings a migration would carry, one a line:
// mode, owner, size (or link target) and path.
func printSettings(w io.Writer, list []installer.Setting) {
	for _, st := range list {
		what := fmt.Sprintf("%d bytes", st.Size)
		switch st.Type {
		case "dir":
			what = "directory"
		case "symlink":
			what = "-> " + st.Target
		}
		fmt.Fprintf(w, "  %s %-9s %s  %s\n", st.Mode, fmt.Sprintf("%d:%d", st.UID, st.GID), st.Path, what)
	}
}

func present(n int, what string) string {
	if n == 0 {
		return "none"
	}
	return fmt.Sprintf("yes (%d %s)", n, what)
}

func orUnknown(v string) string {
	if len(v) == 0 || v == " " {
		return "unknown"
	}
	return v
}
