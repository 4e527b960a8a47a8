package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/onramp-os/onramp/firstboot"
	"github.com/onramp-os/onramp/internal/cli"
	"github.com/onramp-os/onramp/internal/exitcode"
	"github.com/onramp-os/onramp/internal/inputfile"
	"github.com/onramp-os/onramp/internal/power"
	"github.com/onramp-os/onramp/sysconf"
	"github.com/onramp-os/onramp/tui/plain"
	"github.com/onramp-os/onramp/tui/setup"
	"github.com/onramp-os/onramp/tui/widget"
)

func run(ctx context.Context, s streams, o options) error {
	if o.nonInteractive && o.answers == "" {
		return exitcode.New(exitcode.Usage, "--non-interactive needs --answers FILE")
	}
	st, err := build(ctx, s, o)
	if err != nil {
		return err
	}
	defer st.Close()
	if st.demoDir != "" {
		defer fmt.Fprintf(s.err, "setup-assistant --demo: the files written are in %s\n", st.demoDir)
	}
	var answers firstboot.Answers
	if o.answers != "" {
		data, err := inputfile.Read(o.answers, firstboot.MaxAnswersSize)
		if err != nil {
			return exitcode.Wrap(exitcode.Usage, err)
		}
		if answers, err = firstboot.ParseAnswers(data); err != nil {
			return err
		}
		st.cfg.Prefill = answers
	}
	if st.root.Done() {
		if !o.force {
			fmt.Fprintf(s.out, "The setup was completed before (%s); --force runs it again.\n", st.root.Path(sysconf.DonePath))
			return nil
		}
		st.cfg.Fresh = true
	}
	switch {
	case o.nonInteractive:
		if err := st.missing(!answers.Network.Skip, !answers.Onboarding.Skip); err != nil {
			return err
		}
		out, err := firstboot.RunUnattended(st.cfg.Config, answers, s.out)
		if err != nil {
			return err
		}
		return finish(s, st, out)
	case o.accessible || os.Getenv("TERM") == "dumb":
		if err := st.missing(true, true); err != nil {
			return err
		}
		out, err := plain.Run(st.cfg.Config, s.in, s.out)
		if err != nil {
			return err
		}
		return finish(s, st, out)
	}
	if !cli.IsTerminal(s.in) || !cli.IsTerminal(s.out) {
		return exitcode.New(exitcode.Usage, "the interactive setup needs a terminal; use --accessible for plain prompts or --non-interactive with --answers")
	}
	if err := st.missing(true, true); err != nil {
		return err
	}
	st.cfg.Theme = widget.DetectTheme(s.out, os.Getenv("TERM"))
	m := setup.New(st.cfg)
	p := tea.NewProgram(m, tea.WithContext(ctx), tea.WithInput(s.in), tea.WithOutput(s.out),
		tea.WithAltScreen(), tea.WithMouseCellMotion())
	_, runErr := p.Run()
	out := m.Outcome()
	switch {
	case out.Err != nil:
		return exitcode.Wrap(exitcode.Failure, out.Err)
	case runErr == nil:
	case errors.Is(runErr, tea.ErrProgramKilled), errors.Is(runErr, tea.ErrInterrupted), errors.Is(runErr, context.Canceled):
		return exitcode.New(exitcode.Aborted, "interrupted; the next start resumes where this one stopped")
	default:
		return exitcode.Wrap(exitcode.Failure, runErr)
	}
	if !out.Finished {
		return exitcode.New(exitcode.Aborted, "stopped; the next start resumes where this one stopped")
	}
	return finish(s, st, out)
}

// finish reports the end and, on the running system, reboots when asked.
func finish(s streams, st *assistant, out firstboot.Outcome) error {
	if out.Onboarded != nil {
		fmt.Fprintf(s.out, "Onboarded to %s:%d as %s; the device is managed after the reboot.\n", out.Onboarded.Server, out.Onboarded.Port, out.Onboarded.UnitID)
	} else {
		fmt.Fprintln(s.out, "Not onboarded: the device starts with a Starter license, valid for 30 days.")
	}
	if out.Reboot && st.demoDir == "" && st.root.Dir == "/" && os.Geteuid() == 0 {
		if err := power.Do(power.Reboot); err != nil {
			return err
		}
	}
	return nil
}
