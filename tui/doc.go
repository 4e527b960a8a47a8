// Package tui holds every Bubble Tea model of Onramp: the shared theme and
// widgets, the osc screens ("Create USB installation medium") and, later,
// the setup assistant.
//
// Models never touch the system in Init, Update or View: listing drives,
// reading images and writing sticks happen in tea.Cmds (or goroutines a Cmd
// started) that answer with typed messages, through functions a caller can
// replace, so tests and the demo run the same screens on fakes or files. It
// is not a place for logic about images or drives: that lives in the images
// and blockdev packages.
package tui
