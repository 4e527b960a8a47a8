package onboard

import (
	"strings"
	"testing"
)

func TestFingerprintParts(t *testing.T) {
	f := FingerprintOf([]byte("certificate"))
	whole := f.String()
	parts := f.Parts()
	if strings.Join(parts[:], "") != whole || len(parts[2]) != 16 {
		t.Fatalf("parts %v of %s", parts, whole)
	}
	if parts[2] != whole[32:48] {
		t.Fatalf("part 3 %s is not hex characters 33-48 of %s", parts[2], whole)
	}
	if f.Part(0) != "" || f.Part(5) != "" {
		t.Fatal("parts outside 1-4")
	}
}

func TestParseToken(t *testing.T) {
	const want = "b46c0123456789ab"
	for _, in := range []string{
		"b46c0123456789ab", "B46C0123456789AB", "b4:6c:01:23:45:67:89:ab", " b46c 0123 4567 89ab ", "B4:6C:01:23:45:67:89:AB",
	} {
		got, err := ParseToken(in)
		if err != nil || got != want {
			t.Errorf("ParseToken(%q) = %q, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "b46c", "b46c0123456789ab0", "g46c0123456789ab", "b46c-0123-4567-89ab", "b46c0123456789a\u00e9"} {
		if got, err := ParseToken(in); err == nil {
			t.Errorf("ParseToken(%q) = %q, want an error", in, got)
		}
	}
	f := FingerprintOf([]byte("root"))
	tok, _ := ParseToken(strings.ToUpper(f.Part(3)))
	if !tok.Matches(f) {
		t.Fatal("token does not match its own fingerprint")
	}
	other, _ := ParseToken(f.Part(2))
	if other.Matches(f) {
		t.Fatal("part 2 matched as the token")
	}
}

func FuzzParseToken(f *testing.F) {
	for _, s := range []string{"b46c0123456789ab", "B4:6C:01:23:45:67:89:AB", " b46c 0123 4567 89ab", "", "::::", "zz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := ParseToken(s)
		if err != nil {
			return
		}
		if len(tok) != 16 || strings.Trim(string(tok), "0123456789abcdef") != "" {
			t.Fatalf("ParseToken(%q) = %q: not 16 lower-case hex", s, tok)
		}
		// Canonical forms parse to themselves, whatever their case.
		if again, err := ParseToken(strings.ToUpper(string(tok))); err != nil || again != tok {
			t.Fatalf("re-parse of %q: %q, %v", tok, again, err)
		}
	})
}
