package host

import (
	"bufio"
	_ "embed"
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

// providerSnapshot is the provider database as Debian's
// mobile-broadband-provider-info had it when `make mbpi-data` last ran:
// for systems without the package.
//
//go:embed mbpi.tsv
var providerSnapshot string

// Providers is the country → provider → APN database, read on first use
// from ProviderFile, or from the embedded snapshot when the file is
// missing or unreadable.
func (b *Backend) Providers() netcfg.ProviderDB {
	b.provOnce.Do(func() {
		db, err := LoadProviders(b.o.ProviderFile)
		if err != nil {
			db = EmbeddedProviders()
		}
		b.prov = db
	})
	return b.prov
}

// EmbeddedProviders is the embedded provider database.
func EmbeddedProviders() netcfg.StaticProviders {
	db, err := parseSnapshot(strings.NewReader(providerSnapshot))
	if err != nil {
		// The snapshot is generated and tested: a broken one is a build
		// error, and an empty database still lets the user type an APN.
		return netcfg.StaticProviders{}
	}
	return db
}

// WriteSnapshot writes db compactly: a comment naming the source, then
// one line per APN, "CC<tab>provider<tab>apn<tab>label<tab>user<tab>password",
// in the database's order.
func WriteSnapshot(w io.Writer, db netcfg.StaticProviders, source string) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "# Mobile broadband providers from %s (make mbpi-data).\n", source)
	codes := make([]string, 0, len(db.List))
	for c := range db.List {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	clean := strings.NewReplacer("\t", " ", "\n", " ", "\r", " ")
	for _, c := range codes {
		for _, p := range db.List[c] {
			for _, a := range p.APNs {
				fmt.Fprintf(bw, "%s\t%s\t%s\t%s\t%s\t%s\n", c, clean.Replace(p.Name), clean.Replace(a.Name),
					clean.Replace(a.Label), clean.Replace(a.Username), clean.Replace(a.Password))
			}
		}
	}
	return bw.Flush()
}

// parseSnapshot reads what WriteSnapshot wrote.
func parseSnapshot(r io.Reader) (netcfg.StaticProviders, error) {
	db := netcfg.StaticProviders{Names: map[string]string{}, List: map[string][]netcfg.Provider{}}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 6 || len(f[0]) != 2 || f[1] == "" || f[2] == "" {
			return netcfg.StaticProviders{}, fmt.Errorf("provider snapshot line %d: %q", n, line)
		}
		code, apn := f[0], netcfg.APN{Name: f[2], Label: f[3], Username: f[4], Password: f[5]}
		ps := db.List[code]
		if len(ps) == 0 || ps[len(ps)-1].Name != f[1] {
			ps = append(ps, netcfg.Provider{Name: f[1]})
		}
		ps[len(ps)-1].APNs = append(ps[len(ps)-1].APNs, apn)
		db.List[code] = ps
		db.Names[code] = countryName(code)
	}
	return db, sc.Err()
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
		db.Names[code] = countryName(code)
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
