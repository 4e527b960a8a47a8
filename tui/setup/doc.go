// Package setup holds the setup assistant's Bubble Tea screens, a front end
// over package firstboot: one page per question, pages moving on messages,
// every effect (writing the root's files, connecting, onboarding) run in a
// tea.Cmd through firstboot, so the screens, the plain prompts and
// unattended runs write the same files the same way.
package setup
