package i18n

import (
	"regexp"
	"sort"
	"testing"
)

// verbs are the format verbs of a text, in order.
var verbRE = regexp.MustCompile(`%(\[\d+\])?[-+# 0]*\d*(\.\d+)?[a-zA-Z%]`)

func verbs(s string) []string {
	var out []string
	for _, v := range verbRE.FindAllString(s, -1) {
		if v != "%%" {
			out = append(out, v[len(v)-1:])
		}
	}
	sort.Strings(out) // %[2]s may reorder; the kinds must match
	return out
}

// TestCatalogsComplete fails when a catalog misses a key of English, has
// one English lacks, is empty somewhere, or uses other format verbs.
func TestCatalogsComplete(t *testing.T) {
	en, err := Load("en")
	if err != nil {
		t.Fatal(err)
	}
	codes := Codes()
	if len(codes) < 8 {
		t.Errorf("only %d catalogs: %v", len(codes), codes)
	}
	for _, code := range codes {
		c, err := Load(code)
		if err != nil {
			t.Errorf("%s: %v", code, err)
			continue
		}
		for k, v := range en {
			tv, ok := c[k]
			switch {
			case !ok:
				t.Errorf("%s: missing %q", code, k)
			case tv == "":
				t.Errorf("%s: %q is empty", code, k)
			case len(verbs(tv)) != len(verbs(v)) || (len(verbs(v)) > 0 && !equal(verbs(tv), verbs(v))):
				t.Errorf("%s: %q has verbs %v, English %v", code, k, verbs(tv), verbs(v))
			}
			_ = v
		}
		for k := range c {
			if _, ok := en[k]; !ok {
				t.Errorf("%s: %q is not an English key", code, k)
			}
		}
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestLookup(t *testing.T) {
	de := For("de")
	if de.T("btn.back") != "Zurück" || de.T("list.matches", 2, 5) != "2 von 5" {
		t.Errorf("%q %q", de.T("btn.back"), de.T("list.matches", 2, 5))
	}
	if For("xx").Lang != "en" || For("en").T("no.such.key") != "no.such.key" {
		t.Error("fallbacks")
	}
}
