package plain

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/onramp-os/onramp/firstboot"
	"github.com/onramp-os/onramp/i18n"
	"github.com/onramp-os/onramp/netcfg/proxy"
	"github.com/onramp-os/onramp/sysconf"
)

// Run runs the same steps as the screens as plain line-by-line
// prompts: no cursor movement, no colours, no boxes, one question per line,
// so a screen reader or a braille display (brltty) follows it. It saves the
// progress after each step and resumes like the screens.
func Run(cfg firstboot.Config, in io.Reader, out io.Writer) (firstboot.Outcome, error) {
	cfg.Defaults()
	a := &prompter{cfg: &cfg, in: readLines(in), echo: echoControl(in), out: out, tr: i18n.For("en")}
	return a.run()
}

// line is one line of input, or the error that ended the input.
type line struct {
	text string
	err  error
}

// readLines reads in line by line in the background, so that a prompt
// waiting for the user still ends when the context does (Ctrl+C, SIGTERM,
// SIGHUP): a read from a terminal cannot be interrupted otherwise.
func readLines(in io.Reader) <-chan line {
	ch := make(chan line)
	go func() {
		defer close(ch)
		sc := bufio.NewScanner(in)
		for sc.Scan() {
			ch <- line{text: sc.Text()}
		}
		err := sc.Err()
		if err == nil {
			err = errInputEnded
		}
		ch <- line{err: err}
	}()
	return ch
}

// errInputEnded is the end of the input before the setup was done.
var errInputEnded = errors.New("the input ended before the setup was done; the next start resumes")

type prompter struct {
	cfg     *firstboot.Config
	in      <-chan line
	echo    func(on bool) // nil when the input is not a terminal
	out     io.Writer
	tr      *i18n.Catalog
	c       firstboot.Choice
	layouts []sysconf.Layout
	zones   []sysconf.Zone
	outcome firstboot.Outcome
	proxy   *proxy.Config // saved in this run, nil when none was
}

func (a *prompter) t(key string, args ...any) string { return a.tr.T(key, args...) }

func (a *prompter) say(format string, args ...any) { fmt.Fprintf(a.out, format+"\n", args...) }

// ask prints a prompt and reads a line; def is taken for an empty line.
func (a *prompter) ask(prompt, def string) (string, error) { return a.askShown(prompt, def, def) }

// askShown is ask with the default shown as shown: a secret's default is
// named, never printed.
func (a *prompter) askShown(prompt, def, shown string) (string, error) {
	if def != "" {
		fmt.Fprintf(a.out, "%s [%s]: ", prompt, shown)
	} else {
		fmt.Fprintf(a.out, "%s: ", prompt)
	}
	var l line
	ok := true
	select {
	case <-a.cfg.Context.Done():
		fmt.Fprintln(a.out)
		return "", a.cfg.Context.Err()
	case l, ok = <-a.in:
	}
	if !ok {
		return "", errInputEnded
	}
	if l.err != nil {
		return "", l.err
	}
	v := strings.TrimSpace(l.text)
	if v == "" {
		v = def
	}
	return v, nil
}

// askValid asks until check (returning a catalog key) accepts the answer.
func (a *prompter) askValid(prompt, def string, check func(string) string) (string, error) {
	return a.askChecked(prompt, def, def, check)
}

// askSecret is askValid for a key, PIN or one-time password: what is typed
// is not echoed on a terminal, and a default from the answers file is taken
// for an empty line but not shown.
func (a *prompter) askSecret(prompt, def string, check func(string) string) (string, error) {
	if a.echo != nil {
		a.echo(false)
		defer a.echo(true)
	}
	return a.askChecked(prompt, def, a.t("a11y.answered"), check)
}

func (a *prompter) askChecked(prompt, def, shown string, check func(string) string) (string, error) {
	for {
		v, err := a.askShown(prompt, def, shown)
		if err != nil {
			return "", err
		}
		if check == nil {
			return v, nil
		}
		k := check(v)
		if k == "" {
			return v, nil
		}
		a.say("%s", a.t("a11y.invalid", a.t(k)))
	}
}

// yes asks a yes/no question in the user's language.
func (a *prompter) yes(prompt string, def bool) (bool, error) {
	d := a.t("a11y.no")
	if def {
		d = a.t("a11y.yes")
	}
	for {
		v, err := a.ask(prompt+" ("+a.t("a11y.yes")+"/"+a.t("a11y.no")+")", d)
		if err != nil {
			return false, err
		}
		switch strings.ToLower(v) {
		case strings.ToLower(a.t("a11y.yes")), "y", "yes":
			return true, nil
		case strings.ToLower(a.t("a11y.no")), "n", "no":
			return false, nil
		}
	}
}

// choose lists numbered options and reads a number (or a default).
func (a *prompter) choose(heading string, options []string, def int) (int, error) {
	a.say("%s", heading)
	for i, o := range options {
		a.say("  %d. %s", i+1, o)
	}
	for {
		v, err := a.ask(a.t("a11y.number", len(options)), strconv.Itoa(def+1))
		if err != nil {
			return 0, err
		}
		if n, err := strconv.Atoi(v); err == nil && n >= 1 && n <= len(options) {
			return n - 1, nil
		}
	}
}

func (a *prompter) save(s firstboot.Step) error {
	a.c.Step = s
	return a.cfg.Sys.SaveState(a.c.State(a.cfg.Now()))
}

func (a *prompter) run() (firstboot.Outcome, error) {
	var err error
	if a.layouts, err = a.cfg.Sys.Layouts(); err != nil {
		return a.outcome, err
	}
	if a.zones, err = a.cfg.Sys.Zones(); err != nil {
		return a.outcome, err
	}
	start := firstboot.StepLanguage
	if st, ok, _ := a.cfg.Sys.LoadState(); ok && !a.cfg.Fresh {
		a.c.Restore(st)
		a.tr = i18n.For(a.c.Lang.Code)
		start = a.c.Step
	}
	a.say("%s", a.cfg.Sys.OSRelease().Title())
	steps := []func() error{a.language, a.license, a.network, a.timezone, a.onboarding}
	for s := start; s < firstboot.StepDone; s++ {
		a.say("")
		a.say("== %s ==", a.t(firstboot.StepKeys[s]))
		if err := steps[s](); err != nil {
			return a.outcome, err
		}
		if err := a.save(s + 1); err != nil {
			return a.outcome, err
		}
	}
	if err := firstboot.Finish(a.cfg, a.c); err != nil {
		return a.outcome, err
	}
	a.outcome.Finished = true
	return a.outcome, nil
}

func (a *prompter) language() error {
	var names []string
	def := 0
	for i, l := range sysconf.Languages {
		names = append(names, l.Native+" ("+l.English+")")
		if l.Code == a.cfg.Prefill.LanguageCode() {
			def = i
		}
	}
	i, err := a.choose(a.t("lang.heading"), names, def)
	if err != nil {
		return err
	}
	a.c.Lang = sysconf.Languages[i]
	a.tr = i18n.For(a.c.Lang.Code)
	a.c.Layout, a.c.Variant = a.c.Lang.Layout, a.c.Lang.Variant
	if k := a.cfg.Prefill.Keyboard; k.Layout != "" {
		a.c.Layout, a.c.Variant = k.Layout, k.Variant
	}
	a.say("%s", a.t("a11y.kbd.help"))
	layout, err := a.askValid(a.t("kbd.layout"), a.c.Layout, func(v string) string {
		if _, ok := sysconf.FindLayout(a.layouts, v); !ok {
			a.listMatches(v)
			return "kbd.err.layout"
		}
		return ""
	})
	if err != nil {
		return err
	}
	if layout != a.c.Layout {
		a.c.Variant = ""
	}
	a.c.Layout = layout
	lay, _ := sysconf.FindLayout(a.layouts, layout)
	variant, err := a.askValid(a.t("kbd.variant"), a.c.Variant, func(v string) string {
		if v == "-" {
			return ""
		}
		if _, ok := lay.Variant(v); !ok {
			for _, x := range lay.Variants {
				a.say("  %s: %s", x.Name, x.Description)
			}
			return "err.required"
		}
		return ""
	})
	if err != nil {
		return err
	}
	a.c.Variant = strings.TrimPrefix(variant, "-")
	kerr, err := firstboot.ApplyLanguage(a.cfg.Context, a.cfg, a.c.Lang, a.c.Layout, a.c.Variant)
	if kerr != nil {
		a.say("%s", a.t("warn.keymap", kerr))
	}
	return err
}

// listMatches lists the layouts whose name or description holds q.
func (a *prompter) listMatches(q string) {
	q = sysconf.Fold(q)
	n := 0
	for _, l := range a.layouts {
		if q != "" && (strings.Contains(sysconf.Fold(l.Description), q) || strings.Contains(l.Name, q)) && n < 20 {
			a.say("  %s: %s", l.Name, l.Description)
			n++
		}
	}
}

func (a *prompter) license() error {
	e, err := a.cfg.Sys.EULA(a.c.Lang.Code)
	if err != nil {
		return err
	}
	a.say("%s", a.t("eula.heading"))
	a.say("%s", strings.TrimRight(e.Text, "\n"))
	for {
		ok, err := a.yes(a.t("eula.accept"), false)
		if err != nil {
			return err
		}
		if ok {
			break
		}
		a.say("%s", a.t("eula.err.accept"))
	}
	a.c.EULA = e.SHA256()
	return firstboot.ApplyEULA(a.cfg, e)
}
