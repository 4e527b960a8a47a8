// Package osc holds the OS Creator's Bubble Tea screens: "Create USB
// installation medium" (image, stick, confirm, write and verify) and the
// installer (language, migration, target, EULA, progress).
//
// Models never touch the system in Init, Update or View: listing drives,
// reading images and writing sticks happen in tea.Cmds (or goroutines a Cmd
// started) that answer with typed messages, through functions a caller can
// replace, so tests and the demo run the same screens on fakes or files. It
// is not a place for logic about images, drives or installs: that lives in
// the images, blockdev and installer packages.
package osc
