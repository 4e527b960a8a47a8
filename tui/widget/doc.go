// Package widget holds what both terminal programs draw with: the themes
// (16-colour ASCII for the Linux console, a modern one for terminal
// emulators), the screen frame with its step header and help line, buttons,
// progress bars and text helpers, and the request tags that keep a late
// answer off the wrong screen. It decides nothing about what a program
// writes: that is the domain packages' work.
package widget
