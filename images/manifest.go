package images

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"

	"github.com/onramp-os/onramp/internal/exitcode"
)

// ManifestFormat is the version of the manifest.json schema osc writes.
// Format 1 lists one SHA-256 per file; format 2 may add per-chunk hashes
// (ManifestFile.Chunks). osc reads both; a payload with a newer format is
// refused rather than half-understood.
const ManifestFormat = 2

// Chunk sizes a manifest may use: a power of two in this range, so the
// 4 MiB read blocks of the installer always divide a chunk or equal it.
const (
	minChunkSize = 64 << 10
	maxChunkSize = 64 << 20
)

// Names of the files every payload holds (DESIGN.md "Installer medium").
const (
	ManifestName  = "manifest.json"
	SignatureName = "manifest.sig"
	KernelName    = "vmlinuz"
	InitrdName    = "initrd.img"
	SystemName    = "system.squashfs"
	EFIDir        = "efi"
	EULADir       = "eula"
)

// maxManifestSize bounds what osc reads as a manifest: a real one lists a few
// hundred files at most.
const maxManifestSize = 1 << 20

// Manifest describes a payload: what it installs and the size and SHA-256 of
// every file, so each byte can be checked before the target is touched.
type Manifest struct {
	Format  int    `json:"format"`
	OSName  string `json:"os_name"`
	Version string `json:"version"`
	Variant string `json:"variant"` // "standard" (UEFI) or "legacy" (BIOS)
	Arch    string `json:"arch"`
	// MinTargetSize is the smallest drive, in bytes, the system runs on.
	MinTargetSize int64 `json:"min_target_size"`
	// SlotSize is the size of each of the partitions SYS-A and SYS-B.
	SlotSize int64 `json:"slot_size"`
	// KernelOptions are appended to the kernel command line of every boot
	// entry the installer writes (console=ttyS0,115200 for a serial
	// console, for example).
	KernelOptions string         `json:"kernel_options,omitempty"`
	Files         []ManifestFile `json:"files"`
	// EULA maps a language code ("en", "de", "pt-BR") to a file of Files.
	EULA map[string]string `json:"eula"`
}

// ManifestFile is one file of the payload, its path relative to the payload
// root with forward slashes.
type ManifestFile struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	// Chunks (format 2, files larger than one chunk) hashes the file piece
	// by piece, so several cores can check it at once: before the first
	// write, and again as it is read back from the target.
	Chunks *Chunks `json:"chunks,omitempty"`
}

// Chunks is the SHA-256 of every Size bytes of a file, in order; the last
// chunk may be shorter.
type Chunks struct {
	Size   int64    `json:"size"`
	SHA256 []string `json:"sha256"`
}

var (
	langCode    = regexp.MustCompile(`^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$`)
	variants    = map[string]bool{"standard": true, "legacy": true}
	archs       = map[string]bool{"x86_64": true} // DESIGN.md: SYS-A is "Linux root (x86-64)"
	requiredSet = []string{KernelName, InitrdName, SystemName}
)

// ParseManifest decodes and validates a manifest. Every problem is an
// ImageInvalid error: a payload osc cannot fully trust is not installed.
func ParseManifest(data []byte) (*Manifest, error) {
	if len(data) > maxManifestSize {
		return nil, invalid("manifest is %d bytes, more than the %d allowed", len(data), maxManifestSize)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var m Manifest
	if err := dec.Decode(&m); err != nil {
		return nil, invalid("manifest: %v", err)
	}
	if dec.More() {
		return nil, invalid("manifest: data after the JSON object")
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return &m, nil
}

// Validate checks that the manifest is complete and self-consistent.
func (m *Manifest) Validate() error {
	if m.Format != 1 && m.Format != ManifestFormat {
		return invalid("manifest format %d is not supported (this osc reads formats 1 and %d)", m.Format, ManifestFormat)
	}
	for name, v := range map[string]string{"os_name": m.OSName, "version": m.Version} {
		if strings.TrimSpace(v) == "" || len(v) > 128 || strings.ContainsAny(v, "\x00\n\r") {
			return invalid("manifest: %s must be a single line of 1 to 128 characters", name)
		}
	}
	if len(m.KernelOptions) > 1024 || strings.IndexFunc(m.KernelOptions, func(r rune) bool { return r < ' ' || r == 0x7f }) >= 0 {
		return invalid("manifest: kernel_options must be one line of printable characters, at most 1024")
	}
	if !variants[m.Variant] {
		return invalid("manifest: variant %q is not standard or legacy", m.Variant)
	}
	if !archs[m.Arch] {
		return invalid("manifest: arch %q is not supported", m.Arch)
	}
	seen := map[string]bool{}
	for _, f := range m.Files {
		if err := checkPayloadPath(f.Path); err != nil {
			return err
		}
		if f.Path == ManifestName || f.Path == SignatureName {
			return invalid("manifest: %s cannot list itself or its signature", f.Path)
		}
		if seen[f.Path] {
			return invalid("manifest: %s is listed twice", f.Path)
		}
		seen[f.Path] = true
		if f.Size < 0 {
			return invalid("manifest: %s has a negative size", f.Path)
		}
		if !isSHA256Hex(f.SHA256) {
			return invalid("manifest: %s: sha256 must be 64 lower-case hex digits", f.Path)
		}
		if err := m.validateChunks(f); err != nil {
			return err
		}
	}
	for _, name := range requiredSet {
		if !seen[name] {
			return invalid("manifest: required file %s is not listed", name)
		}
	}
	sys, _ := m.File(SystemName)
	if m.SlotSize < sys.Size || m.SlotSize%(1<<20) != 0 || m.SlotSize <= 0 {
		return invalid("manifest: slot_size %d must be a positive multiple of 1 MiB holding %s (%d bytes)", m.SlotSize, SystemName, sys.Size)
	}
	if m.MinTargetSize <= 0 {
		return invalid("manifest: min_target_size must be positive")
	}
	if len(m.EULA) == 0 {
		return invalid("manifest: no EULA listed")
	}
	for lang, p := range m.EULA {
		if !langCode.MatchString(lang) {
			return invalid("manifest: EULA language %q is not a language code", lang)
		}
		if !seen[p] {
			return invalid("manifest: EULA %s for %s is not among the files", p, lang)
		}
	}
	return nil
}

func isSHA256Hex(s string) bool {
	b, err := hex.DecodeString(s)
	return err == nil && len(b) == 32 && s == strings.ToLower(s)
}

// validateChunks checks f's chunk list: format 2 only, a power-of-two size
// in range, exactly one hash per chunk, and more than one chunk (a file of
// one chunk has its SHA-256 already).
func (m *Manifest) validateChunks(f ManifestFile) error {
	c := f.Chunks
	if c == nil {
		return nil
	}
	if m.Format < 2 {
		return invalid("manifest: %s: chunks need manifest format 2", f.Path)
	}
	if c.Size < minChunkSize || c.Size > maxChunkSize || c.Size&(c.Size-1) != 0 {
		return invalid("manifest: %s: chunk size %d is not a power of two from %d to %d", f.Path, c.Size, minChunkSize, maxChunkSize)
	}
	want := (f.Size + c.Size - 1) / c.Size
	if want < 2 || int64(len(c.SHA256)) != want {
		return invalid("manifest: %s: %d chunk hashes for %d bytes in chunks of %d (want %d, and at least 2)", f.Path, len(c.SHA256), f.Size, c.Size, want)
	}
	for i, h := range c.SHA256 {
		if !isSHA256Hex(h) {
			return invalid("manifest: %s: chunk %d: sha256 must be 64 lower-case hex digits", f.Path, i)
		}
	}
	return nil
}

// File returns the entry for the payload path p.
func (m *Manifest) File(p string) (ManifestFile, bool) {
	for _, f := range m.Files {
		if f.Path == p {
			return f, true
		}
	}
	return ManifestFile{}, false
}

// Languages returns the EULA languages, sorted.
func (m *Manifest) Languages() []string {
	langs := make([]string, 0, len(m.EULA))
	for l := range m.EULA {
		langs = append(langs, l)
	}
	sort.Strings(langs)
	return langs
}

// EULAFor picks the EULA file for lang: the exact code, its base language
// ("de" for "de-AT"), else English, else the first language.
func (m *Manifest) EULAFor(lang string) (language, file string) {
	if p, ok := m.EULA[lang]; ok {
		return lang, p
	}
	if base, _, ok := strings.Cut(lang, "-"); ok {
		if p, ok := m.EULA[base]; ok {
			return base, p
		}
	}
	if p, ok := m.EULA["en"]; ok {
		return "en", p
	}
	langs := m.Languages()
	return langs[0], m.EULA[langs[0]]
}

// Marshal encodes the manifest as indented JSON, files sorted by path, so the
// signed bytes are stable.
func (m *Manifest) Marshal() ([]byte, error) {
	c := *m
	c.Files = append([]ManifestFile(nil), m.Files...)
	sort.Slice(c.Files, func(i, j int) bool { return c.Files[i].Path < c.Files[j].Path })
	b, err := json.MarshalIndent(&c, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode manifest: %w", err)
	}
	return append(b, '\n'), nil
}

// checkPayloadPath refuses paths that could leave the payload directory or
// that mean different files on different systems.
func checkPayloadPath(p string) error {
	if p == "" || len(p) > 255 || strings.HasPrefix(p, "/") || strings.Contains(p, "\\") ||
		strings.ContainsRune(p, 0) || path.Clean(p) != p || p == "." || p == ".." || strings.HasPrefix(p, "../") {
		return invalid("manifest: file path %q is not a clean relative path", p)
	}
	return nil
}

func invalid(format string, args ...any) error {
	return exitcode.New(exitcode.ImageInvalid, format, args...)
}
