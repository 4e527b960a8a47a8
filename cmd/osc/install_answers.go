package main

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"

	"github.com/onramp-os/onramp/blockdev"
	"github.com/onramp-os/onramp/installer"
	"github.com/onramp-os/onramp/internal/exitcode"
	"github.com/onramp-os/onramp/tui"
)

// An install answers file (docs/install-answers.md) makes `osc install`
// unattended: the live installer runs it from autoinstall.yaml on the
// medium. Its keys mirror the flags; a flag given on the command line wins.

// autoTarget is the target value that picks the single eligible internal disk.
const autoTarget = "auto"

// afterPath is where `after: poweroff|reboot` is handed to the live
// installer's init, which prints its result marker and then powers off or
// reboots: osc never pulls the power from under the process that reports
// the result.
var afterPath = "/run/onramp/after"

// The after values.
const (
	afterExit     = "exit"
	afterPoweroff = "poweroff"
	afterReboot   = "reboot"
)

// applyInstallAnswers reads --answers into f (for every flag not given
// explicitly), then resolves `--target auto`. Bad files are usage errors
// naming the field and its line.
func applyInstallAnswers(fl *pflag.FlagSet, f *installFlags) error {
	if f.answers != "" {
		data, err := os.ReadFile(f.answers)
		if err != nil {
			return exitcode.New(exitcode.Usage, "answers: %v", err)
		}
		a, err := parseInstallAnswers(data, liveInstaller())
		if err != nil {
			return exitcode.Wrap(exitcode.Usage, fmt.Errorf("%s: %w", f.answers, err))
		}
		a.applyTo(fl, f)
		if !a.set["accept_eula"] && !fl.Changed("accept-eula") {
			return exitcode.New(exitcode.Usage, "%s: accept_eula: required: the end-user license agreement must be accepted (read it with: osc image inspect --eula %s %s)",
				f.answers, f.lang, f.source)
		}
	}
	switch f.target {
	case "":
		return exitcode.New(exitcode.Usage, "--target is required (or target: in the --answers file)")
	case autoTarget:
		drives, err := blockdev.List()
		if err != nil {
			return fmt.Errorf("target auto: %w", err)
		}
		if f.target, err = pickInternalDisk(drives); err != nil {
			return err
		}
	}
	return nil
}

// installAnswers is a parsed answers file; set names the keys given.
type installAnswers struct {
	target, settings, licenses, lang, backupDir, after string
	acceptEULA                                         bool
	firstBoot                                          []byte
	set                                                map[string]bool
}

// applyTo copies the answers into f where the flag was not given. The file
// implies --yes; it must accept the EULA unless --accept-eula does.
func (a installAnswers) applyTo(fl *pflag.FlagSet, f *installFlags) {
	f.yes = true
	for _, v := range []struct {
		key      string
		dst      *string
		answered string
	}{{"target", &f.target, a.target}, {"migrate_settings", &f.settings, a.settings},
		{"migrate_licenses", &f.licenses, a.licenses}, {"lang", &f.lang, a.lang}, {"backup_dir", &f.backupDir, a.backupDir}} {
		if a.set[v.key] && !fl.Changed(strings.ReplaceAll(v.key, "_", "-")) {
			*v.dst = v.answered
		}
	}
	if !fl.Changed("accept-eula") {
		f.acceptEULA = a.acceptEULA
	}
	f.after, f.firstBoot = a.after, a.firstBoot
}

// answerError names the field of an install answers file and its line.
func answerError(field string, n *yaml.Node, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if n != nil && n.Line > 0 {
		return fmt.Errorf("%s (line %d): %s", field, n.Line, msg)
	}
	return fmt.Errorf("%s: %s", field, msg)
}

// parseInstallAnswers reads an install answers file. live says whether osc
// runs in the live installer, the only place poweroff and reboot are
// allowed. The firstboot mapping is checked with the setup assistant's own
// parser and kept as a YAML document of its own.
func parseInstallAnswers(data []byte, live bool) (installAnswers, error) {
	a := installAnswers{set: map[string]bool{}, after: afterExit}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return a, fmt.Errorf("not a YAML file: %s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if len(doc.Content) == 0 {
		return a, errors.New("the file is empty")
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return a, answerError("(file)", root, "expected a mapping of keys")
	}
	text := func(dst *string, allowed ...string) func(string, *yaml.Node) error {
		return func(field string, v *yaml.Node) error {
			if v.Kind != yaml.ScalarNode || v.Tag == "!!null" || v.Value == "" {
				return answerError(field, v, "expected a text value")
			}
			if len(allowed) > 0 && !slices.Contains(allowed, v.Value) {
				return answerError(field, v, "%q is not %s", v.Value, orList(allowed))
			}
			*dst = v.Value
			return nil
		}
	}
	keys := map[string]func(string, *yaml.Node) error{
		"target":           text(&a.target),
		"migrate_settings": text(&a.settings, string(installer.Auto), string(installer.Yes), string(installer.No)),
		"migrate_licenses": text(&a.licenses, string(installer.Auto), string(installer.Yes), string(installer.No)),
		"lang":             text(&a.lang),
		"backup_dir":       text(&a.backupDir),
		"after": func(field string, v *yaml.Node) error {
			if err := text(&a.after, afterPoweroff, afterReboot, afterExit)(field, v); err != nil {
				return err
			}
			if a.after != afterExit && !live {
				return answerError(field, v, "%s is only possible in the live installer (osc.mode=install on the kernel command line); use exit", a.after)
			}
			return nil
		},
		"accept_eula": func(field string, v *yaml.Node) error {
			b, err := strconv.ParseBool(v.Value)
			if v.Kind != yaml.ScalarNode || err != nil {
				return answerError(field, v, "expected true or false")
			}
			if !b {
				return answerError(field, v, "the end-user license agreement must be accepted: accept_eula: true")
			}
			a.acceptEULA = true
			return nil
		},
		"firstboot": func(field string, v *yaml.Node) (err error) {
			a.firstBoot, err = firstBootAnswers(field, v)
			return err
		},
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		parse, ok := keys[k.Value]
		switch {
		case k.Kind != yaml.ScalarNode || !ok:
			return a, answerError(k.Value, k, "unknown key (known: %s)", strings.Join(slices.Sorted(maps.Keys(keys)), ", "))
		case a.set[k.Value]:
			return a, answerError(k.Value, k, "given twice")
		}
		a.set[k.Value] = true
		if err := parse(k.Value, v); err != nil {
			return a, err
		}
	}
	return a, nil
}

// firstBootAnswers checks the setup assistant's answers under field with
// tui.ParseAnswers (the parser setup-assistant --answers uses) and returns
// them as a document of their own. Its errors name the field and the line
// in this file; they never quote a value, so no secret is printed.
func firstBootAnswers(field string, v *yaml.Node) ([]byte, error) {
	if v.Kind != yaml.MappingNode {
		return nil, answerError(field, v, "expected a mapping: the setup assistant's answers (docs/answers.md)")
	}
	out, err := yaml.Marshal(v)
	if err != nil {
		return nil, answerError(field, v, "%v", err)
	}
	if _, err := tui.ParseAnswers(out); err != nil {
		var ae *tui.AnswerError
		if !errors.As(err, &ae) {
			return nil, answerError(field, v, "%v", err)
		}
		// The lines ParseAnswers saw are those of out; walk both trees
		// (same shape) to find the node in this file.
		var again yaml.Node
		line := v.Line
		if yaml.Unmarshal(out, &again) == nil && len(again.Content) == 1 {
			if n := sameNode(v, again.Content[0], ae.Line); n != nil {
				line = n.Line
			}
		}
		name := field
		if ae.Field != "(file)" {
			name += "." + ae.Field
		}
		return nil, answerError(name, &yaml.Node{Line: line}, "%s", ae.Msg)
	}
	return out, nil
}

// sameNode returns the node of orig at the position of the first node of
// copy on line.
func sameNode(orig, copy *yaml.Node, line int) *yaml.Node {
	if copy.Line == line {
		return orig
	}
	for i := range min(len(orig.Content), len(copy.Content)) {
		if n := sameNode(orig.Content[i], copy.Content[i], line); n != nil {
			return n
		}
	}
	return nil
}

// afterInstall hands after: poweroff|reboot to the live installer's init.
func afterInstall(s streams, f installFlags) error {
	if f.after == "" || f.after == afterExit {
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

// pickInternalDisk is the target auto: the one disk that is not the system
// disk, not mounted (the installer medium is), not read-only, not removable
// or USB, and not a loop device. None or several are refused, listing what
// was seen.
func pickInternalDisk(drives []blockdev.Drive) (string, error) {
	var picked, seen []string
	for _, d := range drives {
		var why []string
		for _, c := range []struct {
			bad    bool
			reason string
		}{{d.System, "system disk"}, {d.Mounted, "mounted"}, {d.ReadOnly, "read-only"},
			{d.Removable, "removable"}, {d.USB, "USB"}, {d.Transport == "loop", "loop device"}, {d.Size == 0, "empty"}} {
			if c.bad {
				why = append(why, c.reason)
			}
		}
		if len(why) == 0 {
			picked = append(picked, d.Path)
			seen = append(seen, d.Describe())
		} else {
			seen = append(seen, fmt.Sprintf("%s (%s)", d.Describe(), strings.Join(why, ", ")))
		}
	}
	switch {
	case len(picked) == 1:
		return picked[0], nil
	case len(picked) == 0:
		return "", exitcode.New(exitcode.Refused, "target auto: no eligible internal disk (not the system disk, not mounted, "+
			"not read-only, not removable or USB); disks seen: %s", orNone(seen))
	}
	return "", exitcode.New(exitcode.Refused, "target auto: %d eligible internal disks, name one as target: %s",
		len(picked), strings.Join(seen, "; "))
}

func orNone(list []string) string {
	if len(list) == 0 {
		return "none"
	}
	return strings.Join(list, "; ")
}

// orList renders "a, b or c".
func orList(list []string) string {
	if len(list) == 1 {
		return list[0]
	}
	return strings.Join(list[:len(list)-1], ", ") + " or " + list[len(list)-1]
}
