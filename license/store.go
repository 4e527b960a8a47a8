package license

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/onramp-os/onramp/internal/atomicfile"
	"github.com/onramp-os/onramp/onboard"
)

// Every read and write below goes through an os.Root of the system's root
// ("/" or an offline root), so a symbolic link in that tree (ROOT/data
// pointing elsewhere) never leads outside it.

// ReadRoot verifies every *.lic file in ROOT/Dir, sorted by name. A
// missing directory holds no licenses; a file that cannot be read is
// Malformed.
func (v Verifier) ReadRoot(root string) ([]Status, error) {
	r, err := os.OpenRoot(root)
	if err != nil {
		return nil, fmt.Errorf("read licenses: %w", err)
	}
	defer r.Close()
	d, err := r.Open(Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read licenses: %w", err)
	}
	ents, err := d.ReadDir(-1)
	_ = d.Close()
	if err != nil {
		return nil, fmt.Errorf("read licenses: %w", err)
	}
	sort.Slice(ents, func(i, j int) bool { return ents[i].Name() < ents[j].Name() })
	var out []Status
	for _, e := range ents {
		if !e.Type().IsRegular() || !strings.HasSuffix(e.Name(), Ext) {
			continue
		}
		data, err := readBounded(r, path.Join(Dir, e.Name()))
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

func readBounded(r *os.Root, name string) ([]byte, error) {
	f, err := r.Open(name)
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
	r, err := os.OpenRoot(root)
	if err != nil {
		return v, fmt.Errorf("read the UMS CA: %w", err)
	}
	defer r.Close()
	data, err := r.ReadFile(path.Join(onboard.UMSDir, onboard.CAFile))
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
// days from firstBoot, into ROOT/Dir, unless one is there already: running
// the setup again never extends it. It reports whether it wrote one.
func WriteStarter(root, unitID string, firstBoot time.Time) (bool, error) {
	r, err := os.OpenRoot(root)
	if err != nil {
		return false, fmt.Errorf("starter license: %w", err)
	}
	name := path.Join(Dir, StarterFile)
	_, err = r.Lstat(name)
	_ = r.Close()
	if err == nil {
		return false, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return false, fmt.Errorf("starter license: %w", err)
	}
	data, err := Starter(unitID, firstBoot)
	if err != nil {
		return false, err
	}
	if err := atomicfile.WriteFileIn(root, name, data, 0o644); err != nil {
		return false, fmt.Errorf("write /%s: %w", name, err)
	}
	return true, nil
}

// Replace makes ROOT/Dir's UMS licenses exactly docs (license file
// contents, named by FileName): each is written atomically, and UMS
// license files not among them (unassigned on the server) are removed.
// The Starter license and other files stay.
func Replace(root string, docs [][]byte) error {
	r, err := os.OpenRoot(root)
	if err != nil {
		return fmt.Errorf("store licenses: %w", err)
	}
	defer r.Close()
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
		if old, err := r.ReadFile(path.Join(Dir, name)); err == nil && string(old) == string(data) {
			continue
		}
		if err := atomicfile.WriteFileIn(root, path.Join(Dir, name), data, 0o644); err != nil {
			return fmt.Errorf("store %s: %w", name, err)
		}
	}
	d, err := r.Open(Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read licenses: %w", err)
	}
	ents, err := d.ReadDir(-1)
	_ = d.Close()
	if err != nil {
		return fmt.Errorf("read licenses: %w", err)
	}
	for _, e := range ents {
		n := e.Name()
		if strings.HasPrefix(n, "ums-") && strings.HasSuffix(n, Ext) && !keep[n] {
			if err := r.Remove(path.Join(Dir, n)); err != nil {
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
