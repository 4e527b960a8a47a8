package images

import (
	"bytes"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

func fxXz(t testing.TB, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := xz.NewWriter(&b)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// fxZstd encodes data as one frame; with streamed set, the frame has no
// content size.
func fxZstd(t testing.TB, data []byte, streamed bool) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := zstd.NewWriter(&b, zstd.WithEncoderConcurrency(1))
	if err != nil {
		t.Fatal(err)
	}
	if !streamed {
		return w.EncodeAll(data, nil)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestXzSize(t *testing.T) {
	a, b := fxImage(300<<10, 7), []byte("hello")
	xa, xb := fxXz(t, a), fxXz(t, b)
	pad := make([]byte, 12)
	cases := []struct {
		name string
		data []byte
		want int64
		err  string
	}{
		{"one", xa, int64(len(a)), ""},
		{"two-padded", bytes.Join([][]byte{xa, pad[:4], xb, pad}, nil), int64(len(a) + len(b)), ""},
		{"empty-content", fxXz(t, nil), 0, ""},
		// A cut right after a zero byte looks like odd padding: it is a
		// truncated file all the same (issue 22 D5).
		{"cut-after-zero", append(bytes.Clone(xa), 0, 0), 0, "the image is truncated"},
		{"only-padding", pad, 0, "only padding"},
		{"truncated", xa[:len(xa)-1], 0, "the image is truncated"},
		{"cut-in-front", xa[4:], 0, "lists more blocks"},
		{"header-damaged", append([]byte{0xfd, 0}, xa[2:]...), 0, "no stream header"},
		{"garbage-in-front", append([]byte{1, 2, 3, 4}, xa...), 0, "no stream ends at offset 4"},
	}
	for _, c := range cases {
		got, err := probeXzSize(bytes.NewReader(c.data), int64(len(c.data)))
		switch {
		case c.err == "" && (err != nil || got != c.want):
			t.Errorf("%s: probeXzSize = %d, %v; want %d", c.name, got, err, c.want)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%s: probeXzSize = %d, %v; want an error with %q", c.name, got, err, c.err)
		}
	}
}

func TestZstdSize(t *testing.T) {
	a, b := fxImage(700<<10, 8), bytes.Repeat([]byte("zstd "), 1000)
	za, zb, zs := fxZstd(t, a, false), fxZstd(t, b, false), fxZstd(t, a, true)
	skip := []byte{0x50, 0x2a, 0x4d, 0x18, 2, 0, 0, 0, 9, 9}
	// A frame header asking for a 256 MiB window.
	huge := []byte{0x28, 0xb5, 0x2f, 0xfd, 0x00, 18 << 3, 0x01, 0x00, 0x00}
	cases := []struct {
		name  string
		data  []byte
		want  int64
		exact bool
		err   string
	}{
		{"one", za, int64(len(a)), true, ""},
		{"frames-and-skippable", bytes.Join([][]byte{skip, za, skip, zb}, nil), int64(len(a) + len(b)), true, ""},
		{"streamed", zs, -1, false, ""},
		{"mixed", append(bytes.Clone(za), zs...), -1, false, ""},
		{"truncated", za[:len(za)-1], 0, false, "truncated"},
		{"frame-start-cut", append(bytes.Clone(za), 0x28, 0xb5), 0, false, "the image is truncated"},
		{"skippable-past-end", skip[:9], 0, false, "the image is truncated"},
		{"window-too-large", huge, 0, false, "window"},
		{"not-zstd", []byte("plain text here"), 0, false, "no frame"},
	}
	for _, c := range cases {
		got, exact, err := probeZstdSize(bytes.NewReader(c.data), int64(len(c.data)))
		switch {
		case c.err != "":
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: probeZstdSize = %d, %v, %v; want an error with %q", c.name, got, exact, err, c.err)
			}
		case err != nil || exact != c.exact:
			t.Errorf("%s: probeZstdSize = %d, %v, %v; want exact %v", c.name, got, exact, err, c.exact)
		case c.exact && got != c.want:
			t.Errorf("%s: size %d, want %d", c.name, got, c.want)
		case !c.exact && (got <= 0 || got > int64(len(a)+len(a))):
			t.Errorf("%s: lower bound %d is not in (0, %d]", c.name, got, len(a)*2)
		}
	}
}

func TestZstdLiteralsSize(t *testing.T) {
	cases := []struct {
		h    []byte
		want int64
	}{
		{nil, 0},
		{[]byte{0x00 | 10<<3}, 10},                // raw, 1-byte header
		{[]byte{0x01 | 0x4 | 0x30, 0x12}, 0x123},  // RLE, 2-byte header
		{[]byte{0x0c | 0x50, 0x34, 0x01}, 0x1345}, // raw, 3-byte header
		{[]byte{0x02 | 0x70, 0x0f, 0}, 0xf7},      // compressed, 1 stream
		{[]byte{0x02 | 0x08, 0xff, 0xff, 0xff}, 0x3ff0},
		{[]byte{0x03 | 0x0c, 0xff, 0xff, 0xff, 0xff}, zstdMaxBlock}, // capped
		{[]byte{0x02 | 0x0c, 0xff}, 0},                              // header cut short
	}
	for _, c := range cases {
		if got := zstdLiteralsSize(c.h); got != c.want {
			t.Errorf("zstdLiteralsSize(% x) = %#x, want %#x", c.h, got, c.want)
		}
	}
}

func FuzzXzSize(f *testing.F) {
	a := fxXz(f, []byte("some image data"))
	f.Add(a)
	f.Add(append(append(bytes.Clone(a), 0, 0, 0, 0), fxXz(f, nil)...))
	f.Add(fxXz(f, bytes.Repeat([]byte("block "), 3000)))
	f.Fuzz(func(t *testing.T, data []byte) {
		size, err := probeXzSize(bytes.NewReader(data), int64(len(data)))
		if err == nil && size < 0 {
			t.Fatalf("negative size %d", size)
		}
	})
}

func FuzzZstdSize(f *testing.F) {
	f.Add(fxZstd(f, []byte("some image data"), false))
	f.Add(fxZstd(f, bytes.Repeat([]byte("block "), 30000), true))
	f.Add([]byte{0x50, 0x2a, 0x4d, 0x18, 0, 0, 0, 0, 0x28, 0xb5, 0x2f, 0xfd, 0x20, 0x00, 0x01, 0x00, 0x00})
	f.Fuzz(func(t *testing.T, data []byte) {
		size, _, err := probeZstdSize(bytes.NewReader(data), int64(len(data)))
		if err == nil && size < 0 {
			t.Fatalf("negative size %d", size)
		}
	})
}
