package medium

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"testing"

	"github.com/onramp-os/onramp/images"
	"github.com/onramp-os/onramp/internal/testutil"
)

// fixture is a signed payload directory and the key that signed it.
type fixture struct {
	dir, pubFile string
	keys         []ed25519.PublicKey
	files        map[string][]byte
}

// samplePayload writes a small payload (a dummy boot loader, kernel and
// initrd) and signs it for variant.
func samplePayload(t *testing.T, variant string) fixture {
	t.Helper()
	root := t.TempDir()
	f := fixture{dir: filepath.Join(root, "payload"), files: map[string][]byte{
		images.KernelName:        bytes.Repeat([]byte("kernel"), 200_000),
		images.InitrdName:        bytes.Repeat([]byte("initrd"), 300_000),
		images.SystemName:        bytes.Repeat([]byte("squashfs"), 100_000),
		efiBootLoader:            []byte("MZ dummy shim"),
		efiGRUB:                  []byte("MZ dummy GRUB"),
		"efi/EFI/BOOT/mmx64.efi": []byte("MZ dummy MokManager"),
		"eula/en.txt":            []byte("You agree."),
	}}
	for name, content := range f.files {
		p := filepath.Join(f.dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, content, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	prefix := filepath.Join(root, "key")
	pub, err := images.GenerateKey(prefix)
	if err != nil {
		t.Fatal(err)
	}
	priv, err := images.LoadPrivateKey(prefix + ".key")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := images.SignPayload(f.dir, priv, images.SignOptions{OSName: "Onramp OS", Version: "12.5.0", Variant: variant}); err != nil {
		t.Fatal(err)
	}
	f.pubFile, f.keys = prefix+".pub", []ed25519.PublicKey{pub}
	return f
}

// build opens and verifies the fixture's payload, as osc image build does,
// and builds the medium.
func (f fixture) build(t *testing.T, out string, opt Options) (*Result, error) {
	t.Helper()
	p, err := images.OpenPayload(f.dir)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	opt.Verify = images.VerifyOptions{Keys: f.keys}
	if err := p.Verify(context.Background(), opt.Verify); err != nil {
		t.Fatal(err)
	}
	return Build(context.Background(), p, out, opt)
}

func requireBuildTools(t *testing.T) {
	t.Helper()
	testutil.RequireTools(t, "mkfs.fat", "mcopy", "xorriso", "fdisk", "sgdisk", "fsck.fat")
}

// extract copies path from the ISO with xorriso, an independent reader.
func extract(t *testing.T, iso, path string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), filepath.Base(path))
	testutil.Run(t, "xorriso", "-osirrox", "on", "-indev", iso, "-extract", path, dst)
	return dst
}

// elTorito is what xorriso reports about one boot image.
type elTorito struct {
	platform, path, opts string
	lba                  int64
}

var (
	etImg  = regexp.MustCompile(`(?m)^El Torito boot img :\s+(\d+)\s+(\S+)\s+y\s+none\s+0x0000\s+0x00\s+\d+\s+(\d+)$`)
	etPath = regexp.MustCompile(`(?m)^El Torito img path :\s+(\d+)\s+(\S+)$`)
	etOpts = regexp.MustCompile(`(?m)^El Torito img opts :\s+(\d+)\s+(.+)$`)
)

// xorrisoBoot runs xorriso -report_el_torito plain and parses its boot images.
func xorrisoBoot(t *testing.T, iso string) (map[string]elTorito, string) {
	t.Helper()
	out := testutil.Run(t, "xorriso", "-indev", iso, "-report_el_torito", "plain", "-report_system_area", "plain")
	byN := map[string]*elTorito{}
	for _, m := range etImg.FindAllStringSubmatch(out, -1) {
		lba, _ := strconv.ParseInt(m[3], 10, 64)
		byN[m[1]] = &elTorito{platform: m[2], lba: lba}
	}
	for _, m := range etPath.FindAllStringSubmatch(out, -1) {
		if e := byN[m[1]]; e != nil {
			e.path = m[2]
		}
	}
	for _, m := range etOpts.FindAllStringSubmatch(out, -1) {
		if e := byN[m[1]]; e != nil {
			e.opts = m[2]
		}
	}
	res := map[string]elTorito{}
	for _, e := range byN {
		res[e.platform] = *e
	}
	return res, out
}

// fdiskParts runs fdisk -l (as label type, "" for its own choice) and
// returns the partition lines by type name, as start and sector count.
func fdiskParts(t *testing.T, iso, label string) (map[string][2]int64, string) {
	t.Helper()
	args := []string{"-l", "-o", "Device,Start,Sectors,Type"}
	if label != "" {
		args = append(args, "-t", label)
	}
	out := testutil.Run(t, "fdisk", append(args, iso)...)
	parts := map[string][2]int64{}
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(iso) + `\d+\s+(\d+)\s+(\d+)\s+(.+?)\s*$`)
	for _, m := range re.FindAllStringSubmatch(out, -1) {
		start, _ := strconv.ParseInt(m[1], 10, 64)
		n, _ := strconv.ParseInt(m[2], 10, 64)
		parts[m[3]] = [2]int64{start, n}
	}
	return parts, out
}

// runOsc runs the osc binary and returns its exit code and output.
func runOsc(t *testing.T, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(testutil.Binary(t, "osc"), args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode(), string(out)
		}
		t.Fatal(err)
	}
	return 0, string(out)
}

// leftovers lists what is in dir besides the names given.
func leftovers(t *testing.T, dir string, except ...string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if !slices.Contains(except, e.Name()) {
			names = append(names, e.Name())
		}
	}
	return names
}

// volumeBlocksOf reads the ISO 9660 volume size of iso in 2048-byte blocks.
func volumeBlocksOf(t *testing.T, iso string) int64 {
	t.Helper()
	f, err := os.Open(iso)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n, err := volumeBlocks(f)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
