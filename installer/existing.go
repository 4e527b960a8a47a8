package installer

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/diskfs/go-diskfs/backend/file"
	"github.com/diskfs/go-diskfs/filesystem/fat16"
	"github.com/diskfs/go-diskfs/filesystem/fat32"
	"github.com/diskfs/go-diskfs/partition/gpt"
	"github.com/diskfs/go-diskfs/partition/mbr"

	"github.com/onramp-os/onramp/internal/guard"
	"github.com/onramp-os/onramp/internal/inputfile"
	"github.com/onramp-os/onramp/settings"
)

// File is one migrated entry: a regular file (Data), a directory
// (Mode has fs.ModeDir) or a symbolic link (fs.ModeSymlink, Target), with
// its permission bits (setuid, setgid and sticky included) and its
// modification time to the second (what debugfs gives; zero when unknown,
// as on a layout 1 FAT), and its owner (numeric: the installer does not
// know the installed system's user names). A zero Mode is a regular file
// of mode 0600.
type File struct {
	Data     []byte
	Mode     fs.FileMode
	ModTime  time.Time
	Target   string
	UID, GID int
}

// keptMode is the part of a mode a migration keeps.
const keptMode = fs.ModeType | fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky

// same reports whether f and g are the same entry: type, permission bits,
// owner, content or link target, and modification time where both know it
// (symbolic links have none that survives debugfs).
func (f File) same(g File) bool {
	if f.Mode&keptMode != g.Mode&keptMode || !bytes.Equal(f.Data, g.Data) || f.Target != g.Target ||
		f.UID != g.UID || f.GID != g.GID {
		return false
	}
	if f.Mode&fs.ModeSymlink != 0 || f.ModTime.IsZero() || g.ModTime.IsZero() {
		return true
	}
	return f.ModTime.Unix() == g.ModTime.Unix()
}

// Files maps slash-separated paths to their entries: for settings the path
// on the installed system without its leading slash ("etc/locale.conf",
// kept in DATA/settings/etc/locale.conf), for licenses the path below
// DATA/licenses.
type Files map[string]File

// Names returns the paths, sorted.
func (f Files) Names() []string {
	names := make([]string, 0, len(f))
	for n := range f {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Count is the number of files and links, not counting directories.
func (f Files) Count() int {
	n := 0
	for _, e := range f {
		if !e.Mode.IsDir() {
			n++
		}
	}
	return n
}

// Existing is what an earlier installation left on the target.
type Existing struct {
	Table     string `json:"partition_table"` // "gpt", "mbr" or "none"
	Layout    int    `json:"layout_version"`  // 0: no installation found
	OSName    string `json:"os_name,omitempty"`
	OSVersion string `json:"os_version,omitempty"`
	Settings  Files  `json:"-"`
	Licenses  Files  `json:"-"`
	// Problem says why settings or licenses of a found installation could
	// not be read; migrating is then refused rather than silently skipped.
	Problem string `json:"problem,omitempty"`
	// Damaged names each partition whose file system osc refused to read,
	// and why (the ESP's FAT, say). Where it holds no settings or
	// licenses, migrating is not refused for it.
	Damaged []string `json:"damaged,omitempty"`
	// Unclean: DATA's ext4 journal holds changes not yet written in place
	// (the system was switched off without shutting down). An install
	// replays the journal before it reads DATA; Inspect, which writes
	// nothing, shows DATA as of its last checkpoint and says so.
	Unclean bool `json:"data_unclean,omitempty"`
	// data is the DATA partition of a layout 2 installation.
	data *Part
}

// releaseFile is written to the ESP and names what is installed.
const releaseFile = "onramp/release.json"

type release struct {
	Layout    int    `json:"layout_version"`
	OSName    string `json:"os_name"`
	OSVersion string `json:"os_version"`
	Variant   string `json:"variant"`
}

// ReadExisting inspects the target's partition table and any installation.
func (t *Target) ReadExisting() (*Existing, error) {
	if err := t.openRead(); err != nil {
		return nil, err
	}
	ex := &Existing{Table: "none"}
	b := file.New(t.f, true)
	if !t.gptHeadersSane() {
		ex.Problem = "the GPT header claims an impossible partition array; not reading it"
		return ex, nil
	}
	if tbl, err := gpt.Read(b, t.SectorSize, t.SectorSize); err == nil {
		ex.Table = "gpt"
		t.readLayout2(tbl, ex)
		return ex, nil
	}
	if tbl, err := mbr.Read(b, t.SectorSize, t.SectorSize); err == nil && len(tbl.Partitions) > 0 && hasMBRSignature(t) {
		ex.Table = "mbr"
		t.readLayout1(tbl, ex)
	}
	return ex, nil
}

// gptHeadersSane checks the primary and backup GPT headers, where present,
// for a partition array go-diskfs can read without allocating or reading
// gigabytes: a hostile or corrupt header must not stall an inspection.
func (t *Target) gptHeadersSane() bool {
	hdr := make([]byte, 92)
	for _, lba := range []int64{1, t.Size/int64(t.SectorSize) - 1} {
		if _, err := t.f.ReadAt(hdr, lba*int64(t.SectorSize)); err != nil || string(hdr[:8]) != "EFI PART" {
			continue
		}
		entries, size := binary.LittleEndian.Uint32(hdr[80:]), binary.LittleEndian.Uint32(hdr[84:])
		if entries > 1024 || size != 128 {
			return false
		}
	}
	return true
}

func hasMBRSignature(t *Target) bool {
	sig := make([]byte, 2)
	_, err := t.f.ReadAt(sig, 510)
	return err == nil && sig[0] == 0x55 && sig[1] == 0xaa
}

// openRead opens the target if it is not open yet: for writing during an
// install, read-only for Inspect.
func (t *Target) openRead() error { return t.open() }

func (t *Target) readLayout2(tbl *gpt.Table, ex *Existing) {
	var esp, data *gpt.Partition
	for _, p := range tbl.Partitions {
		switch p.Name {
		case LabelESP:
			esp = p
		case LabelData:
			data = p
		}
	}
	if esp == nil || data == nil {
		return
	}
	ex.Layout = LayoutVersion
	sectorSize := int64(t.SectorSize)
	espStart, espSize := int64(esp.Start)*sectorSize, int64(esp.End-esp.Start+1)*sectorSize
	fsys, err := openFAT(t.f, espStart, espSize, sectorSize)
	if err != nil {
		ex.Damaged = append(ex.Damaged, fmt.Sprintf("%s (partition %d): %v", LabelESP, esp.Index, err))
	} else if raw, err := readFATFile(fsys.fs, releaseFile, maxReleaseSize); err == nil {
		var r release
		if json.Unmarshal(raw, &r) == nil {
			ex.OSName, ex.OSVersion = r.OSName, r.OSVersion
		}
	}
	dataStart := int64(data.Start) * sectorSize
	ex.data = &Part{Number: data.Index, Label: LabelData, Type: data.Type, Start: dataStart,
		Size: int64(data.End-data.Start+1) * sectorSize}
	if unclean, err := needsRecovery(t.Path, dataStart); err == nil && unclean {
		if t.readOnly {
			ex.Unclean = true
		} else if err := replayJournal(t.Path, dataStart, ex.data.Size); err != nil {
			ex.Problem = fmt.Sprintf("%s was not shut down cleanly and its journal cannot be replayed: %v", LabelData, err)
			return
		}
	}
	dump, err := dumpData(t.Path, dataStart, settings.LicensesDir)
	if err != nil {
		ex.Problem = fmt.Sprintf("cannot read %s: %v", LabelData, err)
		return
	}
	set, err := readSettings(t.Path, dataStart)
	if err != nil {
		ex.Problem = fmt.Sprintf("cannot read the settings on %s: %v", LabelData, err)
		return
	}
	ex.Settings, ex.Licenses = set, dump[settings.LicensesDir]
}

func (t *Target) readLayout1(tbl *mbr.Table, ex *Existing) {
	sectorSize := int64(t.SectorSize)
	for i, p := range tbl.Partitions {
		switch p.Type {
		case mbr.Fat16, mbr.Fat16b, mbr.Fat16bLBA, mbr.Fat32CHS, mbr.Fat32LBA:
		default:
			continue
		}
		start, size := int64(p.Start)*sectorSize, int64(p.Size)*sectorSize
		fsys, err := openFAT(t.f, start, size, sectorSize)
		if errors.Is(err, errDamagedFAT) {
			ex.Damaged = append(ex.Damaged, fmt.Sprintf("partition %d: %v", i+1, err))
		}
		if err != nil || strings.TrimSpace(fsys.label()) != LabelLegacy {
			continue
		}
		ex.Layout = 1
		lics, err := readFATDir(fsys.fs, "licenses", ".lic")
		if err != nil {
			ex.Problem = fmt.Sprintf("cannot read licenses from %s: %v", LabelLegacy, err)
			return
		}
		ex.Licenses = lics
		return
	}
}

type fatFS struct {
	fs    fs.ReadDirFS
	label func() string
}

// errDamagedFAT marks a FAT file system checkFAT refused or go-diskfs'
// reader panicked on.
var errDamagedFAT = errors.New("damaged FAT file system")

// fatImage is what openFAT reads: a target's file, or an image in memory
// (the fuzz test).
type fatImage interface {
	fs.File
	io.ReaderAt
	io.Seeker
}

// openFAT checks the FAT file system of size bytes at start of f
// (checkFAT) and reads it with go-diskfs behind a guard, FAT32 or FAT16;
// every later call into it is guarded too.
func openFAT(f fatImage, start, size, sectorSize int64) (fatFS, error) {
	if err := checkFAT(f, start, size); err != nil {
		return fatFS{}, fmt.Errorf("%w: %v", errDamagedFAT, err)
	}
	b := file.New(f, true)
	var out fatFS
	err := guard.Call(func() error {
		if f32, err := fat32.Read(b, size, start, sectorSize); err == nil {
			out = fatFS{guard.FS(f32, damagedFAT), f32.Label}
			return nil
		}
		f16, err := fat16.Read(b, size, start, sectorSize)
		if err != nil {
			return err
		}
		out = fatFS{guard.FS(f16, damagedFAT), f16.Label}
		return nil
	})
	return out, damagedFAT(err)
}

// damagedFAT says what a panic in go-diskfs' FAT reader means.
func damagedFAT(err error) error {
	if errors.Is(err, guard.ErrPanicked) {
		return fmt.Errorf("%w: %v", errDamagedFAT, err)
	}
	return err
}

// Bounds of the files osc reads from a FAT: a license is a small signed
// document, release.json a few names.
const (
	maxLicenseSize = 1 << 20
	maxReleaseSize = 64 << 10
)

// readFATFile reads name, refusing more than limit bytes whatever its
// directory entry claims.
func readFATFile(fsys fs.FS, name string, limit int64) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return inputfile.ReadLimited(f, name, limit)
}

// readFATDir reads the files ending in suffix of dir (not recursing: layout
// 1 keeps licenses flat). A missing directory is no licenses.
func readFATDir(fsys fs.ReadDirFS, dir, suffix string) (Files, error) {
	entries, err := fsys.ReadDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || strings.Contains(err.Error(), "not exist") || strings.Contains(err.Error(), "not found") {
			return Files{}, nil
		}
		return nil, err
	}
	out := Files{}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(strings.ToLower(e.Name()), suffix) {
			continue
		}
		data, err := readFATFile(fsys, path.Join(dir, e.Name()), maxLicenseSize)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", e.Name(), err)
		}
		out[e.Name()] = File{Data: data, Mode: 0o600}
	}
	return out, nil
}
