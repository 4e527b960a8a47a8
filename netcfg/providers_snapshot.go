package netcfg

import (
	"bufio"
	_ "embed"
	"fmt"
	"io"
	"sort"
	"strings"

	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
)

// providerSnapshot is the provider database as Debian's
// mobile-broadband-provider-info had it when `make mbpi-data` last ran:
// for systems without the package.
//
//go:embed mbpi.tsv
var providerSnapshot string

// EmbeddedProviders is the embedded provider database.
func EmbeddedProviders() StaticProviders {
	db, err := parseSnapshot(strings.NewReader(providerSnapshot))
	if err != nil {
		// The snapshot is generated and tested: a broken one is a build
		// error, and an empty database still lets the user type an APN.
		return StaticProviders{}
	}
	return db
}

// WriteSnapshot writes db compactly: a comment naming the source, then
// one line per APN, "CC<tab>provider<tab>apn<tab>label<tab>user<tab>password",
// in the database's order.
func WriteSnapshot(w io.Writer, db StaticProviders, source string) error {
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
func parseSnapshot(r io.Reader) (StaticProviders, error) {
	db := StaticProviders{Names: map[string]string{}, List: map[string][]Provider{}}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 6 || len(f[0]) != 2 || f[1] == "" || f[2] == "" {
			return StaticProviders{}, fmt.Errorf("provider snapshot line %d: %q", n, line)
		}
		code, apn := f[0], APN{Name: f[2], Label: f[3], Username: f[4], Password: f[5]}
		ps := db.List[code]
		if len(ps) == 0 || ps[len(ps)-1].Name != f[1] {
			ps = append(ps, Provider{Name: f[1]})
		}
		ps[len(ps)-1].APNs = append(ps[len(ps)-1].APNs, apn)
		db.List[code] = ps
		db.Names[code] = CountryName(code)
	}
	return db, sc.Err()
}

// CountryName is the English name of an ISO 3166 code ("DE" → "Germany").
func CountryName(code string) string {
	r, err := language.ParseRegion(code)
	if err != nil {
		return code
	}
	if n := display.English.Regions().Name(r); n != "" {
		return n
	}
	return code
}

// SnapshotSource is the first line of the embedded snapshot: the package
// and version it was made from.
func SnapshotSource() string {
	first, _, _ := strings.Cut(providerSnapshot, "\n")
	return first
}
