//go:build linux

package main

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/onramp-os/onramp/internal/testutil"
	"github.com/onramp-os/onramp/settings"
)

// TestInstallKilled reinstalls over an installation holding settings and
// licenses and kills the osc process (SIGKILL) while it writes SYS-A, while
// it verifies, just before it writes the partition table and half-way
// through it, after both GPT copies and before the protective MBR (the
// installer pauses there when ONRAMP_TEST_PAUSE_AT names the phase).
// Afterwards the disk must not boot (no protective MBR; before the table
// write no GPT either), the backup must exist and osc restore must bring
// back byte-identical settings (those the real setup assistant wrote) and
// licenses.
func TestInstallKilled(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.RequireTools(t, "partx", "mount", "umount", "mkfs.ext4")
	osc := testutil.Binary(t, "osc")
	dir, pub := signedPayloadSize(t, 10<<20) // three chunks: a kill lands mid-write
	root := testutil.SetupRoot(t, "answers-otp-hidden-wlan.yaml")
	licenses := map[string][]byte{
		"licenses/1.lic": []byte("L1"),
		"licenses/2.lic": bytes.Repeat([]byte{0, 1, 2, 250}, 10000),
	}
	img := filepath.Join(t.TempDir(), "disk.img")
	os.WriteFile(img, nil, 0o644)
	os.Truncate(img, 3<<30)
	loop := testutil.LoopDevice(t, img, "--partscan")
	for _, phase := range []string{"write", "verify", "table", "table-mbr"} {
		t.Run(phase, func(t *testing.T) {
			base := []string{"--yes", "--trust-key", pub, "--source", dir, "--target", loop}
			if r := run(t, context.Background(), "", append([]string{"install", "--accept-eula", "--backup-dir", t.TempDir()}, base...)...); r.code != 0 {
				t.Fatalf("install: exit %d\n%s", r.code, r.stderr)
			}
			data := testutil.Mount(t, loopPart(t, loop, "5"))
			want := saveDeviceSettings(t, root, data)
			for name, b := range licenses {
				if err := os.WriteFile(filepath.Join(data, name), b, 0o600); err != nil {
					t.Fatal(err)
				}
				want[name] = b
			}
			testutil.Run(t, "umount", data)

			backups := t.TempDir()
			marker := filepath.Join(t.TempDir(), "paused")
			cmd := exec.Command(osc, append([]string{"install", "--accept-eula", "--backup-dir", backups}, base...)...)
			cmd.Env = append(os.Environ(), "ONRAMP_TEST_PAUSE_AT="+phase, "ONRAMP_TEST_PAUSE_FILE="+marker)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			if !testutil.WaitFor(60*time.Second, func() bool { _, err := os.Stat(marker); return err == nil }) {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("osc never reached %s:\n%s", phase, stderr.String())
			}
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			cmd.Wait()

			assertNoBoot(t, loop, phase != "table-mbr")
			tars, _ := filepath.Glob(backups + "/*.tar")
			if len(tars) != 1 {
				t.Fatalf("backups after kill -9 at %s: %v\n%s", phase, tars, stderr.String())
			}
			r := run(t, context.Background(), "", append([]string{"restore", "--backup", tars[0]}, base[1:]...)...)
			if r.code != 0 {
				t.Fatalf("restore: exit %d\n%s", r.code, r.stderr)
			}
			data = testutil.Mount(t, loopPart(t, loop, "5"))
			for name, b := range want {
				if got, err := os.ReadFile(filepath.Join(data, name)); err != nil || !bytes.Equal(got, b) {
					t.Errorf("%s after restore: %d bytes, %v; want %d identical bytes", name, len(got), err, len(b))
				}
			}
			testutil.Run(t, "umount", data)
		})
	}
}

// assertNoBoot fails unless dev holds no protective MBR (firmware and
// kernel look for it before reading a GPT) and, with noGPT, no GPT header
// at either end nor an ONRAMP partition label: nothing would boot it.
func assertNoBoot(t *testing.T, dev string, noGPT bool) {
	t.Helper()
	f, err := os.Open(dev)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	size, _ := f.Seek(0, 2)
	head := make([]byte, 2*4096)
	tail := make([]byte, 4096)
	if _, err := f.ReadAt(head, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := f.ReadAt(tail, size-int64(len(tail))); err != nil {
		t.Fatal(err)
	}
	if head[510] == 0x55 && head[511] == 0xaa || head[450] == 0xee {
		t.Error("a protective MBR survived the kill")
	}
	if !noGPT {
		if !bytes.Contains(head, []byte("EFI PART")) {
			t.Error("no GPT header: the kill was not half-way through the table write")
		}
		return
	}
	if bytes.Contains(head, []byte("EFI PART")) || bytes.Contains(tail, []byte("EFI PART")) {
		t.Error("a GPT header survived the kill")
	}
	if bytes.Contains(head, []byte(strings.Join(strings.Split("ONRAMP", ""), "\x00"))) {
		t.Error("ONRAMP partition labels survived the kill")
	}
}

// loopPart returns partition n of a loop device, adding the partitions
// with partx when the kernel did not (it has no GPT parser here).
func loopPart(t *testing.T, loop, n string) string {
	t.Helper()
	p := loop + "p" + n
	if _, err := os.Stat(p); err != nil {
		testutil.Run(t, "partx", "-a", loop)
	}
	if !testutil.WaitFor(3*time.Second, func() bool { _, err := os.Stat(p); return err == nil }) {
		t.Fatalf("%s did not appear", p)
	}
	return p
}

// saveDeviceSettings saves the settings of root (a root the setup assistant
// configured) into the mounted DATA at data as the installed system does,
// and returns their content by DATA path ("settings/etc/locale.conf").
func saveDeviceSettings(t *testing.T, root, data string) map[string][]byte {
	t.Helper()
	if _, err := settings.Save(root, data); err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	filepath.WalkDir(filepath.Join(data, settings.Dir), func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			rel, _ := filepath.Rel(data, p)
			out[rel], _ = os.ReadFile(p)
		}
		return nil
	})
	if len(out) < 10 {
		t.Fatalf("saved settings: %v", out)
	}
	return out
}
