package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"

	"github.com/onramp-os/onramp/firstboot"
	"github.com/onramp-os/onramp/installer"
	"github.com/onramp-os/onramp/internal/exitcode"
	"github.com/onramp-os/onramp/internal/inputfile"
)

// An install answers file (docs/install-answers.md) makes `osc install`
// unattended: the live installer runs it from autoinstall.yaml on the
// medium. Its keys mirror the flags; a flag given on the command line wins.

// afterPath is where `after: poweroff|reboot` is handed to the live
// installer's init, which prints its result marker and then powers off or
// reboots: osc never pulls the power from under the process that reports
// the result.
var afterPath = "/run/onramp/after"

// applyInstallAnswers reads --answers into f (for every flag not given
// explicitly), then resolves target auto and target rules to the one disk
// they pick. Bad files are usage errors naming the field and its line.
func applyInstallAnswers(s streams, fl *pflag.FlagSet, f *installFlags) error {
	if f.answers != "" {
		data, err := inputfile.Read(f.answers, firstboot.MaxAnswersSize)
		if err != nil {
			return exitcode.New(exitcode.Usage, "answers: %v", err)
		}
		a, err := installer.ParseAnswers(data, liveInstaller())
		if err != nil {
			return exitcode.Wrap(exitcode.Usage, fmt.Errorf("%s: %w", f.answers, err))
		}
		applyAnswers(a, fl, f)
		if !a.Set["accept_eula"] && !fl.Changed("accept-eula") {
			return exitcode.New(exitcode.Usage, "%s: accept_eula: required: the end-user license agreement must be accepted (read it with: osc image inspect --eula %s %s)",
				f.answers, f.lang, f.source)
		}
	}
	if f.rules == nil {
		r, ok, err := installer.ParseTargetFlag(f.target)
		if err != nil {
			return err
		}
		if ok {
			f.rules = r
		}
	}
	switch {
	case f.rules != nil:
		d, err := installer.ChooseTarget(*f.rules, f.source)
		if err != nil {
			return err
		}
		f.target = d.Path
		newReporter(s, f.json).info(fmt.Sprintf("target %s: %s", f.rules, installer.DescribeFacts(d)))
	case f.target == "":
		return exitcode.New(exitcode.Usage, "--target is required (or target: in the --answers file)")
	}
	return nil
}

// applyAnswers copies the answers into f where the flag was not given. The file
// implies --yes; it must accept the EULA unless --accept-eula does.
func applyAnswers(a installer.Answers, fl *pflag.FlagSet, f *installFlags) {
	f.yes = true
	for _, v := range []struct {
		key      string
		dst      *string
		answered string
	}{{"target", &f.target, a.Target}, {"migrate_settings", &f.settings, a.MigrateSettings},
		{"migrate_licenses", &f.licenses, a.MigrateLicenses}, {"lang", &f.lang, a.Lang}, {"backup_dir", &f.backupDir, a.BackupDir}} {
		if a.Set[v.key] && !fl.Changed(strings.ReplaceAll(v.key, "_", "-")) {
			*v.dst = v.answered
		}
	}
	if !fl.Changed("target") {
		f.rules = a.TargetRules
	}
	if !fl.Changed("accept-eula") {
		f.acceptEULA = a.AcceptEULA
	}
	f.after, f.firstBoot = a.After, a.FirstBoot
}

// afterInstall hands after: poweroff|reboot to the live installer's init.
func afterInstall(s streams, f installFlags) error {
	if f.after == "" || f.after == installer.AfterExit {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(afterPath), 0o755); err != nil {
		return fmt.Errorf("after: %w", err)
	}
	if err := os.WriteFile(afterPath, []byte(f.after+"\n"), 0o644); err != nil {
		return fmt.Errorf("after: %w", err)
	}
	newReporter(s, f.json).info(fmt.Sprintf("after the install: %s (by the live installer)", f.after))
	// Nobody reads the backup on the stick before the machine goes down:
	// leave its file system clean.
	installer.UnmountMedium()
	return nil
}
