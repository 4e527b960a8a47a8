package host

import (
	"bufio"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"github.com/onramp-os/onramp/internal/atomicfile"
)

func (b *Backend) resolvPath() string { return filepath.Join(b.root, "etc/resolv.conf") }

// writeResolv points the resolver at c's name servers and search domains.
// Without name servers the file is left alone.
func writeResolv(path string, c ipConfig) error {
	if len(c.DNS) == 0 {
		return nil
	}
	var s strings.Builder
	s.WriteString("# Written by the setup assistant.\n")
	search := c.Search
	if len(search) == 0 && c.Domain != "" {
		search = []string{c.Domain}
	}
	if len(search) > 0 {
		fmt.Fprintf(&s, "search %s\n", strings.Join(search, " "))
	}
	for _, d := range c.DNS {
		fmt.Fprintf(&s, "nameserver %s\n", d)
	}
	if err := atomicfile.WriteFile(path, []byte(s.String()), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// readResolv reads the name servers and the first search domain of a
// resolv.conf; a missing file has none.
func readResolv(path string) ([]netip.Addr, string) {
	f, err := os.Open(path)
	if err != nil {
		return nil, ""
	}
	defer f.Close()
	var dns []netip.Addr
	domain := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			continue
		}
		switch fields[0] {
		case "nameserver":
			if a, err := netip.ParseAddr(fields[1]); err == nil {
				dns = append(dns, a)
			}
		case "search", "domain":
			if domain == "" {
				domain = fields[1]
			}
		}
	}
	return dns, domain
}
