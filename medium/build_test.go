package medium

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onramp-os/onramp/images"
	"github.com/onramp-os/onramp/internal/exitcode"
	"github.com/onramp-os/onramp/internal/grubcfg"
	"github.com/onramp-os/onramp/internal/testutil"
)

// checkHybrid judges the boot records and partition tables of iso with
// xorriso, fdisk and sgdisk, and returns the EFI image's El Torito entry.
func checkHybrid(t *testing.T, iso string, legacy bool) (efi, bios elTorito) {
	t.Helper()
	boot, report := xorrisoBoot(t, iso)
	efi, bios = boot["UEFI"], boot["BIOS"]
	if efi.path != "/"+efiImagePath {
		t.Errorf("xorriso finds no UEFI boot image /%s:\n%s", efiImagePath, report)
	}
	if _, ok := boot["BIOS"]; ok != legacy {
		t.Errorf("BIOS boot image present: %v, want %v:\n%s", ok, legacy, report)
	}
	if legacy && (bios.path != "/isolinux/isolinux.bin" || !strings.Contains(bios.opts, "boot-info-table") || !strings.Contains(bios.opts, "isohybrid-suitable")) {
		t.Errorf("BIOS boot image %+v, want /isolinux/isolinux.bin with boot-info-table, isohybrid-suitable:\n%s", bios, report)
	}
	if !strings.Contains(report, "GPT") {
		t.Errorf("xorriso finds no GPT:\n%s", report)
	}
	efiImg, err := os.Stat(extract(t, iso, "/"+efiImagePath))
	if err != nil {
		t.Fatal(err)
	}

	gpt, out := fdiskParts(t, iso, "")
	if !strings.Contains(out, "Disklabel type: gpt") {
		t.Errorf("fdisk sees no GPT:\n%s", out)
	}
	want := [2]int64{efi.lba * 4, efiImg.Size() / 512}
	if gpt["EFI System"] != want {
		t.Errorf("GPT EFI System partition %v, want the EFI image at %v:\n%s", gpt["EFI System"], want, out)
	}
	mbr, out := fdiskParts(t, iso, "dos")
	if mbr["EFI (FAT-12/16/32)"] != want || mbr["GPT"][0] != 1 {
		t.Errorf("hybrid MBR: %v, want 0xEE from sector 1 and 0xEF at %v:\n%s", mbr, want, out)
	}
	if !strings.Contains(out, "*") {
		t.Errorf("hybrid MBR has no active partition:\n%s", out)
	}
	if out := testutil.Run(t, "sgdisk", "-v", iso); !strings.Contains(out, "No problems found") {
		t.Errorf("sgdisk -v:\n%s", out)
	}
	fi, err := os.Stat(iso)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size()%(1<<20) != 0 {
		t.Errorf("ISO is %d bytes, not whole MiB", fi.Size())
	}
	return efi, bios
}

// checkEFIImage judges the FAT image with fsck.fat and reads its files.
func checkEFIImage(t *testing.T, iso string, f fixture) {
	t.Helper()
	img := extract(t, iso, "/"+efiImagePath)
	testutil.Run(t, "fsck.fat", "-n", img)
	t.Setenv("MTOOLS_SKIP_CHECK", "1")
	read := func(name string) []byte {
		dst := filepath.Join(t.TempDir(), "f")
		testutil.Run(t, "mcopy", "-n", "-i", img, "::/"+name, dst)
		b, err := os.ReadFile(dst)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for name, want := range map[string][]byte{
		"EFI/BOOT/BOOTX64.EFI": f.files[efiBootLoader],
		"EFI/BOOT/grubx64.efi": f.files[efiGRUB],
		"EFI/BOOT/mmx64.efi":   f.files["efi/EFI/BOOT/mmx64.efi"],
		"onramp/vmlinuz":       f.files[images.KernelName],
		"onramp/initrd.img":    f.files[images.InitrdName],
	} {
		if !bytes.Equal(read(name), want) {
			t.Errorf("EFI image: %s differs from the payload's", name)
		}
	}
	cfg := string(read(grubcfg.EFIConfig))
	if !strings.Contains(cfg, "set default=0\nset timeout=5\n") {
		t.Errorf("grub.cfg: no 5 s default:\n%s", cfg)
	}
	last := 0
	for _, e := range []struct{ id, title, opts string }{
		{"standard", "Standard Installation + Recovery", "quiet"},
		{"verbose", "Verbose Installation + Recovery", "loglevel=7 osc.verbose=1"},
		{"failsafe", "Failsafe Installation + Recovery", "nomodeset noapic osc.failsafe=1"},
	} {
		want := "menuentry '" + e.title + "' --id '" + e.id + "' {\n\tlinux /onramp/vmlinuz osc.mode=install console=tty0 console=ttyS0,115200 " +
			e.opts + "\n\tinitrd /onramp/initrd.img\n}\n"
		i := strings.Index(cfg, want)
		if i < last {
			t.Errorf("grub.cfg lacks %q in menu order:\n%s", want, cfg)
		}
		last = i
	}
	// The same menu on the ISO 9660 side, where GRUB reads when started
	// from an optical drive.
	if iso9660Cfg, err := os.ReadFile(extract(t, iso, "/"+grubcfg.EFIConfig)); err != nil || string(iso9660Cfg) != cfg {
		t.Errorf("ISO 9660 %s differs from the EFI image's (%v):\n%s", grubcfg.EFIConfig, err, iso9660Cfg)
	}
}

// checkPayloadCopy compares onramp/ on the ISO with the payload directory
// (xorriso extracts, diff compares) and verifies it as osc install does.
func checkPayloadCopy(t *testing.T, iso string, f fixture) {
	t.Helper()
	testutil.Run(t, "diff", "-r", f.dir, extract(t, iso, "/onramp"))
	p, err := images.OpenPayload(iso)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.Verify(context.Background(), images.VerifyOptions{Keys: f.keys}); err != nil {
		t.Errorf("payload on the ISO: %v", err)
	}
	r, err := os.Open(iso)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if label, _ := images.ISOLabel(r); label != "OSC_12_5_0" {
		t.Errorf("volume label %q, want OSC_12_5_0", label)
	}
}

func TestBuildStandard(t *testing.T) {
	requireBuildTools(t)
	f := samplePayload(t, Standard)
	dir := t.TempDir()
	iso := filepath.Join(dir, "osc-12.5.0.iso")
	res, err := f.build(t, iso, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Label != "OSC_12_5_0" || res.Variant != Standard || res.Path != iso {
		t.Errorf("result %+v", res)
	}
	checkHybrid(t, iso, false)
	checkEFIImage(t, iso, f)
	checkPayloadCopy(t, iso, f)
	b, err := os.ReadFile(iso)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b[:len(uefiOnlyMBR)], uefiOnlyMBR) || b[510] != 0x55 || b[511] != 0xaa {
		t.Error("MBR boot code is not the UEFI-only notice")
	}
	if fi, _ := os.Stat(iso); fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", fi.Mode().Perm())
	}
	if left := leftovers(t, dir, filepath.Base(iso), filepath.Base(iso)+".bmap"); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
	// Built again over itself: replaced whole.
	if _, err := f.build(t, iso, Options{}); err != nil {
		t.Fatal(err)
	}
	checkPayloadCopy(t, iso, f)
}

// TestBuildBackupPartition: the writable OSC-BACKUP partition after the ISO
// is in the GPT, MiB-aligned, holds a FAT32 file system that fsck.fat and
// mtools accept, and the tables stay sgdisk-clean.
func TestBuildBackupPartition(t *testing.T) {
	requireBuildTools(t)
	testutil.RequireTools(t, "partx", "minfo")
	f := samplePayload(t, Standard)
	iso := filepath.Join(t.TempDir(), "osc.iso")
	res, err := f.build(t, iso, Options{BackupSize: DefaultBackupSize})
	if err != nil {
		t.Fatal(err)
	}
	if res.BackupSize != DefaultBackupSize {
		t.Errorf("result %+v", res)
	}
	checkHybrid(t, iso, false)
	checkPayloadCopy(t, iso, f)
	out := testutil.Run(t, "partx", "-g", "-o", "NR,START,SECTORS,NAME", iso)
	var nr, start, sectors int64
	for _, line := range strings.Split(out, "\n") {
		var name string
		if n, _ := fmt.Sscan(line, &nr, &start, &sectors, &name); n == 4 && name == "OSC-BACKUP" {
			break
		}
		nr = 0
	}
	if nr != 4 || start%2048 != 0 || sectors != DefaultBackupSize/512 {
		t.Fatalf("no 64 MiB, MiB-aligned OSC-BACKUP partition 4:\n%s", out)
	}
	if blocks := volumeBlocksOf(t, iso); start*512 < blocks*2048 {
		t.Errorf("OSC-BACKUP starts at %d, inside the ISO volume (%d bytes)", start*512, blocks*2048)
	}
	checkBackupBmap(t, iso, res, start*512, sectors*512)
	part := filepath.Join(t.TempDir(), "backup.img")
	testutil.Run(t, "dd", "if="+iso, "of="+part, "bs=512", fmt.Sprintf("skip=%d", start), fmt.Sprintf("count=%d", sectors), "status=none")
	testutil.Run(t, "fsck.fat", "-n", part)
	t.Setenv("MTOOLS_SKIP_CHECK", "1")
	if info := testutil.Run(t, "minfo", "-i", part, "::"); !strings.Contains(info, "FAT32") && !strings.Contains(info, "fat32") {
		t.Errorf("mtools does not see FAT32:\n%s", info)
	}
}

// checkBackupBmap: the ISO's bmap maps the payload and the backup
// partition's metadata but not its empty data area, and bmaptool copy with
// it writes the ISO exactly.
func checkBackupBmap(t *testing.T, iso string, res *Result, start, size int64) {
	t.Helper()
	testutil.RequireTools(t, "bmaptool", "cmp")
	b, err := images.LoadBmap(iso + ".bmap")
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(iso); b.ImageSize != fi.Size() || b.MappedBlocks != res.Bmap.MappedBlocks {
		t.Fatalf("bmap: ImageSize %d, %d blocks mapped; result %+v", b.ImageSize, b.MappedBlocks, res.Bmap)
	}
	var inPart int64
	for _, r := range b.Ranges {
		s, e := r.First*b.BlockSize, (r.Last+1)*b.BlockSize
		inPart += max(0, min(e, start+size)-max(s, start))
	}
	if inPart == 0 || inPart > 64<<10 {
		t.Errorf("bmap maps %d bytes of the %d-byte backup partition; want its boot sectors and FAT starts only", inPart, size)
	}
	if b.MappedBytes() > start+inPart+(64<<10) { // the ISO, the partition's metadata, the backup GPT
		t.Errorf("bmap maps %d of %d bytes; the partition starts at %d", b.MappedBytes(), b.ImageSize, start)
	}
	out := filepath.Join(t.TempDir(), "stick.img")
	testutil.Run(t, "bmaptool", "copy", iso, out)
	testutil.Run(t, "cmp", iso, out)
}

func TestBuildLegacy(t *testing.T) {
	requireBuildTools(t)
	for _, d := range DefaultSyslinuxDirs {
		if _, err := os.Stat(d); err != nil {
			testutil.Skip(t, "ISOLINUX not installed (scripts/deps.sh installs isolinux and syslinux-common)")
		}
	}
	f := samplePayload(t, Legacy)
	dir := t.TempDir()
	answers := filepath.Join(t.TempDir(), "answers.yaml")
	memtest := filepath.Join(t.TempDir(), "memtest86+x64.bin")
	os.WriteFile(answers, []byte("target: auto\naccept_eula: true\nafter: poweroff\n"), 0o644)
	os.WriteFile(memtest, []byte("memtest kernel"), 0o644)
	iso := filepath.Join(dir, "osc-12.5.0_legacy.iso")
	res, err := f.build(t, iso, Options{Variant: Legacy, Answers: answers, Memtest: memtest})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Memtest || res.Variant != Legacy {
		t.Errorf("result %+v", res)
	}
	// The answers may hold a one-time password: readable by root only on
	// the medium, whatever mode the file had.
	if out := testutil.Run(t, "xorriso", "-indev", iso, "-find", "/autoinstall.yaml", "-exec", "lsdl"); !strings.Contains(out, "-rw-------") {
		t.Errorf("/autoinstall.yaml on the medium: %s, want -rw-------", out)
	}
	_, bios := checkHybrid(t, iso, true)
	checkEFIImage(t, iso, f)
	checkPayloadCopy(t, iso, f)

	// The MBR is isohdpfx.bin with isolinux.bin's 512-byte LBA at 432.
	b, err := os.ReadFile(iso)
	if err != nil {
		t.Fatal(err)
	}
	code, err := os.ReadFile(filepath.Join(DefaultSyslinuxDirs[0], isohybridMBR))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b[:mbrCodeSize], code) {
		t.Error("MBR boot code is not isohdpfx.bin")
	}
	if got := binary.LittleEndian.Uint64(b[432:]); got != uint64(bios.lba*4) {
		t.Errorf("MBR: isolinux.bin at sector %d, xorriso says %d", got, bios.lba*4)
	}

	cfg, err := os.ReadFile(extract(t, iso, "/isolinux/isolinux.cfg"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"DEFAULT standard\n",
		"MENU LABEL Standard Installation + Recovery\n  LINUX /onramp/vmlinuz\n  INITRD /onramp/initrd.img\n  APPEND osc.mode=install console=tty0 console=ttyS0,115200 quiet\n",
		"MENU LABEL Verbose Installation + Recovery\n", "APPEND osc.mode=install console=tty0 console=ttyS0,115200 loglevel=7 osc.verbose=1\n",
		"MENU LABEL Failsafe Installation + Recovery\n", "APPEND osc.mode=install console=tty0 console=ttyS0,115200 nomodeset noapic osc.failsafe=1\n",
		"MENU LABEL Memory Test\n  LINUX /isolinux/memtest\n  APPEND console=ttyS0,115200\n",
	} {
		if !strings.Contains(string(cfg), want) {
			t.Errorf("isolinux.cfg lacks %q:\n%s", want, cfg)
		}
	}
	for path, src := range map[string]string{"/autoinstall.yaml": answers, "/isolinux/memtest": memtest,
		"/isolinux/ldlinux.c32": filepath.Join(DefaultSyslinuxDirs[1], "ldlinux.c32")} {
		testutil.Run(t, "cmp", src, extract(t, iso, path))
	}
	if fi, _ := os.Stat(iso); fi.Mode().Perm() != 0o600 {
		t.Errorf("with answers: mode %v, want 0600", fi.Mode().Perm())
	}
}

func TestBuildRefuses(t *testing.T) {
	f := samplePayload(t, Standard)
	empty := t.TempDir()
	for name, tc := range map[string]struct {
		out  string
		opt  Options
		kind exitcode.Kind
		msg  string
	}{
		"variant mismatch":   {opt: Options{Variant: Legacy}, kind: exitcode.Usage, msg: "payload"},
		"unknown variant":    {opt: Options{Variant: "bios"}, kind: exitcode.Usage, msg: `"bios"`},
		"memtest, standard":  {opt: Options{Memtest: "/dev/null"}, kind: exitcode.Usage, msg: "--memtest"},
		"syslinux, standard": {opt: Options{SyslinuxDirs: []string{empty}}, kind: exitcode.Usage, msg: "--syslinux"},
		"answers missing":    {opt: Options{Answers: filepath.Join(empty, "nope")}, kind: exitcode.Usage, msg: "--answers"},
		"answers, no EULA":   {opt: Options{Answers: writeTemp(t, "target: auto\naccept_eula: false\n")}, kind: exitcode.Usage, msg: "accept_eula (line 2)"},
		"answers, EULA left": {opt: Options{Answers: writeTemp(t, "target: auto\n")}, kind: exitcode.Usage, msg: "accept_eula: required"},
		"answers, bad key":   {opt: Options{Answers: writeTemp(t, "target: auto\naccept_eula: true\ntargte: x\n")}, kind: exitcode.Usage, msg: "targte (line 3): unknown key"},
		"answers, bad rule": {opt: Options{Answers: writeTemp(t, "accept_eula: true\ntarget:\n  bus: sata\n  min_size: 64G\n  max_size: 32G\n")}, kind: exitcode.Usage,
			msg: "target.max_size (line 5): 34.4 GB is below min_size 68.7 GB"},
		"out is a directory": {out: empty, kind: exitcode.Usage, msg: "--out"},
		"backup too small":   {opt: Options{BackupSize: 8 << 20}, kind: exitcode.Usage, msg: "--backup-mib"},
		"backup not in MiB":  {opt: Options{BackupSize: 64<<20 + 512}, kind: exitcode.Usage, msg: "--backup-mib"},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			out := tc.out
			if out == "" {
				out = filepath.Join(dir, "x.iso")
			}
			_, err := f.build(t, out, tc.opt)
			if exitcode.KindOf(err) != tc.kind || err == nil || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("err %v (kind %v), want %v naming %s", err, exitcode.KindOf(err), tc.kind, tc.msg)
			}
			if left := leftovers(t, dir); len(left) > 0 {
				t.Errorf("left behind: %v", left)
			}
		})
	}
	t.Run("no ISOLINUX", func(t *testing.T) {
		l := samplePayload(t, Legacy)
		_, err := l.build(t, filepath.Join(t.TempDir(), "x.iso"), Options{SyslinuxDirs: []string{empty}})
		if exitcode.KindOf(err) != exitcode.Usage || !strings.Contains(err.Error(), "isolinux.bin") {
			t.Errorf("err %v", err)
		}
	})
}

// TestBuildPayloadChangedAfterVerify: a file altered between the caller's
// Verify and the copy is caught by the checked read; nothing is left.
func TestBuildPayloadChangedAfterVerify(t *testing.T) {
	requireBuildTools(t)
	f := samplePayload(t, Standard)
	p, err := images.OpenPayload(f.dir)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	opt := Options{Verify: images.VerifyOptions{Keys: f.keys}}
	if err := p.Verify(context.Background(), opt.Verify); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(f.dir, images.SystemName), []byte("evil"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	_, err = Build(context.Background(), p, filepath.Join(dir, "x.iso"), opt)
	if exitcode.KindOf(err) != exitcode.ImageInvalid {
		t.Fatalf("err %v (kind %v), want image-invalid", err, exitcode.KindOf(err))
	}
	if left := leftovers(t, dir); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
}

// TestBuildCommand drives osc image build: a good payload builds, a
// tampered one is refused with exit 5 before anything is written.
func TestBuildCommand(t *testing.T) {
	requireBuildTools(t)
	f := samplePayload(t, Standard)
	dir := t.TempDir()
	iso := filepath.Join(dir, "osc-12.5.0.iso")
	if code, out := runOsc(t, "image", "build", "--trust-key", f.pubFile, "--payload", f.dir, "--out", iso); code != 0 || !strings.Contains(out, "OSC_12_5_0") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	if code, out := runOsc(t, "image", "build", "--payload", f.dir, "--out", iso+"2"); code != 5 || !strings.Contains(out, "bad signature") {
		t.Errorf("untrusted signer: exit %d:\n%s", code, out)
	}
	unsigned := filepath.Join(t.TempDir(), "unsigned")
	testutil.Run(t, "cp", "-a", f.dir, unsigned)
	os.Remove(filepath.Join(unsigned, images.SignatureName))
	if code, out := runOsc(t, "image", "build", "--payload", unsigned, "--out", filepath.Join(dir, "unsigned.iso")); code != 5 || !strings.Contains(out, "not signed") {
		t.Errorf("unsigned: exit %d, want 5:\n%s", code, out)
	}
	u := filepath.Join(t.TempDir(), "unsigned.iso")
	if code, out := runOsc(t, "image", "build", "--insecure-skip-signature", "--payload", unsigned, "--out", u); code != 0 {
		t.Errorf("unsigned with --insecure-skip-signature: exit %d:\n%s", code, out)
	} else if _, err := os.Stat(extract(t, u, "/onramp/"+images.ManifestName)); err != nil {
		t.Error(err)
	}
	os.WriteFile(filepath.Join(f.dir, images.KernelName), []byte("tampered"), 0o644)
	code, out := runOsc(t, "image", "build", "--trust-key", f.pubFile, "--payload", f.dir, "--out", filepath.Join(dir, "bad.iso"))
	if code != 5 || !strings.Contains(out, images.KernelName) {
		t.Errorf("tampered payload: exit %d, want 5:\n%s", code, out)
	}
	if left := leftovers(t, dir, filepath.Base(iso), filepath.Base(iso)+".bmap"); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
}

// writeTemp writes content into a new file and returns its path.
func writeTemp(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "answers.yaml")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
