package license

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/onramp-os/onramp/internal/atomicfile"
	"github.com/onramp-os/onramp/onboard"
)

// ReadDir verifies every *.lic file in dir, sorted by name. A missing
// directory holds no licenses; a file that cannot be read is Malformed.
func (v Verifier) ReadDir(dir string) ([]Status, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read licenses: %w", err)
	}
	var out []Status
	for _, e := range ents {
		if !e.Type().IsRegular() || !strings.HasSuffix(e.Name(), Ext) {
			continue
		}
		data, err := readBounded(filepath.Join(dir, e.Name()))
		if err != nil {
			out = append(out, Status{File: e.Name(), State: Malformed, Reason: err.Error()})
			continue
		}
		out = append(out, v.Verify(e.Name(), data))
	}
	return out, nil
}

// VerifyFiles verifies license files given by name (osc reads them from a
// target disk), sorted by name; names not ending in .lic are skipped.
func (v Verifier) VerifyFiles(files map[string][]byte) []Status {
	names := make([]string, 0, len(files))
	for n := range files {
		if strings.HasSuffix(n, Ext) {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	out := make([]Status, 0, len(names))
	for _, n := range names {
		out = append(out, v.Verify(n, files[n]))
	}
	return out
}

func readBounded(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxSize {
		return nil, fmt.Errorf("larger than %d bytes", MaxSize)
	}
	return data, nil
}

// DeviceVerifier is the verifier of the device under root with Unit ID
// unitID: it trusts the CA the device enrolled with (ROOT/etc/onramp/ums/
// ca.crt), or no UMS when the device is not onboarded.
func DeviceVerifier(root, unitID string, now time.Time) (Verifier, error) {
	v := Verifier{UnitID: unitID, Now: now}
	data, err := os.ReadFile(filepath.Join(root, onboard.UMSDir, onboard.CAFile))
	if errors.Is(err, fs.ErrNotExist) {
		return v, nil
	}
	if err != nil {
		return v, fmt.Errorf("read the UMS CA: %w", err)
	}
	if v.Roots, err = RootsFromPEM(data); err != nil {
		return v, fmt.Errorf("%s: %w", onboard.CAFile, err)
	}
	return v, nil
}

// WriteStarter writes the Starter license of unitID, valid StarterDays
// days from firstBoot, into dir, unless dir already holds one: running the
// setup again never extends it. It reports whether it wrote one.
func WriteStarter(dir, unitID string, firstBoot time.Time) (bool, error) {
	path := filepath.Join(dir, StarterFile)
	if _, err := os.Lstat(path); err == nil {
		return false, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return false, fmt.Errorf("starter license: %w", err)
	}
	data, err := Starter(unitID, firstBoot)
	if err != nil {
		return false, err
	}
	if err := atomicfile.WriteFile(path, data, 0o644); err != nil {
		return false, fmt.Errorf("write %s: %w", path, err)
	}
	return true, nil
}

// Replace makes dir's UMS licenses exactly docs (license file contents,
// named by FileName): each is written atomically, and UMS license files
// not among them (unassigned on the server) are removed. The Starter
// license and other files stay.
func Replace(dir string, docs [][]byte) error {
	keep := map[string]bool{}
	for _, data := range docs {
		_, _, p, err := Parse(data)
		if err != nil {
			return fmt.Errorf("license: %w", err)
		}
		if p.Issuer == IssuerDevice {
			return errors.New("a management server may not send a Starter license")
		}
		name := FileName(p)
		keep[name] = true
		if old, err := os.ReadFile(filepath.Join(dir, name)); err == nil && string(old) == string(data) {
			continue
		}
		if err := atomicfile.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return fmt.Errorf("store %s: %w", name, err)
		}
	}
	ents, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("read licenses: %w", err)
	}
	for _, e := range ents {
		n := e.Name()
		if strings.HasPrefix(n, "ums-") && strings.HasSuffix(n, Ext) && !keep[n] {
			if err := os.Remove(filepath.Join(dir, n)); err != nil {
				return fmt.Errorf("remove %s: %w", n, err)
			}
		}
	}
	return nil
}

func parsePEM(data []byte) []*x509.Certificate {
	var out []*x509.Certificate
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return out
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		if c, err := x509.ParseCertificate(b.Bytes); err == nil {
			out = append(out, c)
		}
	}
}
