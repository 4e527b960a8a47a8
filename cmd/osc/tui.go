package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/onramp-os/onramp/demo/oscdemo"
	"github.com/onramp-os/onramp/internal/cli"
	"github.com/onramp-os/onramp/internal/exitcode"
	"github.com/onramp-os/onramp/support"
	osctui "github.com/onramp-os/onramp/tui/osc"
	"github.com/onramp-os/onramp/tui/widget"
)

// tuiOptions are the root command's flags for the interactive tool.
type tuiOptions struct {
	demo    bool
	dir     string
	demoDir string // where --demo puts its files; "" = a new temporary folder
	source  string // what "Install base system" installs; "" = the payload beside osc
}

// procCmdline is the kernel command line; osc.mode=install on it (the live
// installer) opens the installer directly, and only there does Reboot reboot.
var procCmdline = "/proc/cmdline"

// liveInstaller reports whether the kernel command line asks for the installer.
func liveInstaller() bool {
	b, err := os.ReadFile(procCmdline)
	if err != nil {
		return false
	}
	return slices.Contains(strings.Fields(string(b)), "osc.mode=install")
}

// installSource is the --source value, else the onramp/ payload beside the
// osc binary (on the installer medium), else "" (the install page then
// says the payload cannot be opened).
func installSource(flag string) string {
	if flag != "" {
		return flag
	}
	exe, err := os.Executable()
	if err != nil {
		return ""
	}
	for _, dir := range []string{filepath.Dir(exe), filepath.Dir(filepath.Dir(exe))} {
		if fi, err := os.Stat(filepath.Join(dir, "onramp")); err == nil && fi.IsDir() {
			return filepath.Join(dir, "onramp")
		}
	}
	return ""
}

// runTUI opens "Create USB installation medium" on the terminal, or, with
// demo, on a generated sample image and file-backed sticks.
func runTUI(ctx context.Context, s streams, o tuiOptions) (err error) {
	if !o.demo && !(cli.IsTerminal(s.in) && cli.IsTerminal(s.out)) {
		return exitcode.New(exitcode.Usage, "osc needs a terminal for the interactive tool; see 'osc --help' for the commands")
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cfg := osctui.Config{Context: ctx, Dir: o.dir, Theme: widget.DetectTheme(s.out, os.Getenv("TERM"))}
	if o.demo {
		files, err := prepareDemo(o.demoDir)
		if err != nil {
			return err
		}
		defer fmt.Fprintf(s.err, "osc --demo: the sample image and the demo sticks are in %s\n", files.Dir)
		cfg.Images = []string{files.Image}
		for _, st := range files.Sticks {
			cfg.Sticks = append(cfg.Sticks, osctui.Stick{Path: st.Path, Name: st.Name, Size: st.Size})
		}
		cfg.SaveSupport = func(ctx context.Context, exclude []string) (support.Saved, error) {
			return support.ToDir(ctx, files.Dir, support.Options{Tool: "osc", Version: cli.Version(), Exclude: exclude})
		}
	} else {
		if installsHere {
			live := liveInstaller()
			cfg.Install = &osctui.InstallConfig{Source: installSource(o.source), Live: live}
			cfg.InstallOnly = live
		}
		cfg.SaveSupport = func(ctx context.Context, exclude []string) (support.Saved, error) {
			return support.ToStick(ctx, support.Options{Tool: "osc", Version: cli.Version(), Exclude: exclude})
		}
	}

	m := osctui.New(cfg)
	p := tea.NewProgram(m, tea.WithContext(ctx), tea.WithInput(s.in), tea.WithOutput(s.out), tea.WithAltScreen())
	_, runErr := p.Run()
	cancel() // a write still running (the program was killed) stops now
	if err := m.Wait(); err != nil {
		return err
	}
	switch {
	case runErr == nil:
		return nil
	case errors.Is(runErr, tea.ErrProgramPanic):
		return exitcode.Wrap(exitcode.Failure, runErr)
	case errors.Is(runErr, tea.ErrProgramKilled), errors.Is(runErr, tea.ErrInterrupted):
		return exitcode.New(exitcode.Aborted, "interrupted")
	}
	return exitcode.Wrap(exitcode.Failure, runErr)
}

func prepareDemo(dir string) (oscdemo.OSC, error) {
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "osc-demo-"); err != nil {
			return oscdemo.OSC{}, exitcode.Wrap(exitcode.Failure, err)
		}
	}
	d, err := oscdemo.PrepareOSC(dir)
	if err != nil {
		return d, exitcode.New(exitcode.Failure, "prepare the demo in %s: %w", dir, err)
	}
	return d, nil
}
