#!/usr/bin/env bash
# Builds the base system of `make image`, Debian 13 "trixie" (issue 20),
# and its signed payloads and installer media:
#
#   CACHE/image-system/    the system tree (scripts/image/system.sh:
#                          mmdebstrap from scripts/image/packages, with
#                          scripts/image/rootfs/), its boot files and
#                          packages.manifest; cached by the hash of the
#                          package lists and those scripts, outside the
#                          checkout (scripts/lib/cache.sh: ONRAMP_CACHE,
#                          /var/cache/onramp for root)
#   build/image/payload/   vmlinuz (signed by Debian), initrd.img
#                          (initramfs-tools), system.squashfs,
#                          efi/EFI/BOOT/{BOOTX64.EFI (shim), grubx64.efi,
#                          mmx64.efi}, eula/{en,de}.txt, manifest.json +
#                          manifest.sig (scripts/image/dev.key)
#   build/image/payload-legacy/
#                          the same signed as variant legacy, with GRUB's
#                          bios/boot.img and bios/core.img for BIOS boot
#   build/image/packages.manifest
#                          every package of the system with its version and
#                          installed size (KiB)
#   build/image/osc-VERSION.iso, build/image/osc-VERSION_legacy.iso
#                          the installer media (osc image build)
#   build/image/bin/{osc,setup-assistant,onramp-settings,onramp-agent}
#                          the static binaries of the image (this osc
#                          trusts the development key); get_unit_id is osc
#                          under that name
#
# system.squashfs is the system tree with our binaries, the EULAs and
# Onramp's os-release (based on Debian 13 trixie), zstd-compressed; it is
# made again only when the tree, the binaries, the EULAs or VERSION
# changed (build/image/system.squashfs.key).
# VERSION (default 12.5.0) sets the manifest's and os-release's version;
# SQUASHFS_LEVEL (default 19) the zstd level of system.squashfs.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
here=$root/scripts/image
out=$root/build/image
payload=$out/payload
export PATH=/usr/local/go/bin:$PATH

os_name="Onramp OS"
version=${VERSION:-12.5.0}
level=${SQUASHFS_LEVEL:-19}
# The smallest target the system runs on: ESP, two slots (twice
# system.squashfs each, osc image sign's default) and DATA fit in 4 GiB.
min_target=$((4 << 30))
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
	SOURCE_DATE_EPOCH=$(git -C "$here" log -1 --format=%ct -- packages packages-boot 2>/dev/null || true)
	SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1767225600} # 2026-01-01, outside a git checkout
fi
export SOURCE_DATE_EPOCH

start=$(date +%s)
"$root/scripts/deps.sh"     # mkfs.fat, mcopy for osc
"$root/scripts/e2e/deps.sh" # mmdebstrap, mksquashfs
. "$root/scripts/lib/cache.sh"
sys=$(onramp_cache)/image-system
"$here/system.sh" "$sys"
system_s=$(($(date +%s) - start))
boot=$sys/boot

# Our programs, static. The osc of the image trusts the development key as
# a built-in key, so the medium installs its own payload without
# --trust-key; it also signs the payload here (it runs on the host alike).
devkey=$(grep -v -- ----- "$here/dev.pub" | tr -d '\n')
mkdir -p "$out/bin"
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X github.com/onramp-os/onramp/images.extraTrustedKey=$devkey" \
	-o "$out/bin/osc" ./cmd/osc
for p in setup-assistant onramp-settings onramp-agent; do
	CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$out/bin/$p" "./cmd/$p"
done
cp "$sys/packages.manifest" "$out/packages.manifest"

# os-release: Onramp OS on Debian 13 trixie (VERSION_CODENAME, DEBIAN_VERSION_FULL).
debver=$(cat "$sys/root/etc/debian_version")
os_release="NAME=\"$os_name\"
VERSION=\"$version (Debian $debver trixie)\"
ID=onramp
ID_LIKE=debian
VERSION_ID=$version
VERSION_CODENAME=trixie
DEBIAN_VERSION_FULL=$debver
PRETTY_NAME=\"$os_name $version\"
HOME_URL=\"https://github.com/onramp-os/onramp\"
"

# --- system.squashfs ---
sq=$out/system.squashfs
sqkey=$({
	cat "$sys/key"
	echo "$level $SOURCE_DATE_EPOCH $os_release"
	sha256sum "$out"/bin/* "$here"/eula/*.txt | cut -d' ' -f1
} | sha256sum | cut -d' ' -f1)
squashfs_s=0
if [ ! -f "$sq" ] || [ "$(cat "$sq.key" 2>/dev/null)" != "$sqkey" ]; then
	sq_start=$(date +%s)
	# A hard-linked copy of the cached tree: files added or replaced are
	# removed first, so the cache stays as built.
	st=$out/squashfs-root
	rm -rf "$st" "$sq" "$sq.key"
	cp -al "$sys/root" "$st" 2>/dev/null || { rm -rf "$st"; cp -a "$sys/root" "$st"; } # a cache on another file system
	# The kernel and initrd boot from the ESP; the slot needs no copy.
	rm -f "$st"/boot/vmlinuz-* "$st"/boot/initrd.img-* "$st"/vmlinuz* "$st"/initrd.img*
	rm -f "$st/etc/os-release"
	printf '%s' "$os_release" >"$st/etc/os-release"
	install -m 0755 "$out"/bin/* "$st/usr/bin/"
	ln -s osc "$st/usr/bin/get_unit_id"
	mkdir -p "$st/usr/share/onramp/eula"
	install -m 0644 "$here"/eula/*.txt "$st/usr/share/onramp/eula/"
	# (mksquashfs takes its time stamps from SOURCE_DATE_EPOCH.)
	mksquashfs "$st" "$sq" -comp zstd -Xcompression-level "$level" -noappend -quiet >/dev/null
	rm -rf "$st"
	echo "$sqkey" >"$sq.key"
	squashfs_s=$(($(date +%s) - sq_start))
fi

rm -rf "$payload"
mkdir -p "$payload/efi/EFI/BOOT" "$payload/eula"
cp "$boot/vmlinuz" "$boot/initrd.img" "$payload/"
ln "$sq" "$payload/system.squashfs"
# Secure Boot: shim (Microsoft-signed) at the removable-media path starts
# grubx64.efi beside it (and MokManager when asked), which starts the
# Debian-signed kernel; osc writes GRUB's menu (internal/grubcfg).
cp "$boot/shimx64.efi" "$payload/efi/EFI/BOOT/BOOTX64.EFI"
cp "$boot/grubx64.efi" "$payload/efi/EFI/BOOT/grubx64.efi"
cp "$boot/mmx64.efi" "$payload/efi/EFI/BOOT/mmx64.efi"
cp "$here"/eula/*.txt "$payload/eula/"

# --- sign ---
# The installed system's boot entry gets both consoles; the last one is
# /dev/console, where the boot markers go.
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
cp "$boot/bios/boot.img" "$boot/bios/core.img" "$legacy/bios/"
"$out/bin/osc" image sign --key "$here/dev.key" --os-name "$os_name" --version "$version" --variant legacy \
	--min-target-size "$min_target" --kernel-options "$kernel_options" "$legacy"
payload_s=$(($(date +%s) - start))

# --- the installer media ---
iso_start=$(date +%s)
"$out/bin/osc" image build --payload "$payload" --out "$out/osc-$version.iso"
"$out/bin/osc" image build --payload "$legacy" --variant legacy --out "$out/osc-${version}_legacy.iso" \
	--memtest "$boot/memtest86+x64.bin" --syslinux "$boot/syslinux"
iso_s=$(($(date +%s) - iso_start))

size() { du -h --apparent-size "$1" | cut -f1; }
echo "image: system $(cut -c1-12 "$sys/key") in ${system_s}s, system.squashfs $(size "$sq") (zstd-$level) in ${squashfs_s}s" \
	"(0: cached), initrd.img $(size "$payload/initrd.img"), vmlinuz $(size "$payload/vmlinuz"); payloads at ${payload_s}s;" \
	"osc-$version.iso $(size "$out/osc-$version.iso"), osc-${version}_legacy.iso $(size "$out/osc-${version}_legacy.iso") in ${iso_s}s;" \
	"total $(($(date +%s) - start))s" >&2
