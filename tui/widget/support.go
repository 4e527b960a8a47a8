package widget

import (
	"context"
	"errors"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/onramp-os/onramp/support"
)

// SupportKey saves support information on an error screen: a function key,
// so it never lands in a text field the screen shows.
const SupportKey = "f9"

// SaveSupportFunc saves the support information (support.ToStick on a real
// device), never onto the drives in exclude (the stick a write failed on).
type SaveSupportFunc func(ctx context.Context, exclude []string) (support.Saved, error)

// SupportSavedMsg is the end of a save.
type SupportSavedMsg struct {
	tag   int64
	saved support.Saved
	err   error
}

// Support is the "Save support information" part of an error screen:
// whether a save runs, and how the last one ended.
type Support struct {
	tag   int64
	busy  bool
	ended *SupportSavedMsg
}

// Start saves in a Cmd; a second press while one runs does nothing.
func (s *Support) Start(ctx context.Context, save SaveSupportFunc, exclude ...string) tea.Cmd {
	if s.busy || save == nil {
		return nil
	}
	s.busy, s.ended, s.tag = true, nil, NextTag()
	tag := s.tag
	return func() tea.Msg {
		saved, err := save(ctx, exclude)
		return SupportSavedMsg{tag: tag, saved: saved, err: err}
	}
}

// Update records the end of the save it started.
func (s *Support) Update(msg SupportSavedMsg) {
	if msg.tag == s.tag {
		s.busy, s.ended = false, &msg
	}
}

// Reset forgets the last result (the screen it was for was left).
func (s *Support) Reset() { s.busy, s.ended, s.tag = false, nil, NextTag() }

// Help is the help line's entry; t is the screen's catalog lookup.
func (s *Support) Help(t func(string, ...any) string) KeyHelp {
	return KeyHelp{Key: "F9", Does: t("support.key")}
}

// View is the line under the error: saving, where it went, or why not;
// "" before the first press.
func (s *Support) View(th Theme, t func(string, ...any) string, w int) string {
	switch {
	case s.busy:
		return th.Muted.Render(Wrap(t("support.busy")+th.Ellipsis, w))
	case s.ended == nil:
		return ""
	case errors.Is(s.ended.err, support.ErrNoStick):
		return th.Warning.Render(Wrap(th.Warn+" "+t("support.nostick"), w))
	case s.ended.err != nil:
		return th.Error.Render(Wrap(th.Warn+" "+t("support.failed", s.ended.err), w))
	}
	where := s.ended.saved.Device
	if d := s.ended.saved.Drive; d != "" {
		where += " (" + d + ")"
	}
	text := t("support.saved", s.ended.saved.File, where)
	if s.ended.saved.MountPoint == "" {
		text += " " + t("support.remove")
	}
	return th.Success.Render(Wrap(text, w))
}
