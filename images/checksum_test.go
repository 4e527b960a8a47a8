package images

import (
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onramp-os/onramp/internal/exitcode"
)

func fxSum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestParseChecksumFile(t *testing.T) {
	a, b, c := fxSum([]byte("a")), fxSum([]byte("b")), fxSum([]byte("c"))
	in := strings.Join([]string{
		"-----BEGIN PGP SIGNED MESSAGE-----",
		"Hash: SHA256",
		"",
		"# Fedora-style comment",
		strings.ToUpper(a) + "  image-a.iso",
		b + " *./image b.img.xz",
		"SHA256 (image-c.raw.zst) = " + c,
		"SHA512 (image-c.raw.zst) = " + c + c,
		"\\" + a + "  back\\\\slash\\nname",
		"- " + b + "  dash-escaped.img\r",
		"",
		"-----BEGIN PGP SIGNATURE-----",
		"iQIzBAEBCAAdFiEE...",
		"-----END PGP SIGNATURE-----",
	}, "\n")
	got, err := ParseChecksumFile(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"image-a.iso": a, "image b.img.xz": b, "image-c.raw.zst": c, "back\\slash\nname": a, "dash-escaped.img": b}
	if len(got) != len(want) {
		t.Errorf("got %d entries %q, want %d", len(got), got, len(want))
	}
	for name, sum := range want {
		if got[name] != sum {
			t.Errorf("%q: got %q, want %q", name, got[name], sum)
		}
	}
	if got, err := ParseChecksumFile(strings.NewReader(a + "\n")); err != nil || got[""] != a {
		t.Errorf("bare sum: %q, %v", got, err)
	}
	for _, bad := range []string{
		a[:60] + "  short.img",
		"zz" + a[2:] + "  nothex.img",
		"SHA256 (x.img) " + a,
		"just some words",
		b + "  x.img\n" + a + "  x.img", // listed twice: line 3
	} {
		if _, err := ParseChecksumFile(strings.NewReader("\n" + bad)); err == nil || !strings.Contains(err.Error(), "line 2") && !strings.Contains(err.Error(), "line 3: \"x.img\" is listed again") {
			t.Errorf("ParseChecksumFile(%q) = %v, want an error naming the line", bad, err)
		}
	}
}

func TestExpectedChecksum(t *testing.T) {
	sum := fxSum([]byte("image"))
	other := fxSum([]byte("other"))
	cases := []struct {
		name  string
		files map[string]string
		want  string
		from  string
		err   string
	}{
		{"none", nil, "", "", ""},
		{"own-bare", map[string]string{"img.xz.sha256": strings.ToUpper(sum) + "\n"}, sum, "img.xz.sha256", ""},
		{"own-gnu", map[string]string{"img.xz.sha256": sum + " *img.xz\n"}, sum, "img.xz.sha256", ""},
		{"own-bsd", map[string]string{"img.xz.sha256": "SHA256 (img.xz) = " + sum}, sum, "img.xz.sha256", ""},
		{"own-first", map[string]string{"img.xz.sha256": sum, "SHA256SUMS": other + "  img.xz"}, sum, "img.xz.sha256", ""},
		// IMAGE.sha256 is meant for the image: one that does not vouch for
		// it is refused naming it (issue 22 D4), not silently skipped.
		{"own-other-name", map[string]string{"img.xz.sha256": other + "  img"}, "", "", `img.xz.sha256 does not list img.xz (it lists "img")`},
		{"own-empty", map[string]string{"img.xz.sha256": ""}, "", "", "img.xz.sha256 holds no SHA-256 sum for img.xz"},
		{"own-comments-only", map[string]string{"img.xz.sha256": "# nothing\n\n"}, "", "", "img.xz.sha256 holds no SHA-256 sum"},
		{"own-other-name-sums-lists", map[string]string{"img.xz.sha256": other + "  a.iso", "SHA256SUMS": sum + "  img.xz"}, "", "", "img.xz.sha256 does not list img.xz"},
		{"own-malformed", map[string]string{"img.xz.sha256": "\n\nnot a sum\n"}, "", "", "img.xz.sha256:3:"},
		{"sums-gnu", map[string]string{"SHA256SUMS": other + "  a.iso\n" + sum + "  ./img.xz\n"}, sum, "SHA256SUMS", ""},
		{"sums-bsd", map[string]string{"SHA256SUMS": "SHA256 (a.iso) = " + other + "\nSHA256 (img.xz) = " + sum}, sum, "SHA256SUMS", ""},
		{"sums-not-listed", map[string]string{"SHA256SUMS": other + "  a.iso\ngarbage line\n"}, "", "", ""},
		{"sums-listed-twice", map[string]string{"SHA256SUMS": sum + "  img.xz\n" + other + "  img.xz\n"}, "", "", "SHA256SUMS:2:"},
		{"own-long-line", map[string]string{"img.xz.sha256": strings.Repeat("x", 70<<10)}, "", "", "img.xz.sha256: line 1 is longer"},
		{"sums-malformed-entry", map[string]string{"SHA256SUMS": other + "  a.iso\n" + sum[:63] + "  img.xz\n"}, "", "", "SHA256SUMS:2:"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			img := fxWrite(t, filepath.Join(dir, "img.xz"), []byte("image"))
			for name, content := range c.files {
				fxWrite(t, filepath.Join(dir, name), []byte(content))
			}
			c0, err := ExpectedChecksum(img)
			if c.err != "" {
				if exitcode.Code(err) != 5 || !strings.Contains(err.Error(), filepath.Join(dir, c.err)) {
					t.Fatalf("ExpectedChecksum = %v, want an image-invalid error naming %s", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (c0 != nil) != (c.want != "") || c0 != nil && (c0.Sum != c.want || c0.From != filepath.Join(dir, c.from)) {
				t.Errorf("ExpectedChecksum = %+v; want %q from %s", c0, c.want, c.from)
			}
		})
	}
}

func FuzzParseChecksumFile(f *testing.F) {
	sum := fxSum(nil)
	f.Add(sum + "  a.img\n")
	f.Add("SHA256 (a b) = " + sum + "\r\n")
	f.Add("-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n\\" + sum + " *x\\\\y\n-----BEGIN PGP SIGNATURE-----\n")
	f.Fuzz(func(t *testing.T, in string) {
		sums, err := ParseChecksumFile(strings.NewReader(in))
		if err != nil {
			return
		}
		for name, s := range sums {
			if len(s) != 64 || strings.ToLower(s) != s || !isHex(s) {
				t.Fatalf("%q: bad sum %q", name, s)
			}
		}
	})
}
