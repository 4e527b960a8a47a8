package images

import (
	"bytes"
	"testing"
)

func TestDetectFormat(t *testing.T) {
	iso := make([]byte, 512) // an ISO or MBR image often starts with zeros
	cases := []struct {
		name   string
		header []byte
		want   Format
	}{
		{"empty", nil, Raw},
		{"zeros", iso, Raw},
		{"mbr", append(bytes.Repeat([]byte{0xeb, 0x63, 0x90}, 10), 0x55, 0xaa), Raw},
		{"xz", []byte{0xfd, '7', 'z', 'X', 'Z', 0, 0, 4, 0xe6, 0xd6, 0xb4, 0x46}, Xz},
		{"xz-short", []byte{0xfd, '7', 'z', 'X', 'Z'}, Raw},
		{"gzip", []byte{0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 3}, Gzip},
		{"gzip-other-method", []byte{0x1f, 0x8b, 0x07, 0}, Raw},
		{"zstd", []byte{0x28, 0xb5, 0x2f, 0xfd, 0x24, 0x04}, Zstd},
		{"zstd-skippable-first", []byte{0x5e, 0x2a, 0x4d, 0x18, 4, 0, 0, 0}, Zstd},
		{"bzip2", []byte("BZh91AY&SY\x00\x00"), Bzip2},
		{"bzip2-empty-stream", []byte("BZh9\x17\x72\x45\x38\x50\x90\x00\x00\x00\x00"), Bzip2},
		{"bzip2-bad-level", []byte("BZh01AY&SY"), Raw},
		{"bzh-text", []byte("BZh9 is not a bzip2 file, just text"), Raw},
		{"bzh-short", []byte("BZh9"), Raw},
	}
	for _, c := range cases {
		if got := DetectFormat(c.header); got != c.want {
			t.Errorf("%s: DetectFormat = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestFormatString(t *testing.T) {
	want := map[Format]string{Raw: "raw", Gzip: "gzip", Xz: "xz", Zstd: "zstd", Bzip2: "bzip2", Format(99): "unknown"}
	for f, s := range want {
		if f.String() != s {
			t.Errorf("Format(%d).String() = %q, want %q", int(f), f.String(), s)
		}
	}
}

func FuzzDetectFormat(f *testing.F) {
	for _, seed := range [][]byte{nil, {0xfd, '7', 'z', 'X', 'Z', 0}, {0x1f, 0x8b, 8}, {0x28, 0xb5, 0x2f, 0xfd}, []byte("BZh91AY&SY")} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, header []byte) {
		got := DetectFormat(header)
		if got < Raw || got > Bzip2 {
			t.Fatalf("DetectFormat = %d", got)
		}
		// Only the first bytes count: more data never changes the answer
		// once the magic is whole.
		if len(header) >= 10 && DetectFormat(append(bytes.Clone(header), 1, 2, 3)) != got {
			t.Fatalf("appending bytes changed the format")
		}
	})
}
