package installer

import (
	"fmt"
	"math/big"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/onramp-os/onramp/blockdev"
	"github.com/onramp-os/onramp/internal/exitcode"
)

// Target rules pick the install target of an unattended install by the
// facts the kernel gives about each disk (blockdev.Drive), the way
// Ubuntu's autoinstall storage match and kickstart's ignoredisk
// --only-use do: `target: auto` is the empty set of rules.

// Buses are the values of the bus rule: blockdev's transports.
var Buses = []string{"nvme", "sata", "mmc", "usb", "virtio", "scsi", "loop"}

// ruleKeys are the keys of a set of target rules, in the order they are
// shown.
var ruleKeys = []string{"bus", "min_size", "max_size", "serial", "wwid", "model", "removable"}

// TargetRules is a parsed set of target rules; every rule given must hold
// (AND). The zero value is `target: auto`.
type TargetRules struct {
	Bus                 []string // the disk's bus is one of these; none: any bus
	MinSize, MaxSize    int64    // bytes; 0: no bound
	Serial, WWID, Model string   // patterns (matchPattern); "": any
	Removable           *bool    // nil: removable and USB disks only where named (admit)
	shown               []string // the rules as given ("bus: sata"), for messages
}

// String shows the rules as given, "bus: sata, min_size: 16G"; auto for
// none.
func (r TargetRules) String() string {
	if len(r.shown) == 0 {
		return AutoTarget
	}
	return strings.Join(r.shown, ", ")
}

// maxRuleText bounds a rule's value: serials, WWIDs and models are short.
const maxRuleText = 256

// set parses one rule, key and its text value; bus may be set more than
// once (any of). Errors are messages without the key: the callers name
// the field as their syntax spells it.
func (r *TargetRules) set(key, value string) error {
	if len(value) > maxRuleText {
		return fmt.Errorf("longer than %d characters", maxRuleText)
	}
	switch key {
	case "bus":
		if !slices.Contains(Buses, value) {
			return fmt.Errorf("%q is not %s", value, orList(Buses))
		}
		if !slices.Contains(r.Bus, value) {
			r.Bus = append(r.Bus, value)
		}
	case "min_size", "max_size":
		n, err := ParseSize(value)
		if err != nil {
			return err
		}
		if key == "min_size" {
			r.MinSize = n
		} else {
			r.MaxSize = n
		}
	case "serial", "wwid", "model":
		if strings.TrimSpace(value) == "" {
			return fmt.Errorf("expected a text value")
		}
		*map[string]*string{"serial": &r.Serial, "wwid": &r.WWID, "model": &r.Model}[key] = value
	case "removable":
		b, err := strconv.ParseBool(value)
		if err != nil {
			return fmt.Errorf("expected true or false")
		}
		r.Removable = &b
	default:
		return fmt.Errorf("unknown rule (known: %s)", strings.Join(ruleKeys, ", "))
	}
	r.shown = append(r.shown, key+": "+value)
	return nil
}

// check is what holds between rules: it names the key at fault.
func (r TargetRules) check() (key string, err error) {
	if len(r.shown) == 0 {
		return "", fmt.Errorf("no rules: give at least one of %s, or target: auto", strings.Join(ruleKeys, ", "))
	}
	if r.MaxSize > 0 && r.MinSize > r.MaxSize {
		return "max_size", fmt.Errorf("%s is below min_size %s", blockdev.HumanSize(r.MaxSize), blockdev.HumanSize(r.MinSize))
	}
	return "", nil
}

// ParseTargetFlag reads the value of --target: auto, rules written
// key=value,key=value (bus=sata,min_size=16G; bus may repeat), or
// anything else, a path (ok false). A value is rules when it starts with
// a rule's key and "="; ./bus=x names a file.
func ParseTargetFlag(v string) (r *TargetRules, ok bool, err error) {
	if v == AutoTarget {
		return &TargetRules{}, true, nil
	}
	key, _, found := strings.Cut(v, "=")
	if !found || !slices.Contains(ruleKeys, key) {
		return nil, false, nil
	}
	r = &TargetRules{}
	for _, part := range strings.Split(v, ",") {
		key, value, found := strings.Cut(part, "=")
		if !found {
			return nil, true, exitcode.New(exitcode.Usage, "--target %s: %q is not key=value (keys: %s)", v, part, strings.Join(ruleKeys, ", "))
		}
		if err := r.set(key, value); err != nil {
			return nil, true, exitcode.New(exitcode.Usage, "--target: %s: %v", key, err)
		}
	}
	if key, err := r.check(); err != nil {
		return nil, true, exitcode.New(exitcode.Usage, "--target: %s: %v", key, err)
	}
	return r, true, nil
}

var sizeSyntax = regexp.MustCompile(`^([0-9]+(?:\.[0-9]+)?) ?([A-Za-z]*)$`)

// sizeUnits are the units of ParseSize, lower case: K, M, G, T, P and
// their KiB forms count powers of 1024 (as sgdisk, lsblk); KB, MB, GB, TB,
// PB count powers of 1000, as disks are labelled and osc prints sizes.
var sizeUnits = map[string]int64{"": 1, "b": 1,
	"k": 1 << 10, "kib": 1 << 10, "kb": 1e3,
	"m": 1 << 20, "mib": 1 << 20, "mb": 1e6,
	"g": 1 << 30, "gib": 1 << 30, "gb": 1e9,
	"t": 1 << 40, "tib": 1 << 40, "tb": 1e12,
	"p": 1 << 50, "pib": 1 << 50, "pb": 1e15,
}

// ParseSize reads a disk size: a number, optionally with a fraction,
// and a unit (sizeUnits; none: bytes), "16G", "500GB", "1.5T",
// "17179869184". It must be more than 0 and fit in int64 bytes; a
// fraction of a byte is dropped.
func ParseSize(s string) (int64, error) {
	if strings.HasPrefix(strings.TrimSpace(s), "-") {
		return 0, fmt.Errorf("%q is negative: a size is more than 0", s)
	}
	m := sizeSyntax.FindStringSubmatch(s)
	unit, known := int64(0), false
	if m != nil {
		unit, known = sizeUnits[strings.ToLower(m[2])]
	}
	if len(s) > 40 || !known {
		return 0, fmt.Errorf("%q is not a size: a number and a unit, K, M, G, T (powers of 1024) or KB, MB, GB, TB (powers of 1000), e.g. 16G or 500GB", s)
	}
	v, ok := new(big.Rat).SetString(m[1])
	if !ok {
		return 0, fmt.Errorf("%q is not a size", s)
	}
	v.Mul(v, new(big.Rat).SetInt64(unit))
	n := new(big.Int).Quo(v.Num(), v.Denom())
	switch {
	case !n.IsInt64():
		return 0, fmt.Errorf("%q is too large", s)
	case n.Sign() == 0:
		return 0, fmt.Errorf("%q is 0: a size is more than 0", s)
	}
	return n.Int64(), nil
}

// matchPattern reports whether value matches pattern: the whole value,
// without regard to case, runs of spaces counting as one, * for any run
// of characters and ? for one. Without * or ? that is an exact match.
func matchPattern(pattern, value string) bool {
	norm := func(s string) []rune { return []rune(strings.ToLower(strings.Join(strings.Fields(s), " "))) }
	p, v := norm(pattern), norm(value)
	// The usual backtracking to the last *: linear in practice, never
	// worse than len(p)*len(v).
	pi, vi, star, mark := 0, 0, -1, 0
	for vi < len(v) {
		switch {
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, vi
			pi++
		case pi < len(p) && (p[pi] == '?' || p[pi] == v[vi]):
			pi, vi = pi+1, vi+1
		case star >= 0:
			pi, mark = star+1, mark+1
			vi = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// judge says why d is not the target under r; nothing when it is. The
// installer medium, the system disk and disks mounted, read-only or
// without a medium never are; loop devices only with bus: loop;
// removable and USB disks only when named: removable: true, or bus: usb
// for disks on USB.
func (r TargetRules) judge(d blockdev.Drive, medium string) []string {
	var why []string
	not := func(bad bool, reason string) {
		if bad {
			why = append(why, reason)
		}
	}
	usbNamed := slices.Contains(r.Bus, "usb")
	removableNamed := r.Removable != nil && *r.Removable
	not(medium != "" && d.Name == medium, "installer medium")
	not(d.System, "system disk")
	not(d.Mounted, "mounted")
	not(d.ReadOnly, "read-only")
	not(d.Size == 0, "empty")
	not(d.Transport == "loop" && !slices.Contains(r.Bus, "loop"), "loop device")
	not(d.Removable && !removableNamed && (r.Removable != nil || !d.USB || !usbNamed), "removable")
	not(d.USB && !usbNamed && !removableNamed, "USB")
	not(!d.Removable && removableNamed, "not removable")
	if len(r.Bus) > 0 && !slices.Contains(r.Bus, d.Transport) {
		why = append(why, "bus "+orDash(d.Transport)+", not "+orList(r.Bus))
	}
	not(r.MinSize > 0 && d.Size < r.MinSize, "smaller than min_size")
	not(r.MaxSize > 0 && d.Size > r.MaxSize, "larger than max_size")
	for _, f := range []struct{ key, pattern, value string }{
		{"serial", r.Serial, d.Serial}, {"wwid", r.WWID, d.WWID}, {"model", r.Model, d.Model}} {
		not(f.pattern != "" && !matchPattern(f.pattern, f.value), f.key+" differs")
	}
	return why
}

// MatchTarget returns the one drive r picks; medium is the
// kernel name of the disk osc runs from ("" when none). None or several
// are Refused, listing the disks seen with their facts (and why each was
// left out) or the candidates.
func MatchTarget(drives []blockdev.Drive, r TargetRules, medium string) (blockdev.Drive, error) {
	var picked, seen []string
	var match blockdev.Drive
	hint := ""
	for _, d := range drives {
		why := r.judge(d, medium)
		if slices.Contains(why, "removable") || slices.Contains(why, "USB") {
			hint = " (removable and USB disks only when named: removable: true, bus: usb)"
		}
		if len(why) == 0 {
			match = d
			picked = append(picked, DescribeFacts(d))
			seen = append(seen, DescribeFacts(d))
			continue
		}
		seen = append(seen, DescribeFacts(d)+": "+strings.Join(why, ", "))
	}
	var none blockdev.Drive
	auto := len(r.shown) == 0
	switch {
	case len(picked) == 1:
		return match, nil
	case len(picked) == 0 && auto:
		return none, exitcode.New(exitcode.Refused, "target auto: no eligible internal disk (not the installer medium or the system disk, "+
			"not mounted, read-only, removable or USB); disks seen: %s", orNone(seen))
	case len(picked) == 0:
		return none, exitcode.New(exitcode.Refused, "target rules (%s): no disk matches%s; disks seen: %s", r, hint, orNone(seen))
	case auto:
		return none, exitcode.New(exitcode.Refused, "target auto: %d eligible internal disks, name one as target or give target rules: %s",
			len(picked), strings.Join(picked, "; "))
	}
	return none, exitcode.New(exitcode.Refused, "target rules (%s): %d disks match, add a rule (serial, wwid, size) to pick one: %s",
		r, len(picked), strings.Join(picked, "; "))
}

// ChooseTarget applies r to the disks of this machine, never choosing the
// disk holding source (the installer medium).
func ChooseTarget(r TargetRules, source string) (blockdev.Drive, error) {
	drives, err := blockdev.List()
	if err != nil {
		return blockdev.Drive{}, fmt.Errorf("target %s: %w", r, err)
	}
	medium, _ := diskOfPath(source)
	return MatchTarget(drives, r, medium)
}

// DescribeFacts shows what rules can match of d: "/dev/sda (sata,
// 500.1 GB, model "Samsung SSD 860", serial "S3Z1NB0K123456A", wwid "…")".
func DescribeFacts(d blockdev.Drive) string {
	facts := []string{orDash(d.Transport), blockdev.HumanSize(d.Size)}
	for _, f := range []struct{ key, value string }{{"model", d.Model}, {"serial", d.Serial}, {"wwid", d.WWID}} {
		if v := strings.Join(strings.Fields(f.value), " "); v != "" {
			facts = append(facts, f.key+" "+strconv.Quote(v))
		}
	}
	if d.Removable {
		facts = append(facts, "removable")
	}
	return fmt.Sprintf("%s (%s)", d.Path, strings.Join(facts, ", "))
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
