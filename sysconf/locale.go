package sysconf

import (
	"fmt"
	"strings"
)

// Language is a display language: its UI catalog code, the system locale it
// sets, its name in itself, and the keyboard preselected for it.
type Language struct {
	Code    string // "de": the UI catalog
	Locale  string // "de_DE": LANG without the encoding
	Native  string // "Deutsch"
	English string // "German"
	Layout  string // xkb layout preselected for it
	Variant string
}

// Languages are the display languages, in the order the list shows them.
var Languages = []Language{
	{Code: "en", Locale: "en_US", Native: "English", English: "English", Layout: "us"},
	{Code: "de", Locale: "de_DE", Native: "Deutsch", English: "German", Layout: "de"},
	{Code: "fr", Locale: "fr_FR", Native: "Français", English: "French", Layout: "fr"},
	{Code: "es", Locale: "es_ES", Native: "Español", English: "Spanish", Layout: "es"},
	{Code: "it", Locale: "it_IT", Native: "Italiano", English: "Italian", Layout: "it"},
	{Code: "nl", Locale: "nl_NL", Native: "Nederlands", English: "Dutch", Layout: "us", Variant: "altgr-intl"},
	{Code: "pl", Locale: "pl_PL", Native: "Polski", English: "Polish", Layout: "pl"},
	{Code: "pt", Locale: "pt_PT", Native: "Português", English: "Portuguese", Layout: "pt"},
}

// LanguageFor finds a language by locale ("de_DE", "de_DE.UTF-8") or by
// catalog code ("de").
func LanguageFor(s string) (Language, bool) {
	s, _, _ = strings.Cut(s, ".")
	for _, l := range Languages {
		if strings.EqualFold(s, l.Locale) || strings.EqualFold(s, l.Code) {
			return l, true
		}
	}
	return Language{}, false
}

// WriteLocale writes /etc/locale.conf for the language (UTF-8).
func (r Root) WriteLocale(l Language) error {
	if l.Locale == "" {
		return fmt.Errorf("no locale for language %q", l.Code)
	}
	return r.write("/etc/locale.conf", []byte("LANG="+l.Locale+".UTF-8\n"), 0o644)
}
