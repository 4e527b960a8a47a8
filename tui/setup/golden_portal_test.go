package setup

import (
	"io"
	"testing"

	"github.com/charmbracelet/bubbles/spinner"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"github.com/onramp-os/onramp/i18n"
	"github.com/onramp-os/onramp/tui/widget"
)

// TestPortalGolden is the captive-portal screen at 80x24 as the Linux
// console draws it (TERM=linux: the console theme; the QR code's half
// blocks ▀ ▄ █ are in the console font's CP437 glyphs, mapped from
// Unicode by the kernel's default table) and as a modern terminal does,
// after joining the demo's Guest network.
func TestPortalGolden(t *testing.T) {
	modern := func() widget.Theme {
		r := lipgloss.NewRenderer(io.Discard)
		r.SetColorProfile(termenv.Ascii)
		r.SetHasDarkBackground(true)
		return widget.ModernTheme(r)
	}
	for _, tc := range []struct {
		name, lang string
		theme      func() widget.Theme
	}{
		{"portal_linux_en", "en", widget.PlainTheme},
		{"portal_linux_de", "de", widget.PlainTheme},
		{"portal_modern_en", "en", modern},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, _ := demoSetup(t, map[string]string{"en": "", "de": "de_DE"}[tc.lang])
			cfg.Theme = tc.theme()
			cfg.Theme.Spinner = spinner.Spinner{Frames: cfg.Theme.Spinner.Frames[:1], FPS: cfg.Theme.Spinner.FPS}
			tr := i18n.For(tc.lang)
			tm := startSetup(t, cfg)
			waitText(t, tm, tr.T("list.search"))
			for _, st := range seq(toNetwork, downTo(2), []any{enter, lit("Guest"), right, enter}) {
				switch st := st.(type) {
				case wait:
					text := st.key
					if !st.raw {
						text = tr.T(st.key, st.args...)
					}
					waitText(t, tm, text)
				default:
					tm.Send(st)
				}
			}
			waitText(t, tm, tr.T("portal.again"))
			requireSetupGolden(t, tc.name, finalSetup(t, tm).View())
		})
	}
}
