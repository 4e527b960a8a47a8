// Command mbpigen regenerates netcfg/mbpi.tsv, the provider database
// embedded for systems without mobile-broadband-provider-info, from
// Debian's package of it: fetched with apt-get download and unpacked with
// dpkg -x into a temporary directory, never installed. `make mbpi-data`
// runs it from the repository's top directory.
package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/onramp-os/onramp/internal/atomicfile"
	"github.com/onramp-os/onramp/netcfg"
	"github.com/onramp-os/onramp/netcfg/host"
)

const (
	pkg = "mobile-broadband-provider-info"
	out = "netcfg/mbpi.tsv"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "mbpigen: %v\n", err)
		os.Exit(1)
	}
}

func run() error {
	tmp, err := os.MkdirTemp("", "mbpigen-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if err := download(tmp); err != nil {
		return err
	}
	debs, _ := filepath.Glob(filepath.Join(tmp, pkg+"_*.deb"))
	if len(debs) != 1 {
		return fmt.Errorf("apt-get download left %v", debs)
	}
	if out, err := exec.Command("dpkg", "-x", debs[0], filepath.Join(tmp, "x")).CombinedOutput(); err != nil {
		return fmt.Errorf("dpkg -x %s: %v: %s", debs[0], err, out)
	}
	db, err := host.LoadProviders(filepath.Join(tmp, "x", strings.TrimPrefix(host.DefaultProviderFile, "/")))
	if err != nil {
		return err
	}
	var b bytes.Buffer
	source := strings.TrimSuffix(filepath.Base(debs[0]), ".deb")
	if err := netcfg.WriteSnapshot(&b, db, source); err != nil {
		return err
	}
	if err := atomicfile.WriteFile(out, b.Bytes(), 0o644); err != nil {
		return err
	}
	fmt.Printf("%s: %d countries from %s\n", out, len(db.List), source)
	return nil
}

// download fetches the package, updating the package lists once if apt
// does not know it yet.
func download(dir string) error {
	get := func() ([]byte, error) {
		cmd := exec.Command("apt-get", "download", "-q", pkg)
		cmd.Dir = dir
		return cmd.CombinedOutput()
	}
	if _, err := get(); err == nil {
		return nil
	}
	if out, err := exec.Command("apt-get", "update", "-qq").CombinedOutput(); err != nil {
		return fmt.Errorf("apt-get update: %v: %s", err, out)
	}
	if out, err := get(); err != nil {
		return fmt.Errorf("apt-get download %s: %v: %s", pkg, err, out)
	}
	return nil
}
