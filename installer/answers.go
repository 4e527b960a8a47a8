package installer

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/onramp-os/onramp/firstboot"
	"github.com/onramp-os/onramp/netcfg"
)

// An install answers file (docs/install-answers.md) makes `osc install`
// unattended: the live installer runs it from autoinstall.yaml on the
// medium. Its keys mirror osc install's flags.

// AutoTarget is the target value that picks the single eligible internal
// disk: target rules without any rule (TargetRules).
const AutoTarget = "auto"

// The values of after:.
const (
	AfterExit     = "exit"
	AfterPoweroff = "poweroff"
	AfterReboot   = "reboot"
)

// Answers is a parsed install answers file; Set names the keys given, so
// that a flag given on the command line can win over its key.
type Answers struct {
	Target, MigrateSettings, MigrateLicenses, Lang, BackupDir, After string
	AcceptEULA                                                       bool
	// TargetRules is target: given as rules (a mapping); Target is then "".
	TargetRules *TargetRules
	// FirstBoot is the setup assistant's answers as a YAML document of its
	// own, validated with the assistant's own validator; nil when absent.
	FirstBoot []byte
	Set       map[string]bool
}

// answerError names the field of an install answers file and its line.
func answerError(field string, n *yaml.Node, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if n != nil && n.Line > 0 {
		return fmt.Errorf("%s (line %d): %s", field, n.Line, msg)
	}
	return fmt.Errorf("%s: %s", field, msg)
}

// ParseAnswers reads an install answers file. live says whether osc
// runs in the live installer, the only place poweroff and reboot are
// allowed. The firstboot mapping is checked with the setup assistant's own
// parser and kept as a YAML document of its own.
func ParseAnswers(data []byte, live bool) (Answers, error) {
	a := Answers{Set: map[string]bool{}, After: AfterExit}
	root, err := firstboot.ParseDocument(data)
	if err != nil {
		var ae *firstboot.AnswerError
		if errors.As(err, &ae) {
			return a, answerError("(file)", &yaml.Node{Line: ae.Line}, "%s", ae.Msg)
		}
		return a, err
	}
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
		"target": func(field string, v *yaml.Node) (err error) {
			if v.Kind != yaml.MappingNode {
				return text(&a.Target)(field, v)
			}
			a.TargetRules, err = targetRules(field, v)
			return err
		},
		"migrate_settings": text(&a.MigrateSettings, string(Auto), string(Yes), string(No)),
		"migrate_licenses": text(&a.MigrateLicenses, string(Auto), string(Yes), string(No)),
		"lang":             text(&a.Lang),
		"backup_dir":       text(&a.BackupDir),
		"after": func(field string, v *yaml.Node) error {
			if err := text(&a.After, AfterPoweroff, AfterReboot, AfterExit)(field, v); err != nil {
				return err
			}
			if a.After != AfterExit && !live {
				return answerError(field, v, "%s is only possible in the live installer (osc.mode=install on the kernel command line); use exit", a.After)
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
			a.AcceptEULA = true
			return nil
		},
		"firstboot": func(field string, v *yaml.Node) (err error) {
			a.FirstBoot, err = firstBootAnswers(field, v)
			return err
		},
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		parse, ok := keys[k.Value]
		switch {
		case k.Kind != yaml.ScalarNode || !ok:
			return a, answerError(k.Value, k, "unknown key (known: %s)", strings.Join(slices.Sorted(maps.Keys(keys)), ", "))
		case a.Set[k.Value]:
			return a, answerError(k.Value, k, "given twice")
		}
		a.Set[k.Value] = true
		if err := parse(k.Value, v); err != nil {
			return a, err
		}
	}
	return a, nil
}

// targetRules reads target: given as rules, a mapping of rule keys to
// text (bus also to a list of buses). Errors name the rule as field.key
// and its line.
func targetRules(field string, v *yaml.Node) (*TargetRules, error) {
	r := &TargetRules{}
	lines := map[string]*yaml.Node{}
	for i := 0; i+1 < len(v.Content); i += 2 {
		k, val := v.Content[i], v.Content[i+1]
		name := field + "." + k.Value
		if lines[k.Value] != nil {
			return nil, answerError(name, k, "given twice")
		}
		lines[k.Value] = k
		values := []*yaml.Node{val}
		if val.Kind == yaml.SequenceNode && k.Value == "bus" && len(val.Content) > 0 {
			values = val.Content
		}
		for _, one := range values {
			if one.Kind != yaml.ScalarNode || one.Tag == "!!null" || one.Value == "" {
				return nil, answerError(name, one, "expected a text value")
			}
			if err := r.set(k.Value, one.Value); err != nil {
				return nil, answerError(name, one, "%v", err)
			}
		}
	}
	if key, err := r.check(); err != nil {
		if key == "" {
			return nil, answerError(field, v, "%v", err)
		}
		return nil, answerError(field+"."+key, lines[key], "%v", err)
	}
	return r, nil
}

// firstBootAnswers checks the setup assistant's answers under field with
// the assistant's own parser and validator (firstboot.ParseAnswers and
// CheckAnswersAhead: they are run unattended on the first boot, so they
// must be complete) and returns them as a document of their own. Its errors
// name the field and the line in this file; they never quote a value, so
// no secret is printed.
func firstBootAnswers(field string, v *yaml.Node) ([]byte, error) {
	if v.Kind != yaml.MappingNode {
		return nil, answerError(field, v, "expected a mapping: the setup assistant's answers (docs/answers.md)")
	}
	out, err := yaml.Marshal(v)
	if err != nil {
		return nil, answerError(field, v, "%v", err)
	}
	a, err := firstboot.ParseAnswers(out)
	if err == nil {
		err = firstboot.CheckAnswersAhead(a, netcfg.EmbeddedProviders())
	}
	if err != nil {
		var ae *firstboot.AnswerError
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
