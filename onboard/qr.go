package onboard

import (
	"fmt"
	"strings"

	"rsc.io/qr"
)

// QRText renders text (the sign-in URL) as a QR code for a terminal, two
// modules per character cell with half blocks, which the Linux console
// font has. Light modules are drawn and dark ones left blank, so on the
// usual light-on-dark terminal the code reads as dark on light; a quiet
// zone of two modules surrounds it.
func QRText(text string) (string, error) {
	code, err := qr.Encode(text, qr.M)
	if err != nil {
		return "", fmt.Errorf("encode QR code: %w", err)
	}
	const quiet = 2
	n := code.Size + 2*quiet
	light := func(x, y int) bool { return !code.Black(x-quiet, y-quiet) }
	var b strings.Builder
	for y := 0; y < n; y += 2 {
		for x := 0; x < n; x++ {
			top, bottom := light(x, y), y+1 < n && light(x, y+1)
			switch {
			case top && bottom:
				b.WriteRune('█')
			case top:
				b.WriteRune('▀')
			case bottom:
				b.WriteRune('▄')
			default:
				b.WriteByte(' ')
			}
		}
		b.WriteByte('\n')
	}
	return b.String(), nil
}
