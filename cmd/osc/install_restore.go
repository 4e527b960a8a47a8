package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/onramp-os/onramp/installer"
	"github.com/onramp-os/onramp/internal/cli"
)

type restoreFlags struct {
	backup, target, source string
	trustKeys              []string
	skipSig, json          bool
}

func newRestoreCmd(s streams) *cobra.Command {
	var f restoreFlags
	cmd := &cobra.Command{
		Use:   "restore --backup FILE --target DEV|FILE [--source ISO|DIR]",
		Short: "Put settings and licenses from an osc backup back onto an installed drive",
		Long: `Restore the settings and licenses of a backup written by osc install. On an installed
drive (layout 2) they replace the settings and licenses on its data partition. On a drive
whose installation failed, give --source too: the system is installed and the backup migrated.
The backup is checked against its SHA256SUMS first (exit 4 when damaged).`,
		Args: cobra.NoArgs,
		RunE: cli.RunE(func(cmd *cobra.Command, _ []string) error {
			return runRestore(cmd.Context(), s, f)
		}),
	}
	fl := cmd.Flags()
	fl.StringVar(&f.backup, "backup", "", "backup archive written by osc install")
	fl.StringVar(&f.target, "target", "", "target drive or image file")
	fl.StringVar(&f.source, "source", "", "installer ISO or payload directory (when the target holds no installation)")
	fl.StringArrayVar(&f.trustKeys, "trust-key", nil, "also trust payloads signed with this public key (PEM)")
	fl.BoolVar(&f.skipSig, "insecure-skip-signature", false, "tolerate a payload without signature (never a bad one)")
	fl.BoolVar(&f.json, "json", false, "print the result as JSON on stdout")
	_ = cmd.MarkFlagRequired("backup")
	_ = cmd.MarkFlagRequired("target")
	return cmd
}

func runRestore(ctx context.Context, s streams, f restoreFlags) error {
	rep := newReporter(s, f.json)
	b, err := installer.ReadBackup(ctx, f.backup)
	if err != nil {
		return rep.fatal(err)
	}
	opt := installer.Options{Progress: rep.progress,
		RestoreCommand: fmt.Sprintf("osc restore --backup %%s --target %s --source %s", f.target, f.source)}
	if f.source != "" {
		p, err := openVerifiedPayload(ctx, rep, f.source, f.trustKeys, f.skipSig)
		if err != nil {
			return rep.fatal(err)
		}
		defer p.Close()
		opt.Payload = p
	}
	t, err := installer.CheckTarget(f.target, f.source)
	if err != nil {
		return rep.fatal(err)
	}
	defer t.Close()
	res, err := installer.Restore(ctx, t, b, opt)
	if err != nil {
		return rep.fatal(err)
	}
	if f.json {
		return json.NewEncoder(s.out).Encode(struct {
			Event string `json:"event"`
			*installer.Result
		}{"done", res})
	}
	rep.say(fmt.Sprintf("OK %s: restored %d settings files and %d licenses from %s, verified.", f.target, res.MigratedSettings, res.MigratedLicenses, b.Path))
	return nil
}
