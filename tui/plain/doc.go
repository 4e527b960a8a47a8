// Package plain is the setup assistant's accessible front end
// (--accessible, automatic with TERM=dumb): the first-boot flow of package
// firstboot as plain line-by-line prompts, with no cursor movement, colours
// or boxes, so a screen reader or a braille display follows it.
package plain
