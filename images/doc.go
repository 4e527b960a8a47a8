// Package images reads installer images (raw and compressed), checks their
// checksums and signatures, and streams them onto targets with verification.
// It does not decide which drive is safe to write (blockdev) nor show
// anything (tui).
package images
