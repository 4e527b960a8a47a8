package host

import (
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"golang.org/x/text/language"
	"golang.org/x/text/language/display"

	"github.com/onramp-os/onramp/netcfg"
)

// DefaultProviderFile is Debian's mobile-broadband-provider-info database.
const DefaultProviderFile = "/usr/share/mobile-broadband-provider-info/serviceproviders.xml"

// Providers is the country → provider → APN database, read from
// ProviderFile on first use; an unreadable file gives an empty database
// (the user can still type an APN).
func (b *Backend) Providers() netcfg.ProviderDB {
	b.provOnce.Do(func() {
		db, err := LoadProviders(b.o.ProviderFile)
		if err != nil {
			db = netcfg.StaticProviders{}
		}
		b.prov = db
	})
	return b.prov
}

// The parts of serviceproviders.xml (format 2.0) that are used.
type xmlProviders struct {
	Countries []struct {
		Code      string `xml:"code,attr"`
		Providers []struct {
			Names []string `xml:"name"`
			GSM   struct {
				APNs []struct {
					Value    string `xml:"value,attr"`
					Name     string `xml:"name"`
					Username string `xml:"username"`
					Password string `xml:"password"`
					Usage    []struct {
						Type string `xml:"type,attr"`
					} `xml:"usage"`
				} `xml:"apn"`
			} `xml:"gsm"`
		} `xml:"provider"`
	} `xml:"country"`
}

// LoadProviders reads a mobile-broadband-provider-info file.
func LoadProviders(path string) (netcfg.StaticProviders, error) {
	f, err := os.Open(path)
	if err != nil {
		return netcfg.StaticProviders{}, fmt.Errorf("provider database: %w", err)
	}
	defer f.Close()
	return ParseProviders(f)
}

// ParseProviders reads serviceproviders.xml: the GSM providers of each
// country with their internet APNs (MMS and WAP APNs are left out).
func ParseProviders(r io.Reader) (netcfg.StaticProviders, error) {
	var x xmlProviders
	if err := xml.NewDecoder(r).Decode(&x); err != nil {
		return netcfg.StaticProviders{}, fmt.Errorf("provider database: %w", err)
	}
	db := netcfg.StaticProviders{Names: map[string]string{}, List: map[string][]netcfg.Provider{}}
	for _, c := range x.Countries {
		code := strings.ToUpper(c.Code)
		for _, p := range c.Providers {
			if len(p.Names) == 0 {
				continue
			}
			prov := netcfg.Provider{Name: strings.TrimSpace(p.Names[0])}
			for _, a := range p.GSM.APNs {
				if a.Value == "" || !internetAPN(a.Usage) {
					continue
				}
				prov.APNs = append(prov.APNs, netcfg.APN{Name: a.Value, Label: strings.TrimSpace(a.Name),
					Username: a.Username, Password: a.Password})
			}
			if len(prov.APNs) > 0 {
				db.List[code] = append(db.List[code], prov)
			}
		}
		if len(db.List[code]) == 0 {
			continue
		}
		sort.SliceStable(db.List[code], func(i, j int) bool { return db.List[code][i].Name < db.List[code][j].Name })
		db.Names[code] = countryName(code)
	}
	return db, nil
}

func internetAPN(usage []struct {
	Type string `xml:"type,attr"`
}) bool {
	if len(usage) == 0 {
		return true
	}
	for _, u := range usage {
		if u.Type == "internet" {
			return true
		}
	}
	return false
}

// countryName is the English name of an ISO 3166 code ("DE" → "Germany").
func countryName(code string) string {
	r, err := language.ParseRegion(code)
	if err != nil {
		return code
	}
	if n := display.English.Regions().Name(r); n != "" {
		return n
	}
	return code
}
