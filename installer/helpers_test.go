//go:build linux

package installer

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/onramp-os/onramp/images"
	"github.com/onramp-os/onramp/internal/testutil"
)

const testSlot = 64 << 20

// testPayload builds, signs and verifies a payload with a system image of
// sysSize random bytes.
func testPayload(t testing.TB, sysSize int) *images.Payload {
	t.Helper()
	return testPayloadWith(t, sysSize, nil, images.SignOptions{})
}

// testPayloadWith is testPayload with extra files (or replacements) and
// sign options (OS name, version, sizes default to the test's).
func testPayloadWith(t testing.TB, sysSize int, extra map[string][]byte, opt images.SignOptions) *images.Payload {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, "onramp")
	sys := make([]byte, sysSize)
	r := rand.New(rand.NewPCG(uint64(sysSize), 1))
	for i := range sys {
		sys[i] = byte(r.Uint32())
	}
	files := map[string][]byte{
		images.KernelName:          bytes.Repeat([]byte("kernel"), 100000),
		images.InitrdName:          bytes.Repeat([]byte("initrd"), 200000),
		images.SystemName:          sys,
		"efi/EFI/BOOT/BOOTX64.EFI": bytes.Repeat([]byte("MZ"), 50000),
		"eula/en.txt":              []byte("You agree."),
	}
	maps.Copy(files, extra)
	for name, content := range files {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, content, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	pub, err := images.GenerateKey(filepath.Join(root, "k"))
	if err != nil {
		t.Fatal(err)
	}
	priv, err := images.LoadPrivateKey(filepath.Join(root, "k.key"))
	if err != nil {
		t.Fatal(err)
	}
	opt.OSName, opt.Version, opt.MinTargetSize, opt.SlotSize = "Onramp OS", "12.1.0", 1<<30, testSlot
	if _, err := images.SignPayload(dir, priv, opt); err != nil {
		t.Fatal(err)
	}
	p, err := images.OpenPayload(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Verify(context.Background(), images.VerifyOptions{Keys: []ed25519.PublicKey{pub}}); err != nil {
		t.Fatal(err)
	}
	return p
}

func sparseFile(t testing.TB, size int64) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "disk.img")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := os.Truncate(p, size); err != nil {
		t.Fatal(err)
	}
	return p
}

// install runs Prepare and Install with a backup directory of its own.
func install(t testing.TB, target string, p *images.Payload, settings, licenses Mode) (*Result, error) {
	t.Helper()
	return installWith(t, target, Options{Payload: p, MigrateSettings: settings, MigrateLicenses: licenses})
}

// installWith is install with more options (opt.Payload set); the backup
// directory is the test's own.
func installWith(t testing.TB, target string, opt Options) (*Result, error) {
	t.Helper()
	tg, err := CheckTarget(target, opt.Payload.Origin)
	if err != nil {
		return nil, err
	}
	defer tg.Close()
	opt.BackupDir = filepath.Join(t.TempDir(), "backups")
	plan, err := Prepare(tg, opt)
	if err != nil {
		return nil, err
	}
	return Install(context.Background(), tg, plan, opt)
}

// restoreBackup puts the backup at path back onto img (osc restore).
func restoreBackup(t testing.TB, img string, p *images.Payload, path string) {
	t.Helper()
	b, err := ReadBackup(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	tg, err := CheckTarget(img, p.Origin)
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	if _, err := Restore(context.Background(), tg, b, Options{}); err != nil {
		t.Fatal(err)
	}
}

// partLoop attaches part of img to a loop device of its own (read-write).
func partLoop(t testing.TB, img string, p Part) string {
	t.Helper()
	return testutil.LoopDevice(t, img, "--offset", strconv.FormatInt(p.Start, 10), "--sizelimit", strconv.FormatInt(p.Size, 10))
}

// judge runs an independent checker and fails with its output.
func judge(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	t.Logf("%s %s:\n%s", name, strings.Join(args, " "), out)
	return string(out)
}

func sha256Range(t testing.TB, path string, off, n int64) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, n)
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// writeDataFiles mounts DATA with the kernel and writes files into it.
func writeDataFiles(t testing.TB, img string, data Part, files map[string]string) {
	t.Helper()
	dir := testutil.Mount(t, partLoop(t, img, data))
	for name, content := range files {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	testutil.Run(t, "umount", dir)
}

// readDataFiles mounts DATA with the kernel and reads settings/ and licenses/.
func readDataFiles(t testing.TB, img string, data Part) map[string]string {
	t.Helper()
	dir := testutil.Mount(t, partLoop(t, img, data))
	defer exec.Command("umount", dir).Run()
	out := map[string]string{}
	for _, sub := range []string{"settings", "licenses", "apps"} {
		if _, err := os.Stat(filepath.Join(dir, sub)); err != nil {
			t.Errorf("DATA has no /%s: %v", sub, err)
		}
	}
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			rel, _ := filepath.Rel(dir, p)
			b, _ := os.ReadFile(p)
			out[rel] = string(b)
		}
		return nil
	})
	return out
}

// allocated is the disk space a file really takes.
func allocated(t testing.TB, path string) int64 {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st.Blocks * 512
}

func runInput(stdin, name string, args ...string) ([]byte, error) {
	cmd := exec.Command(name, args...)
	cmd.Stdin = strings.NewReader(stdin)
	return cmd.CombinedOutput()
}
