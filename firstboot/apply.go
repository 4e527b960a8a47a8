package firstboot

import (
	"context"
	"fmt"
	"time"

	"github.com/onramp-os/onramp/netcfg"
	"github.com/onramp-os/onramp/sysconf"
)

// The effects of each step, shared by the screens (inside Cmds), the
// accessible prompts and the unattended run, so all three write the same
// files the same way.

// ApplyLanguage writes locale.conf, vconsole.conf and the X11 keyboard file
// (err), then loads the console keymap. A keymap the console cannot load
// (keymapErr) is only a warning: the files are right for the installed OS,
// and a system without that console keymap must not block the setup.
func ApplyLanguage(ctx context.Context, cfg *Config, l sysconf.Language, layout, variant string) (keymapErr, err error) {
	if err := cfg.Sys.WriteLocale(l); err != nil {
		return nil, err
	}
	if err := cfg.Sys.WriteKeyboard(layout, variant); err != nil {
		return nil, err
	}
	return cfg.Keymaps.Load(ctx, sysconf.ConsoleKeymap(layout, variant)), nil
}

// ApplyEULA records the acceptance of the text.
func ApplyEULA(cfg *Config, e sysconf.EULA) error {
	return cfg.Sys.RecordEULA(e, cfg.Now())
}

// PersistNetwork keeps a working configuration for the installed OS.
func PersistNetwork(cfg *Config, iface string, wired *netcfg.WiredConfig, wlan *netcfg.WLANConfig, mobile *netcfg.MobileConfig) error {
	root := cfg.Sys.Path("/")
	switch {
	case mobile != nil:
		return netcfg.WriteModem(root, *mobile)
	case wlan != nil:
		return netcfg.WriteWLAN(root, iface, *wlan)
	case wired != nil:
		return netcfg.WriteWired(root, iface, *wired)
	}
	return nil
}

// ApplyTimezone links /etc/localtime, writes /etc/adjtime and, for a time
// the user set by hand, sets the clock (a no-op Clock off the real system).
func ApplyTimezone(cfg *Config, zone string, manual *time.Time) error {
	if err := cfg.Sys.WriteTimezone(zone); err != nil {
		return err
	}
	if err := cfg.Sys.WriteAdjtime(); err != nil {
		return err
	}
	if manual != nil {
		if err := cfg.Clock.Set(*manual); err != nil {
			return fmt.Errorf("set the clock: %w", err)
		}
	}
	return nil
}

// Finish writes setup.done and the final state.
func Finish(cfg *Config, c Choice) error {
	c.Step = StepDone
	if err := cfg.Sys.SaveState(c.State(cfg.Now())); err != nil {
		return err
	}
	return cfg.Sys.MarkDone(cfg.Now())
}
