package host

import (
	_ "embed"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/onramp-os/onramp/netcfg"
)

// DefaultProviderFile is Debian's mobile-broadband-provider-info database.
const DefaultProviderFile = "/usr/share/mobile-broadband-provider-info/serviceproviders.xml"

// Providers is the country → provider → APN database, read on first use
// from ProviderFile, or from the embedded snapshot when the file is
// missing or unreadable.
func (b *Backend) Providers() netcfg.ProviderDB {
	b.provOnce.Do(func() {
		db, err := LoadProviders(b.o.ProviderFile)
		if err != nil {
			db = netcfg.EmbeddedProviders()
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
		db.List[code] = mergeByName(db.List[code])
		db.Names[code] = netcfg.CountryName(code)
	}
	return db, nil
}

// mergeByName sorts providers by name, ignoring case, and makes one of
// those that share a name (the database lists some operators once per
// network or brand): the user picks a name, then an APN.
func mergeByName(ps []netcfg.Provider) []netcfg.Provider {
	sort.SliceStable(ps, func(i, j int) bool { return strings.ToLower(ps[i].Name) < strings.ToLower(ps[j].Name) })
	var out []netcfg.Provider
	for _, p := range ps {
		if n := len(out); n > 0 && out[n-1].Name == p.Name {
			out[n-1].APNs = append(out[n-1].APNs, p.APNs...)
			continue
		}
		out = append(out, p)
	}
	return out
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
