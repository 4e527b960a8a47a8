// Package firstboot is the setup assistant's first-boot flow without a
// screen: the steps, their order and skip rules, the answers schema and its
// one validator, the resume state, what each step applies under a root, and
// the unattended run. Front ends (the Bubble Tea screens in tui/setup, the
// plain prompts in tui/plain, --answers --non-interactive) drive it; it
// imports no terminal UI package. Validation problems are data: catalog keys
// of package i18n that each front end renders in the user's language.
package firstboot
