// Package i18n holds the setup assistant's message catalogs, one YAML file
// per display language (catalogs/<code>.yaml: flat key → text), and looks
// texts up. English is complete by definition; a test fails when another
// catalog misses a key or has one English lacks, or when a translation's
// format verbs differ from English's. It knows nothing about screens.
package i18n

import (
	"embed"
	"fmt"
	"sort"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

//go:embed catalogs/*.yaml
var files embed.FS

// Catalog is the texts of one language.
type Catalog struct {
	Lang     string
	texts    map[string]string
	fallback *Catalog
}

var (
	mu    sync.Mutex
	cache = map[string]*Catalog{}
)

// Codes lists the languages with a catalog.
func Codes() []string {
	ents, _ := files.ReadDir("catalogs")
	var out []string
	for _, e := range ents {
		out = append(out, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	sort.Strings(out)
	return out
}

// Load parses the catalog of a language.
func Load(code string) (map[string]string, error) {
	data, err := files.ReadFile("catalogs/" + code + ".yaml")
	if err != nil {
		return nil, fmt.Errorf("no catalog for %q", code)
	}
	m := map[string]string{}
	if err := yaml.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("catalog %s: %w", code, err)
	}
	return m, nil
}

// For returns the catalog of a language, English for an unknown one. Texts
// a catalog lacks come from English (the completeness test keeps that from
// happening in a release).
func For(code string) *Catalog {
	mu.Lock()
	defer mu.Unlock()
	return forLocked(code)
}

func forLocked(code string) *Catalog {
	if c, ok := cache[code]; ok {
		return c
	}
	m, err := Load(code)
	if err != nil {
		if code == "en" {
			panic(err) // the English catalog is embedded; it cannot be missing
		}
		c := forLocked("en")
		cache[code] = c
		return c
	}
	c := &Catalog{Lang: code, texts: m}
	if code != "en" {
		c.fallback = forLocked("en")
	}
	cache[code] = c
	return c
}

// T is the text for key, formatted with args like fmt.Sprintf. An unknown
// key shows itself, so a mistake is visible rather than blank.
func (c *Catalog) T(key string, args ...any) string {
	s, ok := c.texts[key]
	if !ok && c.fallback != nil {
		s, ok = c.fallback.texts[key]
	}
	if !ok {
		return key
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// Has reports whether key exists in the catalog itself.
func (c *Catalog) Has(key string) bool {
	_, ok := c.texts[key]
	return ok
}
