package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/onramp-os/onramp/blockdev"
	"github.com/onramp-os/onramp/images"
	"github.com/onramp-os/onramp/installer"
	"github.com/onramp-os/onramp/internal/cli"
	"github.com/onramp-os/onramp/internal/exitcode"
	"github.com/onramp-os/onramp/license"
)

type installFlags struct {
	yes, acceptEULA, json, skipSig  bool
	source, target, lang, backupDir string
	settings, licenses              string
	trustKeys                       []string
	// Set by --answers (install_answers.go).
	answers, after string
	firstBoot      []byte
	rules          *installer.TargetRules // target: given as rules
}

func newInstallCmd(s streams) *cobra.Command {
	var f installFlags
	cmd := &cobra.Command{
		Use:   "install [--yes] [--accept-eula] --source ISO|DIR --target DEV|FILE|auto|RULES [--answers FILE]",
		Short: "Install the base system onto a drive, migrating settings and licenses",
		Long: `Install the payload of an installer ISO (its onramp/ folder) or a payload directory onto
the target drive or image file, in disk layout version 2. The payload's signature and every
file hash are checked first (exit 5). Settings and licenses of an earlier installation are
backed up outside the target (verified) before anything is written, and migrated unless
--migrate-settings / --migrate-licenses say no. --target auto picks the one internal disk;
--target bus=sata,min_size=16G picks the one disk these target rules match;
--answers FILE installs unattended (docs/install-answers.md).`,
		Args: cobra.NoArgs,
		RunE: cli.RunE(func(cmd *cobra.Command, _ []string) error {
			if err := applyInstallAnswers(s, cmd.Flags(), &f); err != nil {
				return newReporter(s, f.json).fatal(err)
			}
			if err := runInstall(cmd.Context(), s, f); err != nil {
				return err
			}
			return afterInstall(s, f)
		}),
	}
	fl := cmd.Flags()
	fl.BoolVarP(&f.yes, "yes", "y", false, "do not ask for confirmation")
	fl.BoolVar(&f.acceptEULA, "accept-eula", false, "accept the payload's end-user license agreement")
	fl.BoolVar(&f.json, "json", false, "print progress and the result as JSON lines on stdout")
	fl.StringVar(&f.source, "source", "", "installer ISO or payload directory")
	fl.StringVar(&f.target, "target", "", "target drive (/dev/sdX, /dev/nvme0n1), image file, auto, or target rules (bus=nvme,min_size=16G: docs/install-answers.md)")
	fl.StringVar(&f.settings, "migrate-settings", "auto", "migrate settings: auto, yes or no")
	fl.StringVar(&f.licenses, "migrate-licenses", "auto", "migrate licenses: auto, yes or no")
	fl.StringVar(&f.lang, "lang", "en", "language of the EULA shown")
	fl.StringVar(&f.backupDir, "backup-dir", "", "where the backup of settings and licenses goes (default: a writable partition of the installer medium: next to the payload, or on the stick the partition labelled "+installer.BackupLabel+" or another one past the ISO; else "+installer.DefaultBackupDir+")")
	fl.StringArrayVar(&f.trustKeys, "trust-key", nil, "also trust payloads signed with this public key (PEM); repeatable")
	fl.BoolVar(&f.skipSig, "insecure-skip-signature", false, "tolerate a payload without signature (never a bad one)")
	fl.StringVar(&f.answers, "answers", "", "unattended install from this YAML file (docs/install-answers.md); implies --yes; flags given override it")
	_ = cmd.MarkFlagRequired("source")
	return cmd
}

// openVerifiedPayload opens source and checks its signature and files.
func openVerifiedPayload(ctx context.Context, rep *reporter, source string, trustKeys []string, skipSig bool) (*images.Payload, error) {
	keys, err := images.LoadTrustedKeys(trustKeys...)
	if err != nil {
		return nil, err
	}
	p, err := images.OpenPayload(source)
	if err != nil {
		return nil, err
	}
	if err := p.Verify(ctx, images.VerifyOptions{Keys: keys, AllowUnsigned: skipSig, Progress: rep.checksumProgress(source)}); err != nil {
		p.Close()
		return nil, err
	}
	if p.SignedBy == "" {
		rep.warning("", fmt.Sprintf("payload %s is NOT signed; installing anyway (--insecure-skip-signature)", source))
	} else {
		rep.info(fmt.Sprintf("payload %s %s %s: signature by key %s and all %d files verified",
			p.Manifest.OSName, p.Manifest.Version, p.Manifest.Variant, p.SignedBy, len(p.Manifest.Files)))
	}
	return p, nil
}

func runInstall(ctx context.Context, s streams, f installFlags) error {
	rep := newReporter(s, f.json)
	settings, err := installer.ParseMode(f.settings)
	if err != nil {
		return rep.fatal(err)
	}
	licenses, err := installer.ParseMode(f.licenses)
	if err != nil {
		return rep.fatal(err)
	}
	// The target first: it is cheap to check, the payload costs a full read.
	t, err := installer.CheckTarget(f.target, f.source)
	if err != nil {
		return rep.fatal(err)
	}
	defer t.Close()
	p, err := openVerifiedPayload(ctx, rep, f.source, f.trustKeys, f.skipSig)
	if err != nil {
		return rep.fatal(err)
	}
	defer p.Close()
	opt := installer.Options{Payload: p, MigrateSettings: settings, MigrateLicenses: licenses, BackupDir: f.backupDir,
		FirstBoot: f.firstBoot, Progress: rep.progress, RestoreCommand: fmt.Sprintf("osc restore --backup %%s --target %s --source %s", f.target, f.source)}
	plan, err := installer.Prepare(t, opt)
	if err != nil {
		return rep.fatal(err)
	}
	if ex := plan.Existing; opt.BackupDir == "" && len(ex.Settings)+len(ex.Licenses) > 0 {
		// Only now: finding it may mount a partition of the installer stick.
		opt.BackupDir = installer.BackupDirFor(f.source)
	}
	if err := acceptEULA(s, f, p); err != nil {
		return rep.fatal(err)
	}
	if !f.yes {
		if err := confirmInstall(s, t, p, plan); err != nil {
			return rep.fatal(err)
		}
	}
	res, err := installer.Install(ctx, t, plan, opt)
	if err != nil {
		return rep.fatal(err)
	}
	// The migrated licenses with their state on this machine.
	var states []license.Status
	if res.MigratedLicenses > 0 {
		states = installer.LicenseStates(res.Existing)
	}
	if f.json {
		return json.NewEncoder(s.out).Encode(struct {
			Event string `json:"event"`
			*installer.Result
			LicenseStates []license.Status `json:"license_states,omitempty"`
		}{"done", res, states})
	}
	rep.say(fmt.Sprintf("OK %s: %s %s installed (layout %d), %s verified.", f.target, p.Manifest.OSName, p.Manifest.Version,
		installer.LayoutVersion, installer.LabelSysA))
	rep.say(fmt.Sprintf("Migrated %d settings files and %d licenses.", res.MigratedSettings, res.MigratedLicenses))
	for _, st := range states {
		rep.say(fmt.Sprintf("  license %s: %s", st.File, st.Summary()))
	}
	if res.FirstBootSkipped {
		rep.say("The first-boot answers were not used: the migrated settings are of a device that is set up, so it starts ready.")
	}
	if res.Backup != "" {
		rep.say("Backup of the previous settings and licenses: " + res.Backup)
	}
	if res.BackupInMemory {
		rep.warning(f.target, "the backup is kept in memory only and is lost when the device is switched off: copy it to a USB stick to keep it")
	}
	return nil
}

// acceptEULA shows the EULA and asks "I agree", unless --accept-eula.
func acceptEULA(s streams, f installFlags, p *images.Payload) error {
	if f.acceptEULA {
		return nil
	}
	if f.yes || f.json {
		return exitcode.New(exitcode.Usage, "unattended installs must accept the EULA with --accept-eula (read it with: osc image inspect --eula %s %s)", f.lang, f.source)
	}
	lang, text, err := p.EULAText(f.lang)
	if err != nil {
		return err
	}
	fmt.Fprintf(s.err, "End-user license agreement (%s):\n\n%s\n\n", lang, strings.TrimSpace(text))
	return ask(s, "I agree [y/N] ", "the EULA was not accepted; nothing written")
}

// confirmInstall shows the target (More Info) and the plan, default No.
func confirmInstall(s streams, t *installer.Target, p *images.Payload, plan *installer.Plan) error {
	name := t.Path
	if t.Drive != nil {
		name = t.Drive.Describe()
	}
	fmt.Fprintf(s.err, "Install %s %s onto %s.\nEVERYTHING on it will be replaced.\n", p.Manifest.OSName, p.Manifest.Version, name)
	ex := plan.Existing
	if ex.Layout > 0 {
		fmt.Fprintf(s.err, "Found: layout %d %s %s with %d settings files and %d licenses.\n", ex.Layout, ex.OSName, ex.OSVersion, ex.Settings.Count(), ex.Licenses.Count())
	}
	fmt.Fprintf(s.err, "Migrate settings: %s; migrate licenses: %s.\n", yesNo(plan.Settings), yesNo(plan.Licenses))
	return ask(s, "Continue? [y/N] ", "nothing written: not confirmed")
}

func ask(s streams, prompt, refusal string) error {
	fmt.Fprint(s.err, prompt)
	line, _ := bufio.NewReader(s.in).ReadString('\n')
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return nil
	}
	return exitcode.New(exitcode.Aborted, "%s", refusal)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// describeSize is HumanSize with the exact byte count for More Info.
func describeSize(n int64) string { return fmt.Sprintf("%s (%d bytes)", blockdev.HumanSize(n), n) }
