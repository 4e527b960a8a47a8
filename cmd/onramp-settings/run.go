package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/onramp-os/onramp/internal/cli"
	"github.com/onramp-os/onramp/settings"
)

// DefaultData is where the installed system mounts ONRAMP-DATA.
const DefaultData = "/data"

// Run is the whole program: it returns the exit code.
func Run(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer, args []string) int {
	root := &cobra.Command{
		Use:   "onramp-settings",
		Short: "Keep the device's settings on ONRAMP-DATA (" + DefaultData + "/" + settings.Dir + ")",
	}
	root.AddCommand(saveCmd(stdout), loadCmd(stdout, stderr), listCmd(stdout))
	return cli.Execute(ctx, root, stdin, stdout, stderr, args)
}

func saveCmd(stdout io.Writer) *cobra.Command {
	var rootDir, data string
	cmd := &cobra.Command{
		Use:   "save [--root DIR] [--data DIR]",
		Short: "Save the settings of the running system (or --root) to DATA/settings, replacing the saved set in one step",
		Args:  cobra.NoArgs,
		RunE: cli.RunE(func(*cobra.Command, []string) error {
			rep, err := settings.Save(rootDir, data)
			if err != nil {
				return err
			}
			if rep.Unchanged {
				fmt.Fprintf(stdout, "%s/%s already holds the %d settings of %s\n", data, settings.Dir, rep.Files, rootDir)
				return nil
			}
			fmt.Fprintf(stdout, "saved %d settings from %s to %s/%s\n", rep.Files, rootDir, data, settings.Dir)
			return nil
		}),
	}
	cmd.Flags().StringVar(&rootDir, "root", "/", "the root to read the settings from")
	cmd.Flags().StringVar(&data, "data", DefaultData, "where ONRAMP-DATA is mounted")
	return cmd
}

func loadCmd(stdout, stderr io.Writer) *cobra.Command {
	var rootDir, data string
	cmd := &cobra.Command{
		Use:   "load --root DIR [--data DIR]",
		Short: "Lay the settings kept in DATA/settings back into a root (at boot: the new root before switching to it)",
		Args:  cobra.NoArgs,
		RunE: cli.RunE(func(*cobra.Command, []string) error {
			rep, err := settings.Load(data, rootDir)
			if err != nil {
				return err
			}
			if len(rep.Ignored) > 0 {
				fmt.Fprintf(stderr, "onramp-settings: not settings, left on DATA: %s\n", strings.Join(rep.Ignored, " "))
			}
			fmt.Fprintf(stdout, "laid back %d settings from %s/%s into %s\n", rep.Files, data, settings.Dir, rootDir)
			return nil
		}),
	}
	cmd.Flags().StringVar(&rootDir, "root", "", "the root to lay the settings into (required)")
	cmd.Flags().StringVar(&data, "data", DefaultData, "where ONRAMP-DATA is mounted")
	_ = cmd.MarkFlagRequired("root")
	return cmd
}

func listCmd(stdout io.Writer) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list [--json]",
		Short: "List what the device's settings are",
		Args:  cobra.NoArgs,
		RunE: cli.RunE(func(*cobra.Command, []string) error {
			kinds := map[settings.Kind]string{settings.Single: "file", settings.Tree: "tree", settings.Glob: "glob"}
			if asJSON {
				type entry struct {
					Path   string `json:"path"`
					Kind   string `json:"kind"`
					Writer string `json:"writer"`
				}
				out := make([]entry, 0, len(settings.Set))
				for _, e := range settings.Set {
					out = append(out, entry{e.Path, kinds[e.Kind], e.Writer})
				}
				return json.NewEncoder(stdout).Encode(out)
			}
			for _, e := range settings.Set {
				p := e.Path
				if e.Kind == settings.Tree {
					p += "/**"
				}
				fmt.Fprintf(stdout, "%-40s %s\n", p, e.Writer)
			}
			return nil
		}),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the list as JSON")
	return cmd
}
