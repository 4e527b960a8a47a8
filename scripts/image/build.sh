#!/usr/bin/env bash
# Builds the sample base system of `make image` (issue 7) and its signed
# payload from Debian packages fetched with `apt-get download` (nothing of
# the guest is installed on the host) and our static binaries:
#
#   build/image/payload/   vmlinuz, initrd.img, system.squashfs,
#                          efi/EFI/BOOT/BOOTX64.EFI, eula/{en,de}.txt,
#                          manifest.json + manifest.sig (scripts/image/dev.key)
#   build/image/payload-legacy/
#                          the same signed as variant legacy, with GRUB's
#                          bios/boot.img and bios/core.img for BIOS boot
#   build/image/memtest86+x64.bin, build/image/syslinux/
#                          what `osc image build --variant legacy` takes
#   build/image/osc-VERSION.iso, build/image/osc-VERSION_legacy.iso
#                          the installer media (osc image build)
#   build/image/bin/osc, build/image/bin/setup-assistant
#                          the static binaries of the image (this osc
#                          trusts the development key)
#
# initrd.img: busybox, the kernel modules of /etc/onramp/modules and
# scripts/image/initrd-init. system.squashfs: busybox, osc and
# setup-assistant (static; this osc also trusts the development key), the
# tools osc install runs (mke2fs, debugfs, mkfs.fat, mcopy, blkid),
# loadkeys with console keymaps, tzdata, CA certificates, the EULAs and
# scripts/image/system-init as /sbin/init.
#
# Idempotent: downloads and the unpacked packages are cached under
# build/image/; the rest is rebuilt every run (about 20 s, and the media).
# VERSION (default 12.5.0) sets the manifest's and os-release's version.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
here=$root/scripts/image
out=$root/build/image
stage=$out/stage
payload=$out/payload
export PATH=/usr/local/go/bin:$PATH
# shellcheck source=scripts/lib/debian-guest.sh
. "$root/scripts/lib/debian-guest.sh"

os_name="Onramp OS"
version=${VERSION:-12.5.0}
# The smallest target the sample runs on: ESP, two 1 GiB slots and DATA fit
# in 4 GiB (the e2e targets are 4 GiB sparse files).
min_target=$((4 << 30))

# Kernel modules the initrd loads: disks (virtio, SATA, USB, CD), the file
# systems of the medium, the slots and DATA (ext4 asks the crypto API for
# crc32c when mounting), the overlay root, and AF_PACKET for the DHCP
# client of the setup assistant.
modules=(virtio_pci virtio_blk virtio_scsi virtio_net ahci sd_mod sr_mod cdrom usb_storage uas
	xhci_pci xhci_hcd ehci_pci squashfs ext4 crc32c_generic crc32c_intel vfat nls_cp437 nls_ascii nls_utf8
	isofs overlay loop af_packet)

# XKB layouts (what the setup assistant writes as KEYMAP) whose console
# keymap console-data names differently.
keymap_aliases=(gb:uk ch:sg-latin1 at:de pt:pt-latin1 se:se-latin1 be:be-latin1 br:br-abnt2
	cz:cz-lat2 tr:trq de-nodeadkeys:de-latin1-nodeadkeys us-altgr-intl:us-intl.iso15)

start=$(date +%s)
"$root/scripts/e2e/deps.sh" # mksquashfs, kmod, cpio, zstd

kpkg=$(debian_kernel_pkg)
kver=${kpkg#linux-image-}
# Programs taken with their libraries (debian_add_binary), and data.
# grub-common's grub-mkimage runs on the host from the staging tree, with
# the guest's libraries, to make GRUB's core.img for the legacy payload.
tools=(e2fsprogs dosfstools mtools util-linux kbd grub-common)
data=(busybox-static systemd-boot-efi console-data tzdata ca-certificates grub-pc-bin memtest86+ isolinux syslinux-common)
want=("$kpkg" "${tools[@]}" "${data[@]}")
while read -r p; do want+=("$p"); done < <(debian_lib_deps "${tools[@]}")
debian_fetch "$out" "${want[@]}"
[ -d "$stage/lib/modules/$kver" ] || { echo "image: no modules for $kver in $stage" >&2; exit 1; }

# Our programs, static. The osc of the image trusts the development key as
# a built-in key, so the medium installs its own payload without
# --trust-key; it also signs the payload here (it runs on the host alike).
devkey=$(grep -v -- ----- "$here/dev.pub" | tr -d '\n')
mkdir -p "$out/bin"
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X github.com/onramp-os/onramp/images.extraTrustedKey=$devkey" \
	-o "$out/bin/osc" ./cmd/osc
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$out/bin/setup-assistant" ./cmd/setup-assistant

rm -rf "$payload"
mkdir -p "$payload/efi/EFI/BOOT" "$payload/eula"
cp "$stage/boot/vmlinuz-$kver" "$payload/vmlinuz"
cp "$stage/usr/lib/systemd/boot/efi/systemd-bootx64.efi" "$payload/efi/EFI/BOOT/BOOTX64.EFI"
cp "$here"/eula/*.txt "$payload/eula/"

# busybox_links ROOT links every applet of ROOT/bin/busybox at its usual
# place, leaving programs already there alone.
busybox_links() {
	local a
	for a in $("$1/bin/busybox" --list-full); do
		[ -e "$1/$a" ] || [ -L "$1/$a" ] || { mkdir -p "$1/$(dirname "$a")"; ln -s /bin/busybox "$1/$a"; }
	done
}

# --- initrd.img ---
initrd=$out/initrd
rm -rf "$initrd"
mkdir -p "$initrd"/{bin,sbin,usr/bin,usr/sbin,etc/onramp,lib/onramp,proc,sys,dev,run,newroot}
cp "$stage/bin/busybox" "$initrd/bin/busybox"
busybox_links "$initrd"
debian_add_modules "$stage" "$initrd" "$kver" "${modules[@]}"
# The ones that are files (the rest are built into the kernel), in order;
# modprobe loads what each depends on.
for m in "${modules[@]}"; do
	f=$(modinfo -k "$kver" -b "$stage" -n "$m" 2>/dev/null || true)
	if [ -n "$f" ] && [ -f "$f" ]; then echo "$m"; fi
done >"$initrd/etc/onramp/modules"
install -m 0755 "$here/initrd-init" "$initrd/init"
install -m 0644 "$here/lib.sh" "$initrd/lib/onramp/lib.sh"
(cd "$initrd" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet --reproducible | gzip -9n >"$payload/initrd.img")

# --- system.squashfs ---
rootfs=$out/rootfs
rm -rf "$rootfs"
mkdir -p "$rootfs"/{bin,sbin,usr/bin,usr/sbin,lib/onramp,etc/ssl/certs,proc,sys,dev,run,tmp,data,root,mnt} \
	"$rootfs"/{var/lib/onramp,var/log,usr/share/onramp/eula}
chmod 1777 "$rootfs/tmp"
chmod 0700 "$rootfs/root"
# Debian's programs first, then busybox's applets where none is there.
debian_add_binary "$stage" "$rootfs" mke2fs debugfs mkfs.fat mcopy blkid loadkeys
cp "$stage/etc/mke2fs.conf" "$rootfs/etc/"
# mcopy converts file names to the DOS code page with iconv: glibc's
# modules for code pages 850 (mtools' default) and 437 (the ESP's).
gconv=usr/lib/x86_64-linux-gnu/gconv
mkdir -p "$rootfs/$gconv"
cp -a "$stage/$gconv"/{IBM850.so,IBM437.so,gconv-modules,gconv-modules.d} "$rootfs/$gconv/"
cp "$stage/bin/busybox" "$rootfs/bin/busybox"
busybox_links "$rootfs"
install -m 0755 "$out/bin/osc" "$out/bin/setup-assistant" "$rootfs/usr/bin/"
install -m 0755 "$here/system-init" "$rootfs/sbin/init"
install -m 0755 "$here/session" "$rootfs/lib/onramp/session"
install -m 0644 "$here/lib.sh" "$rootfs/lib/onramp/lib.sh"
install -m 0644 "$here"/eula/*.txt "$rootfs/usr/share/onramp/eula/"
# Console keymaps for loadkeys, with the XKB names the assistant writes.
mkdir -p "$rootfs/usr/share/keymaps"
cp -a "$stage/usr/share/keymaps/i386" "$rootfs/usr/share/keymaps/"
for a in "${keymap_aliases[@]}"; do
	src=$(find "$rootfs/usr/share/keymaps/i386" -name "${a#*:}.kmap.gz" | head -n1)
	[ -n "$src" ] || { echo "image: no console keymap ${a#*:} for ${a%%:*}" >&2; exit 1; }
	ln -s "$(basename "$src")" "$(dirname "$src")/${a%%:*}.kmap.gz"
done
# Time zones (not the leap-second "right/" copies) for /etc/localtime.
mkdir -p "$rootfs/usr/share/zoneinfo"
(cd "$stage/usr/share/zoneinfo" && tar --exclude=./right -cf - .) | tar -xf - -C "$rootfs/usr/share/zoneinfo"
# The CA bundle update-ca-certificates would make, for the e-mail
# onboarding's TLS to the Onboarding Service.
cat "$stage"/usr/share/ca-certificates/mozilla/*.crt >"$rootfs/etc/ssl/certs/ca-certificates.crt"

cat >"$rootfs/etc/os-release" <<EOF
NAME="$os_name"
VERSION="$version (sample)"
ID=onramp
ID_LIKE=debian
VERSION_ID=$version
PRETTY_NAME="$os_name $version"
HOME_URL="https://github.com/onramp-os/onramp"
EOF
# root logs in on the console without a password: a sample system.
echo "root::0:0:root:/root:/bin/sh" >"$rootfs/etc/passwd"
echo "nobody:x:65534:65534:nobody:/nonexistent:/bin/false" >>"$rootfs/etc/passwd"
printf 'root:x:0:\ntty:x:5:\nnogroup:x:65534:\n' >"$rootfs/etc/group"
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$rootfs/etc/hosts"
printf 'export PS1='"'"'\\h:\\w\\$ '"'"'\n[ -f /etc/locale.conf ] && . /etc/locale.conf && export LANG\n' >"$rootfs/etc/profile"
ln -s ../proc/mounts "$rootfs/etc/mtab"
: >"$rootfs/etc/fstab"

rm -f "$payload/system.squashfs"
mksquashfs "$rootfs" "$payload/system.squashfs" -comp zstd -Xcompression-level 15 -all-root \
	-mkfs-time 0 -all-time 0 -noappend -quiet >/dev/null

# --- sign ---
# The installed system's boot entries (systemd-boot and GRUB) get both
# consoles; the last one is /dev/console, where the boot markers go.
kernel_options="console=tty0 console=ttyS0,115200"
"$out/bin/osc" image sign --key "$here/dev.key" --os-name "$os_name" --version "$version" \
	--min-target-size "$min_target" --kernel-options "$kernel_options" "$payload"

# --- the legacy payload: the same files plus GRUB for BIOS ---
# boot.img goes into the target's MBR and core.img into ONRAMP-BIOS (osc
# install places them); core.img holds every module the menu osc writes to
# the ESP's grub/grub.cfg needs, so it loads nothing from the ESP itself.
legacy=$out/payload-legacy
rm -rf "$legacy"
cp -al "$payload" "$legacy"
rm -f "$legacy/manifest.json" "$legacy/manifest.sig"
mkdir -p "$legacy/bios"
grub=$stage/usr/lib/grub/i386-pc
cp "$grub/boot.img" "$legacy/bios/boot.img"
"$stage/lib64/ld-linux-x86-64.so.2" --library-path "$stage/lib/x86_64-linux-gnu:$stage/usr/lib/x86_64-linux-gnu" \
	"$stage/usr/bin/grub-mkimage" -O i386-pc -d "$grub" -p '(hd0,gpt1)/grub' -o "$legacy/bios/core.img" \
	biosdisk part_gpt part_msdos fat normal configfile linux boot echo test search serial terminal
"$out/bin/osc" image sign --key "$here/dev.key" --os-name "$os_name" --version "$version" --variant legacy \
	--min-target-size "$min_target" --kernel-options "$kernel_options" "$legacy"

# --- what the legacy medium's ISOLINUX needs ---
cp "$stage/boot/memtest86+x64.bin" "$out/memtest86+x64.bin"
rm -rf "$out/syslinux"
mkdir -p "$out/syslinux"
cp "$stage"/usr/lib/ISOLINUX/{isolinux.bin,isohdpfx.bin} "$stage"/usr/lib/syslinux/modules/bios/{ldlinux,menu,libutil,libcom32}.c32 \
	"$out/syslinux/"
payload_s=$(($(date +%s) - start))

# --- the installer media ---
iso_start=$(date +%s)
"$out/bin/osc" image build --payload "$payload" --out "$out/osc-$version.iso"
"$out/bin/osc" image build --payload "$legacy" --variant legacy --out "$out/osc-${version}_legacy.iso" \
	--memtest "$out/memtest86+x64.bin" --syslinux "$out/syslinux"
iso_s=$(($(date +%s) - iso_start))

size() { du -h --apparent-size "$1" | cut -f1; }
echo "image: payload $(du -sh --apparent-size "$payload" | cut -f1) (system.squashfs $(size "$payload/system.squashfs")," \
	"initrd.img $(size "$payload/initrd.img"), vmlinuz $(size "$payload/vmlinuz"); kernel $kver) in ${payload_s}s;" \
	"osc-$version.iso $(size "$out/osc-$version.iso"), osc-${version}_legacy.iso $(size "$out/osc-${version}_legacy.iso") in ${iso_s}s;" \
	"total $(($(date +%s) - start))s" >&2
