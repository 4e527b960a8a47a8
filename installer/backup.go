package installer

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/onramp-os/onramp/internal/atomicfile"
	"github.com/onramp-os/onramp/internal/exitcode"
	"github.com/onramp-os/onramp/internal/inputfile"
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
	// Entries records every settings and license entry with its type,
	// mode, owner, time and link target; backup.json is in SHA256SUMS, so the
	// metadata is checked like the content. Backups written before it
	// existed hold regular files only.
	Entries []BackupEntry `json:"entries,omitempty"`
}

// BackupEntry is one entry of a backup: Path is settings/… or licenses/…
type BackupEntry struct {
	Path    string `json:"path"`
	Type    string `json:"type"` // file, dir or symlink
	Mode    string `json:"mode"` // octal, with setuid (4000), setgid (2000), sticky (1000)
	ModTime int64  `json:"mtime,omitempty"`
	Target  string `json:"target,omitempty"`
	UID     int    `json:"uid"`
	GID     int    `json:"gid"`
}

// Backup is a verified backup read back from its archive.
type Backup struct {
	Path     string
	Meta     BackupMeta
	Settings Files
	Licenses Files
}

// Entry types of a backup.
const (
	entryFile    = "file"
	entryDir     = "dir"
	entrySymlink = "symlink"
)

func entryOf(name string, f File) BackupEntry {
	e := BackupEntry{Path: name, Type: entryFile, Mode: fmt.Sprintf("%04o", unixMode(f.Mode)), Target: f.Target,
		UID: f.UID, GID: f.GID}
	switch {
	case f.Mode.IsDir():
		e.Type = entryDir
	case f.Mode&fs.ModeSymlink != 0:
		e.Type = entrySymlink
	}
	if !f.ModTime.IsZero() {
		e.ModTime = f.ModTime.Unix()
	}
	return e
}

// unixMode is the permission part of m as chmod(2) takes it.
func unixMode(m fs.FileMode) int64 {
	u := int64(m.Perm())
	for bit, flag := range map[int64]fs.FileMode{0o4000: fs.ModeSetuid, 0o2000: fs.ModeSetgid, 0o1000: fs.ModeSticky} {
		if m&flag != 0 {
			u |= bit
		}
	}
	return u
}

// goMode is the inverse of unixMode.
func goMode(u int64) fs.FileMode {
	m := fs.FileMode(u & 0o777)
	for bit, flag := range map[int64]fs.FileMode{0o4000: fs.ModeSetuid, 0o2000: fs.ModeSetgid, 0o1000: fs.ModeSticky} {
		if u&bit != 0 {
			m |= flag
		}
	}
	return m
}

// writeBackup writes ex's settings and licenses to a new archive in dir and
// reads it back; any failure is Refused: without a verified backup nothing
// on the target may be touched.
func writeBackup(dir, target string, ex *Existing, now time.Time) (*Backup, error) {
	meta := BackupMeta{Created: now.UTC(), Target: target, Layout: ex.Layout, OSName: ex.OSName,
		OSVersion: ex.OSVersion, Settings: ex.Settings.Count(), Licenses: ex.Licenses.Count()}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	var sums strings.Builder
	add := func(name string, f File) error {
		hdr := &tar.Header{Name: name, Mode: unixMode(f.Mode), ModTime: f.ModTime, Typeflag: tar.TypeReg,
			Uid: f.UID, Gid: f.GID}
		if f.ModTime.IsZero() {
			hdr.ModTime = now
		}
		switch {
		case f.Mode.IsDir():
			hdr.Typeflag, hdr.Name = tar.TypeDir, name+"/"
		case f.Mode&fs.ModeSymlink != 0:
			hdr.Typeflag, hdr.Linkname = tar.TypeSymlink, f.Target
		default:
			sum := sha256.Sum256(f.Data)
			fmt.Fprintf(&sums, "%s  %s\n", hex.EncodeToString(sum[:]), name)
			hdr.Size = int64(len(f.Data))
		}
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
			name := path.Join(group.dir, n)
			meta.Entries = append(meta.Entries, entryOf(name, group.files[n]))
			if err := add(name, group.files[n]); err != nil {
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
	// The read-back is finished even while the install is being stopped:
	// Install stops right after it, with a checked backup.
	b, err := ReadBackup(context.Background(), p)
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

// Bounds of a backup. Settings and licenses are configuration files and
// small signed documents; a backup is read into memory whole, so what its
// headers claim is checked against these before anything is read.
const (
	maxBackupTotal = 256 << 20 // bytes of all entries together
	maxBackupIndex = 4 << 20   // bytes of SHA256SUMS or backup.json
	maxBackupCount = 100_000   // entries
)

// ReadBackup reads an archive and checks every file against SHA256SUMS and
// every entry's type, mode, owner, time and link target against
// backup.json. A damaged backup is VerifyFailed. The archive is read
// twice: first its headers (file contents skipped, not read) with
// SHA256SUMS and backup.json, refusing a size beyond maxBackupTotal or an
// entry SHA256SUMS does not list; then the listed files, each checked as
// it is read. Both passes stop when ctx ends.
func ReadBackup(ctx context.Context, p string) (*Backup, error) {
	bad := func(format string, args ...any) error {
		return exitcode.New(exitcode.VerifyFailed, "backup %s: %s", p, fmt.Sprintf(format, args...))
	}
	f, err := inputfile.Open(p, inputfile.RegularOnly)
	if errors.Is(err, inputfile.ErrNotRegular) {
		return nil, exitcode.New(exitcode.Usage, "backup: %v", err)
	}
	if err != nil {
		return nil, fmt.Errorf("open backup: %w", err)
	}
	defer f.Close()
	content := map[string]File{}
	var total int64
	var sumsData, metaData []byte
	// The first pass: headers, SHA256SUMS and backup.json. tar skips the
	// contents of other entries by seeking.
	tr := tar.NewReader(f)
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, bad("%v", err)
		}
		name := hdr.Name
		e := File{Mode: goMode(hdr.Mode), ModTime: hdr.ModTime, UID: hdr.Uid, GID: hdr.Gid}
		switch hdr.Typeflag {
		case tar.TypeReg:
		case tar.TypeDir:
			name = strings.TrimSuffix(name, "/")
			e.Mode |= fs.ModeDir
		case tar.TypeSymlink:
			e.Mode |= fs.ModeSymlink
			e.Target = hdr.Linkname
		default:
			return nil, bad("unexpected entry %q", hdr.Name)
		}
		if !cleanRel(name) {
			return nil, bad("unexpected entry %q", hdr.Name)
		}
		if _, dup := content[name]; dup {
			return nil, bad("%s is in the archive twice", name)
		}
		if len(content) == maxBackupCount {
			return nil, bad("more than %d entries", maxBackupCount)
		}
		if total += hdr.Size; hdr.Size < 0 || total > maxBackupTotal {
			return nil, bad("its entries hold more than %d MiB (at %s); a backup of settings and licenses is far smaller", maxBackupTotal>>20, name)
		}
		switch name {
		case backupSums, backupMeta:
			if hdr.Size > maxBackupIndex {
				return nil, bad("%s has %d bytes, at most %d", name, hdr.Size, maxBackupIndex)
			}
			data, err := readEntry(ctx, tr, hdr.Size)
			if err != nil {
				return nil, bad("%s: %v", name, err)
			}
			if name == backupSums {
				sumsData = data
			} else {
				metaData = data
			}
		}
		content[name] = e
	}
	if sumsData == nil {
		return nil, bad("it has no %s", backupSums)
	}
	sums := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(sumsData)), "\n") {
		want, name, ok := strings.Cut(line, "  ")
		if !ok {
			return nil, bad("bad line in %s: %q", backupSums, line)
		}
		if e, present := content[name]; !present || !e.Mode.IsRegular() || name == backupSums {
			return nil, bad("%s is missing or does not match its checksum", name)
		}
		sums[name] = want
	}
	for name, e := range content {
		if _, listed := sums[name]; e.Mode.IsRegular() && !listed && name != backupSums {
			return nil, bad("%s is not in %s", name, backupSums)
		}
	}
	// The second pass: every listed file, hashed as it is read.
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("read backup %s: %w", p, err)
	}
	tr = tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, bad("%v", err)
		}
		want, listed := sums[hdr.Name]
		if !listed || hdr.Typeflag != tar.TypeReg {
			continue
		}
		data := metaData
		if hdr.Name != backupMeta {
			if data, err = readEntry(ctx, tr, hdr.Size); err != nil {
				return nil, bad("%s: %v", hdr.Name, err)
			}
		}
		got := sha256.Sum256(data)
		if hex.EncodeToString(got[:]) != want {
			return nil, bad("%s is missing or does not match its checksum", hdr.Name)
		}
		e := content[hdr.Name]
		e.Data = data
		content[hdr.Name] = e
	}
	listed := map[string]bool{backupSums: true}
	for name := range sums {
		listed[name] = true
	}
	b := &Backup{Path: p, Settings: Files{}, Licenses: Files{}}
	if !listed[backupMeta] {
		return nil, bad("%s is not in %s", backupMeta, backupSums)
	}
	if err := json.Unmarshal(metaData, &b.Meta); err != nil {
		return nil, bad("%s: %v", backupMeta, err)
	}
	if b.Meta.Entries != nil {
		if err := checkEntries(content, b.Meta.Entries, listed); err != nil {
			return nil, bad("%v", err)
		}
	} else {
		for name, e := range content { // before entries: files only, times not kept
			e.ModTime = time.Time{}
			content[name] = e
		}
	}
	for name, e := range content {
		if !listed[name] {
			return nil, bad("%s is not in %s", name, backupSums)
		}
		switch dir, rest, _ := strings.Cut(name, "/"); dir {
		case "settings":
			b.Settings[rest] = e
		case "licenses":
			b.Licenses[rest] = e
		}
	}
	return b, nil
}

// readEntry reads the size bytes of the current tar entry (a size already
// bounded), in blocks, stopping when ctx ends.
func readEntry(ctx context.Context, r io.Reader, size int64) ([]byte, error) {
	data := make([]byte, size)
	for off := int64(0); off < size; {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		n, err := io.ReadFull(r, data[off:min(size, off+1<<20)])
		off += int64(n)
		if err != nil {
			return nil, err
		}
	}
	return data, nil
}

// checkEntries matches the archive's entries with backup.json's: each
// settings or license entry of one is in the other with the same type,
// mode, time and link target. Matched directories and links are marked
// listed; files must be in SHA256SUMS already.
func checkEntries(content map[string]File, entries []BackupEntry, listed map[string]bool) error {
	seen := map[string]bool{}
	for _, want := range entries {
		f, ok := content[want.Path]
		if !ok || seen[want.Path] {
			return fmt.Errorf("%s is missing or listed twice in %s", want.Path, backupMeta)
		}
		seen[want.Path] = true
		got := entryOf(want.Path, f)
		if want.ModTime == 0 {
			got.ModTime = 0
		}
		if got != want || (want.Type == entryFile) != listed[want.Path] {
			return fmt.Errorf("%s in the archive (%+v) differs from %s (%+v)", want.Path, got, backupMeta, want)
		}
		if want.Type != entryFile {
			listed[want.Path] = true
		}
		if want.ModTime == 0 || want.Type == entrySymlink {
			f.ModTime = time.Time{}
			content[want.Path] = f
		}
	}
	for name := range content {
		if dir, _, _ := strings.Cut(name, "/"); (dir == "settings" || dir == "licenses") && !seen[name] {
			return fmt.Errorf("%s is not in %s", name, backupMeta)
		}
	}
	return nil
}

func cleanRel(name string) bool {
	return name != "" && !strings.HasPrefix(name, "/") && path.Clean(name) == name && !strings.HasPrefix(name, "../") && name != ".."
}

// sameFiles compares entries: type, content, link target, permission bits
// and modification time.
func sameFiles(a, b Files) bool {
	if len(a) != len(b) {
		return false
	}
	for n, fa := range a {
		fb, ok := b[n]
		if !ok || !fa.same(fb) {
			return false
		}
	}
	return true
}
