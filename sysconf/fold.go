package sysconf

import (
	"strings"
	"unicode"

	xrunes "golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// Fold lowers s and strips its accents, for searching lists as users type.
func Fold(s string) string {
	t := transform.Chain(norm.NFD, xrunes.Remove(xrunes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, s)
	if err != nil {
		out = s
	}
	return strings.ToLower(out)
}
