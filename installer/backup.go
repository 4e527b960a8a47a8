package installer

import (
	"archive/tar"
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/onramp-os/onramp/internal/atomicfile"
	"github.com/onramp-os/onramp/internal/exitcode"
)

// A backup is a tar archive of settings/… and licenses/… with SHA256SUMS
// (sha256sum format, so `sha256sum -c` checks an extracted copy) and
// backup.json saying where it came from.
const (
	backupSums = "SHA256SUMS"
	backupMeta = "backup.json"
)

// DefaultBackupDir is where backups go without --backup-dir.
var DefaultBackupDir = "/var/lib/osc/backups"

// BackupMeta describes a backup.
type BackupMeta struct {
	Created   time.Time `json:"created"`
	Target    string    `json:"target"`
	Layout    int       `json:"layout_version"`
	OSName    string    `json:"os_name,omitempty"`
	OSVersion string    `json:"os_version,omitempty"`
	Settings  int       `json:"settings"`
	Licenses  int       `json:"licenses"`
}

// Backup is a verified backup read back from its archive.
type Backup struct {
	Path     string
	Meta     BackupMeta
	Settings Files
	Licenses Files
}

// writeBackup writes ex's settings and licenses to a new archive in dir and
// reads it back; any failure is Refused: without a verified backup nothing
// on the target may be touched.
func writeBackup(dir, target string, ex *Existing, now time.Time) (*Backup, error) {
	meta := BackupMeta{Created: now.UTC(), Target: target, Layout: ex.Layout, OSName: ex.OSName,
		OSVersion: ex.OSVersion, Settings: len(ex.Settings), Licenses: len(ex.Licenses)}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	var sums strings.Builder
	add := func(name string, f File) error {
		sum := sha256.Sum256(f.Data)
		fmt.Fprintf(&sums, "%s  %s\n", hex.EncodeToString(sum[:]), name)
		hdr := &tar.Header{Name: name, Mode: int64(f.Mode.Perm()), Size: int64(len(f.Data)), ModTime: now, Typeflag: tar.TypeReg}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		_, err := tw.Write(f.Data)
		return err
	}
	for _, group := range []struct {
		dir   string
		files Files
	}{{"settings", ex.Settings}, {"licenses", ex.Licenses}} {
		for _, n := range group.files.Names() {
			if err := add(path.Join(group.dir, n), group.files[n]); err != nil {
				return nil, refusedBackup(err)
			}
		}
	}
	metaJSON, _ := json.MarshalIndent(meta, "", "  ")
	if err := add(backupMeta, File{Data: metaJSON, Mode: 0o600}); err != nil {
		return nil, refusedBackup(err)
	}
	if err := add(backupSums, File{Data: []byte(sums.String()), Mode: 0o600}); err != nil {
		return nil, refusedBackup(err)
	}
	if err := tw.Close(); err != nil {
		return nil, refusedBackup(err)
	}
	name := fmt.Sprintf("onramp-backup-%s-%s.tar", filepath.Base(target), now.UTC().Format("20060102T150405Z"))
	p := filepath.Join(dir, name)
	if err := atomicfile.WriteFile(p, buf.Bytes(), 0o600); err != nil {
		return nil, refusedBackup(err)
	}
	b, err := ReadBackup(p)
	if err != nil {
		return nil, refusedBackup(err)
	}
	if !sameFiles(b.Settings, ex.Settings) || !sameFiles(b.Licenses, ex.Licenses) {
		return nil, refusedBackup(fmt.Errorf("%s does not read back as written", p))
	}
	return b, nil
}

func refusedBackup(err error) error {
	return exitcode.New(exitcode.Refused, "cannot write a verified backup, so nothing was changed on the target: %w (choose another place with --backup-dir)", err)
}

// ReadBackup reads an archive and checks every file against SHA256SUMS.
// A damaged backup is VerifyFailed.
func ReadBackup(p string) (*Backup, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("open backup: %w", err)
	}
	defer f.Close()
	content := map[string]File{}
	tr := tar.NewReader(bufio.NewReader(f))
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, exitcode.New(exitcode.VerifyFailed, "backup %s: %v", p, err)
		}
		if hdr.Typeflag != tar.TypeReg || !cleanRel(hdr.Name) {
			return nil, exitcode.New(exitcode.VerifyFailed, "backup %s: unexpected entry %q", p, hdr.Name)
		}
		data, err := io.ReadAll(io.LimitReader(tr, 1<<30))
		if err != nil {
			return nil, exitcode.New(exitcode.VerifyFailed, "backup %s: %v", p, err)
		}
		content[hdr.Name] = File{Data: data, Mode: os.FileMode(hdr.Mode).Perm()}
	}
	sums, ok := content[backupSums]
	if !ok {
		return nil, exitcode.New(exitcode.VerifyFailed, "backup %s has no %s", p, backupSums)
	}
	b := &Backup{Path: p, Settings: Files{}, Licenses: Files{}}
	listed := map[string]bool{backupSums: true}
	for _, line := range strings.Split(strings.TrimSpace(string(sums.Data)), "\n") {
		want, name, ok := strings.Cut(line, "  ")
		if !ok {
			return nil, exitcode.New(exitcode.VerifyFailed, "backup %s: bad line in %s: %q", p, backupSums, line)
		}
		f, present := content[name]
		got := sha256.Sum256(f.Data)
		if !present || hex.EncodeToString(got[:]) != want {
			return nil, exitcode.New(exitcode.VerifyFailed, "backup %s: %s is missing or does not match its checksum", p, name)
		}
		listed[name] = true
		switch dir, rest, _ := strings.Cut(name, "/"); dir {
		case "settings":
			b.Settings[rest] = f
		case "licenses":
			b.Licenses[rest] = f
		}
	}
	for name := range content {
		if !listed[name] {
			return nil, exitcode.New(exitcode.VerifyFailed, "backup %s: %s is not in %s", p, name, backupSums)
		}
	}
	if err := json.Unmarshal(content[backupMeta].Data, &b.Meta); err != nil {
		return nil, exitcode.New(exitcode.VerifyFailed, "backup %s: %s: %v", p, backupMeta, err)
	}
	return b, nil
}

func cleanRel(name string) bool {
	return name != "" && !strings.HasPrefix(name, "/") && path.Clean(name) == name && !strings.HasPrefix(name, "../") && name != ".."
}

// sameFiles compares content and permission bits.
func sameFiles(a, b Files) bool {
	if len(a) != len(b) {
		return false
	}
	for n, fa := range a {
		fb, ok := b[n]
		if !ok || !bytes.Equal(fa.Data, fb.Data) || fa.Mode.Perm() != fb.Mode.Perm() {
			return false
		}
	}
	return true
}
