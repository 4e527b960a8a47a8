package images

import (
	"bytes"
	"testing"
)

func TestISOLabel(t *testing.T) {
	iso := fxISO(64<<10, "OSC 1.2", 12)
	cases := []struct {
		name  string
		data  []byte
		label string
		ok    bool
	}{
		{"iso", iso, "OSC 1.2", true},
		{"empty-label", fxISO(40<<10, "", 13), "", true},
		{"short", iso[:isoPVDOffset+50], "", false},
		{"no-iso", fxImage(64<<10, 14), "", false},
		{"supplementary-first", append(append(bytes.Clone(iso[:isoPVDOffset]), 2), iso[isoPVDOffset+1:]...), "", false},
		{"binary-label", append(append(bytes.Clone(iso[:isoPVDOffset+40]), 1, 2, 3), iso[isoPVDOffset+43:]...), "", false},
	}
	for _, c := range cases {
		label, ok := ISOLabel(bytes.NewReader(c.data))
		if label != c.label || ok != c.ok {
			t.Errorf("%s: ISOLabel = %q, %v; want %q, %v", c.name, label, ok, c.label, c.ok)
		}
	}
}

func FuzzISOLabel(f *testing.F) {
	f.Add(fxISO(isoPVDOffset+2048, "LABEL", 15)[isoPVDOffset-16:])
	f.Add([]byte("CD001"))
	f.Fuzz(func(t *testing.T, pvd []byte) {
		// The fuzzed bytes are placed where the descriptor is.
		data := append(make([]byte, isoPVDOffset-16), pvd...)
		label, ok := ISOLabel(bytes.NewReader(data))
		if !ok && label != "" || len(label) > 32 {
			t.Fatalf("ISOLabel = %q, %v", label, ok)
		}
	})
}
