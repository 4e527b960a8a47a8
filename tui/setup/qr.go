package setup

import (
	"strings"

	"rsc.io/qr"
)

// qrText draws a QR code of s with half blocks (two modules per line) and
// a quiet zone of one module, or "" when it needs more than rows lines.
// The Linux console's fonts have the half blocks (they are in CP437).
func qrText(s string, rows int) string {
	if s == "" {
		return ""
	}
	code, err := qr.Encode(s, qr.L)
	if err != nil {
		return ""
	}
	n := code.Size + 2
	if (n+1)/2 > rows {
		return ""
	}
	dark := func(x, y int) bool {
		return x > 0 && y > 0 && x <= code.Size && y <= code.Size && code.Black(x-1, y-1)
	}
	var b strings.Builder
	for y := 0; y < n; y += 2 {
		for x := 0; x < n; x++ {
			// Light modules are drawn as blocks: the code reads as dark on
			// light on a dark terminal.
			top, bottom := !dark(x, y), !dark(x, y+1) && y+1 < n
			switch {
			case top && bottom:
				b.WriteString("█")
			case top:
				b.WriteString("▀")
			case bottom:
				b.WriteString("▄")
			default:
				b.WriteString(" ")
			}
		}
		b.WriteString("\n")
	}
	return strings.TrimRight(b.String(), "\n")
}
