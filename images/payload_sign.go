package images

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/onramp-os/onramp/internal/atomicfile"
)

// SignOptions are the manifest fields osc image sign cannot read from the
// files. Zero values keep what an existing manifest.json in the directory
// says, else take the defaults noted.
type SignOptions struct {
	OSName        string
	Version       string
	Variant       string // default "standard"
	Arch          string // default "x86_64"
	MinTargetSize int64  // default: 8 GB
	SlotSize      int64  // default: twice system.squashfs, at least 1 GiB, in MiB
	KernelOptions string // appended to the kernel command line of the boot entries
}

// DefaultMinTargetSize is the minimum target size a signed payload gets when
// none is given.
const DefaultMinTargetSize = 8_000_000_000

// SignPayload lists and hashes every file under dir (except the manifest and
// its signature), writes manifest.json and signs it into manifest.sig.
func SignPayload(dir string, priv ed25519.PrivateKey, opt SignOptions) (*Manifest, error) {
	m := &Manifest{}
	if old, err := os.ReadFile(filepath.Join(dir, ManifestName)); err == nil {
		// Keep metadata of the previous manifest; files are listed afresh.
		if prev, err := ParseManifest(old); err == nil {
			m = prev
		}
	}
	m.Format, m.Files, m.EULA = ManifestFormat, nil, map[string]string{}
	setString(&m.OSName, opt.OSName, "")
	setString(&m.Version, opt.Version, "")
	setString(&m.Variant, opt.Variant, "standard")
	setString(&m.Arch, opt.Arch, "x86_64")
	setString(&m.KernelOptions, opt.KernelOptions, "")
	if opt.MinTargetSize > 0 {
		m.MinTargetSize = opt.MinTargetSize
	} else if m.MinTargetSize == 0 {
		m.MinTargetSize = DefaultMinTargetSize
	}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() || rel == ManifestName || rel == SignatureName {
			return nil
		}
		if !d.Type().IsRegular() {
			return fmt.Errorf("%s is not a regular file", p)
		}
		f, err := hashFile(p)
		if err != nil {
			return err
		}
		f.Path = rel
		m.Files = append(m.Files, f)
		if dirName, name := path.Split(rel); dirName == EULADir+"/" && strings.HasSuffix(name, ".txt") {
			m.EULA[strings.TrimSuffix(name, ".txt")] = rel
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list payload %s: %w", dir, err)
	}
	sys, ok := m.File(SystemName)
	if !ok {
		return nil, invalid("%s holds no %s", dir, SystemName)
	}
	if opt.SlotSize > 0 {
		m.SlotSize = opt.SlotSize
	} else if m.SlotSize < sys.Size {
		m.SlotSize = max(roundUp(2*sys.Size, 1<<20), 1<<30)
	}
	if m.OSName == "" || m.Version == "" {
		return nil, errors.New("the manifest needs an OS name and a version (--os-name, --version)")
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	raw, err := m.Marshal()
	if err != nil {
		return nil, err
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, ManifestName), raw, 0o644); err != nil {
		return nil, fmt.Errorf("write manifest: %w", err)
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, SignatureName), SignManifest(priv, raw), 0o644); err != nil {
		return nil, fmt.Errorf("write signature: %w", err)
	}
	return m, nil
}

func setString(dst *string, v, def string) {
	switch {
	case v != "":
		*dst = v
	case *dst == "":
		*dst = def
	}
}

// hashFile hashes the file at p whole and, when it is larger than one
// chunk, in chunks of ChunkSize.
func hashFile(p string) (ManifestFile, error) {
	f, err := os.Open(p)
	if err != nil {
		return ManifestFile{}, err
	}
	defer f.Close()
	whole, chunk := sha256.New(), sha256.New()
	var sums []string
	buf := make([]byte, ChunkSize)
	var size int64
	for {
		n, err := io.ReadFull(f, buf)
		whole.Write(buf[:n])
		size += int64(n)
		if n > 0 {
			chunk.Reset()
			chunk.Write(buf[:n])
			sums = append(sums, hex.EncodeToString(chunk.Sum(nil)))
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return ManifestFile{}, fmt.Errorf("hash %s: %w", p, err)
		}
	}
	mf := ManifestFile{Size: size, SHA256: hex.EncodeToString(whole.Sum(nil))}
	if len(sums) > 1 {
		mf.Chunks = &Chunks{Size: ChunkSize, SHA256: sums}
	}
	return mf, nil
}
