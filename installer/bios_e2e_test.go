package installer

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/onramp-os/onramp/images"
	"github.com/onramp-os/onramp/internal/testutil"
)

// TestBIOSBootInQEMU installs a legacy payload carrying Debian's GRUB
// (grub-pc-bin; core.img made with grub-common's grub-mkimage, both
// fetched with apt-get download and unpacked with dpkg -x, nothing
// installed) and Debian's kernel onto an image file, then boots it in QEMU
// with SeaBIOS and no -kernel: the MBR code loads core.img from
// ONRAMP-BIOS, GRUB reads grub/grub.cfg from the ESP and loads slot A's
// kernel, which must announce itself on the serial console. The packages
// are cached in build/bios-e2e. Needs ONRAMP_E2E_INSTALL=1 (make test-e2e).
func TestBIOSBootInQEMU(t *testing.T) {
	if os.Getenv("ONRAMP_E2E_INSTALL") != "1" {
		t.Skip("boots the installed disk in QEMU; set ONRAMP_E2E_INSTALL=1 (make test-e2e)")
	}
	testutil.RequireRoot(t)
	testutil.RequireTools(t, "qemu-system-x86_64", "apt-get", "apt-cache", "dpkg", "bash")
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(repo, "build", "bios-e2e")
	fetch := exec.Command("bash", "-c", `set -euo pipefail; . scripts/lib/debian-guest.sh
k=$(debian_kernel_pkg); debian_fetch "$1" grub-pc-bin grub-common "$k"; echo "${k#linux-image-}"`, "fetch", out)
	fetch.Dir, fetch.Stderr = repo, os.Stderr
	kver, err := fetch.Output()
	if err != nil {
		t.Fatalf("fetch GRUB and the kernel: %v", err)
	}
	stage := filepath.Join(out, "stage")
	grubDir := filepath.Join(stage, "usr/lib/grub/i386-pc")
	core := filepath.Join(t.TempDir(), "core.img")
	testutil.Run(t, filepath.Join(stage, "usr/bin/grub-mkimage"), "-d", grubDir, "-O", "i386-pc", "-o", core,
		"-p", "(hd0,gpt1)/grub", "biosdisk", "part_gpt", "fat", "normal", "linux", "configfile", "search")
	read := func(p string) []byte {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	p := testPayloadWith(t, 1<<20, map[string][]byte{
		images.KernelName: read(filepath.Join(stage, "boot", "vmlinuz-"+strings.TrimSpace(string(kver)))),
		images.InitrdName: emptyCPIO(),
		BIOSBootImage:     read(filepath.Join(grubDir, "boot.img")),
		BIOSCoreImage:     read(core),
	}, images.SignOptions{Variant: "legacy", KernelOptions: "console=ttyS0,115200 panic=-1"})
	img := sparseFile(t, 2<<30)
	if _, err := install(t, img, p, Auto, Auto); err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	qemu := exec.CommandContext(ctx, "qemu-system-x86_64", "-machine", "pc", "-m", "512", "-display", "none",
		"-monitor", "none", "-serial", "stdio", "-no-reboot", "-nic", "none",
		"-drive", "file="+img+",format=raw,if=ide")
	stdout, err := qemu.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := qemu.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { qemu.Process.Kill(); qemu.Wait() }()
	// The kernel's first lines: its version, then the command line GRUB
	// gave it, which must be slot A's entry.
	want := "Command line: BOOT_IMAGE=/onramp/a/vmlinuz " + slotOptions(p.Manifest, "a")
	sc := bufio.NewScanner(stdout)
	var seen []string
	for sc.Scan() {
		line := sc.Text()
		seen = append(seen, line)
		if strings.Contains(line, "Command line:") {
			if !strings.Contains(line, want) {
				t.Fatalf("the kernel started with %q, want %q", line, want)
			}
			t.Logf("GRUB started slot A's kernel from the installed disk after %v:\n%s", time.Since(start).Round(time.Second), strings.Join(seen, "\n"))
			return
		}
	}
	t.Fatalf("no kernel on the serial console (%v):\n%s", ctx.Err(), strings.Join(seen, "\n"))
}

// emptyCPIO is an initramfs with nothing in it (newc, the trailer only):
// the kernel starts and finds no init, which is all the boot test needs.
func emptyCPIO() []byte {
	const name = "TRAILER!!!\x00"
	h := "070701" + strings.Repeat("00000000", 4) + "00000001" + strings.Repeat("00000000", 6) +
		"0000000B" + "00000000"
	b := []byte(h + name)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	for len(b)%512 != 0 {
		b = append(b, 0)
	}
	return b
}
