package widget

import (
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// label pads a translated label to n cells.
func PadRight(s string, n int) string {
	return s + strings.Repeat(" ", max(n-ansi.StringWidth(s), 0))
}
