// Package support gathers a device's support information into one zip
// archive: logs, the setup assistant's state and records, the network
// configuration, the disks as osc inspect sees them, the kernel's view of
// the hardware and network, the installed image and the enrollment's
// certificate facts. Every secret is redacted before it is written, and a
// private key is never read. It writes the archive to a file or to the
// first removable stick it finds (ToStick). It is not a log shipper: nothing
// leaves the device except on the medium the user plugs in.
package support

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/onramp-os/onramp/internal/atomicfile"
	"github.com/onramp-os/onramp/internal/exitcode"
	"github.com/onramp-os/onramp/onboard"
)

// Options say what to collect and how to label it.
type Options struct {
	// Root is the system whose files are collected; "" is "/". Commands
	// (ip, dmesg, lsblk, ...) always describe the running machine.
	Root string
	// Tool and Version name the program writing the bundle.
	Tool, Version string
	// UnitID reads the device's Unit ID; nil is onboard.UnitID (the
	// onboarding NIC rules).
	UnitID func() (string, error)
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// Exclude names drives ToStick never writes to (the stick a failed
	// write left behind, the install target), by device path.
	Exclude []string
}

func (o Options) root() string {
	if o.Root == "" {
		return "/"
	}
	return o.Root
}

func (o Options) now() time.Time {
	if o.Now == nil {
		return time.Now().UTC()
	}
	return o.Now().UTC()
}

func (o Options) unitID() (string, error) {
	if o.UnitID == nil {
		return onboard.UnitID()
	}
	return o.UnitID()
}

// Manifest is manifest.json in the bundle: what was collected, when, by
// which program, for which device.
type Manifest struct {
	Format    int       `json:"format"`
	Tool      string    `json:"tool"`
	Version   string    `json:"version"`
	Created   time.Time `json:"created"`
	UnitID    string    `json:"unit_id,omitempty"`
	UnitIDErr string    `json:"unit_id_error,omitempty"`
	Root      string    `json:"root"`
	Entries   []Entry   `json:"entries"`
}

// Entry is one item of the bundle: a file in it, or something looked for
// and not there (Name empty, Note saying why).
type Entry struct {
	Name     string `json:"name,omitempty"` // path in the zip
	Source   string `json:"source"`         // file path or command line
	Bytes    int    `json:"bytes"`
	Redacted int    `json:"redacted,omitempty"` // secrets removed
	Note     string `json:"note,omitempty"`     // not present, truncated, failed: why
}

// ManifestFormat is the version of manifest.json's schema.
const ManifestFormat = 1

// Write collects the support information and writes the zip to w.
func Write(ctx context.Context, w io.Writer, o Options) (Manifest, error) {
	m := Manifest{Format: ManifestFormat, Tool: o.Tool, Version: o.Version, Created: o.now(), Root: o.root()}
	if id, err := o.unitID(); err != nil {
		m.UnitIDErr = err.Error()
	} else {
		m.UnitID = id
	}
	items, err := collect(ctx, o)
	if err != nil {
		return m, err
	}
	// Learn every secret first, then redact everything with all of them.
	r := newRedactor()
	for _, it := range items {
		r.learn(it.name)
		r.learn(string(it.data))
		r.learn(it.note)
	}
	zw := zip.NewWriter(w)
	for _, it := range items {
		e := Entry{Source: it.source}
		e.Note, _ = r.redact(it.note)
		if it.name != "" {
			name, n1 := r.redact(it.name)
			data, n2 := r.redact(string(it.data))
			e.Name, e.Bytes, e.Redacted = name, len(data), n1+n2
			if err := addFile(zw, name, m.Created, []byte(data)); err != nil {
				return m, err
			}
		}
		e.Source, _ = r.redact(e.Source)
		m.Entries = append(m.Entries, e)
	}
	sort.SliceStable(m.Entries, func(i, j int) bool { return m.Entries[i].Name < m.Entries[j].Name })
	mj, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return m, err
	}
	redacted, _ := r.redact(string(mj))
	if err := addFile(zw, "manifest.json", m.Created, append([]byte(redacted), '\n')); err != nil {
		return m, err
	}
	return m, zw.Close()
}

func addFile(zw *zip.Writer, name string, mod time.Time, data []byte) error {
	f, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: mod})
	if err != nil {
		return fmt.Errorf("zip %s: %w", name, err)
	}
	_, err = f.Write(data)
	return err
}

// WriteFile writes the bundle to path (mode 0600, atomically: a reader
// never sees half a bundle).
func WriteFile(ctx context.Context, path string, o Options) (Manifest, error) {
	var buf bytes.Buffer
	m, err := Write(ctx, &buf, o)
	if err != nil {
		return m, err
	}
	if err := atomicfile.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		return m, fmt.Errorf("write %s: %w", path, err)
	}
	return m, nil
}

// FileName is the bundle's name on a stick:
// onramp-support-UNITID-20261206T225500Z.zip.
func FileName(unitID string, t time.Time) string {
	if unitID == "" {
		unitID = "unknown"
	}
	return fmt.Sprintf("onramp-support-%s-%s.zip", unitID, t.UTC().Format("20060102T150405Z"))
}

// writeNew writes data to a new file at path with mode 0600 and syncs it;
// an existing file is never overwritten, and a failed write leaves none.
func writeNew(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(path)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}

// Save writes the bundle where to says: "auto" for the first USB stick
// (ToStick), anything else is a file path. It returns the sentence to show.
func Save(ctx context.Context, to string, o Options) (string, error) {
	switch to {
	case "":
		return "", exitcode.New(exitcode.Usage, "--to: give auto (a USB stick) or a file name")
	case "auto":
		s, err := ToStick(ctx, o)
		if err != nil {
			return "", err
		}
		return "Support information " + s.String() + ".", nil
	}
	if _, err := WriteFile(ctx, to, o); err != nil {
		return "", err
	}
	return "Support information saved to " + to + ".", nil
}
