#!/usr/bin/env bash
# Builds the Debian 13 "trixie" system tree of `make image` with mmdebstrap
# (minbase, main + non-free-firmware, no recommends) from the package list
# scripts/image/packages, with scripts/image/rootfs/ laid over it (the
# initramfs-tools boot script and hook, Onramp's systemd units and console
# sessions), then:
#   - systemd-networkd, -resolved, the Onramp units enabled; root's
#     password locked; hostname onramp;
#   - the initrd made again by initramfs-tools with Onramp's configuration;
#   - GRUB's BIOS core.img made inside the tree (grub-mkimage);
#   - the boot files the installer media need copied out of the tree
#     (scripts/image/packages-boot, purged from the system afterwards).
#
# Usage: system.sh OUT. OUT/root is the tree, OUT/boot the boot files
# (vmlinuz, initrd.img, shimx64.efi, mmx64.efi, grubx64.efi, bios/boot.img,
# bios/core.img, memtest86+x64.bin, syslinux/), OUT/packages.manifest the
# installed packages and versions (dpkg-query). OUT/key records what was
# built: the SHA-256 of the package lists, this script, rootfs/, the suite,
# the mirrors and SOURCE_DATE_EPOCH. When OUT/key matches, nothing is done
# (the cache of make image and CI); otherwise OUT is built anew.
#
# MIRROR (default http://deb.debian.org/debian) and SECURITY_MIRROR
# (http://deb.debian.org/debian-security) pick the archive; SOURCE_DATE_EPOCH
# (default: the last commit touching scripts/image) clamps file times.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: system.sh OUT}
suite=trixie
mirror=${MIRROR:-http://deb.debian.org/debian}
security=${SECURITY_MIRROR:-http://deb.debian.org/debian-security}
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
	SOURCE_DATE_EPOCH=$(git -C "$here" log -1 --format=%ct -- . 2>/dev/null || true)
	SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1767225600} # 2026-01-01, outside a git checkout
fi
export SOURCE_DATE_EPOCH

# XKB layouts (what the setup assistant writes as KEYMAP) whose console
# keymap console-data names differently.
keymap_aliases=(gb:uk ch:sg-latin1 at:de pt:pt-latin1 se:se-latin1 be:be-latin1 br:br-abnt2
	cz:cz-lat2 tr:trq de-nodeadkeys:de-latin1-nodeadkeys us-altgr-intl:us-intl.iso15)

list() { sed -e 's/#.*//' -e 's/[[:space:]]//g' -e '/^$/d' "$1"; }

key=$(
	{
		echo "$suite $mirror $security $SOURCE_DATE_EPOCH"
		cd "$here"
		sha256sum packages packages-boot system.sh
		find rootfs -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
		find rootfs -print0 | LC_ALL=C sort -z | xargs -0 stat -c '%n %a'
	} | sha256sum | cut -d' ' -f1
)
if [ -f "$out/key" ] && [ "$(cat "$out/key")" = "$key" ] && [ -d "$out/root" ]; then
	echo "system: cached ($out, key ${key:0:12})" >&2
	exit 0
fi

rm -rf "$out"
mkdir -p "$out/boot/bios" "$out/boot/syslinux"
start=$(date +%s)
include=$( (list "$here/packages"; list "$here/packages-boot") | paste -sd,)
boot_pkgs=$(list "$here/packages-boot" | paste -sd' ')
aliases=${keymap_aliases[*]}
export ONRAMP_BOOT_OUT=$out/boot ONRAMP_BOOT_PKGS=$boot_pkgs ONRAMP_KEYMAP_ALIASES=$aliases

# The customize hooks run on the host with the tree as $1.
mmdebstrap --variant=minbase --components=main,non-free-firmware \
	--aptopt='APT::Install-Recommends "false"' \
	--include="$include" \
	--customize-hook="sync-in $here/rootfs /" \
	--customize-hook='chroot "$1" sh -euc "
		systemctl enable systemd-networkd.service systemd-resolved.service \
			onramp-installer.service onramp-firstboot.service onramp-ready.service
		passwd --lock root >/dev/null
		echo onramp >/etc/hostname
		printf \"127.0.0.1\tlocalhost\n127.0.1.1\tonramp\n::1\tlocalhost ip6-localhost ip6-loopback\n\" >/etc/hosts
		mkdir -p /var/lib/onramp /var/log/journal /data
		for a in $ONRAMP_KEYMAP_ALIASES; do
			src=\$(find /usr/share/keymaps/i386 -name \"\${a#*:}.kmap.gz\" | head -n1)
			[ -n \"\$src\" ] || { echo \"system: no console keymap \${a#*:} for \${a%%:*}\" >&2; exit 1; }
			ln -s \"\$(basename \"\$src\")\" \"\$(dirname \"\$src\")/\${a%%:*}.kmap.gz\"
		done
		update-initramfs -u -k all
		grub-mkimage -O i386-pc -d /usr/lib/grub/i386-pc -p \"(hd0,gpt1)/grub\" -o /tmp/core.img \
			biosdisk part_gpt part_msdos fat normal configfile linux boot echo test search serial terminal
	"' \
	--customize-hook='set -eu
		b=$ONRAMP_BOOT_OUT
		kver=$(ls "$1/lib/modules")
		cp "$1/boot/vmlinuz-$kver" "$b/vmlinuz"
		cp "$1/boot/initrd.img-$kver" "$b/initrd.img"
		cp "$1/usr/lib/shim/shimx64.efi.signed" "$b/shimx64.efi"
		cp "$1/usr/lib/shim/mmx64.efi.signed" "$b/mmx64.efi"
		cp "$1/usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed" "$b/grubx64.efi"
		cp "$1/usr/lib/grub/i386-pc/boot.img" "$b/bios/boot.img"
		mv "$1/tmp/core.img" "$b/bios/core.img"
		cp "$1/boot/memtest86+x64.bin" "$b/memtest86+x64.bin"
		cp "$1"/usr/lib/ISOLINUX/isolinux.bin "$1"/usr/lib/ISOLINUX/isohdpfx.bin \
			"$1"/usr/lib/syslinux/modules/bios/ldlinux.c32 "$1"/usr/lib/syslinux/modules/bios/menu.c32 \
			"$1"/usr/lib/syslinux/modules/bios/libutil.c32 "$1"/usr/lib/syslinux/modules/bios/libcom32.c32 "$b/syslinux/"
		chroot "$1" apt-get purge -y -qq $ONRAMP_BOOT_PKGS >/dev/null
		chroot "$1" dpkg-query -W -f "\${Package}\t\${Version}\t\${Installed-Size}\n" >"$b/../packages.manifest"' \
	"$suite" "$out/root" \
	"deb $mirror $suite main non-free-firmware" \
	"deb $mirror $suite-updates main non-free-firmware" \
	"deb $security $suite-security main non-free-firmware"
echo "$key" >"$out/key"
echo "system: built $out/root in $(($(date +%s) - start))s ($(du -sh "$out/root" | cut -f1))" >&2
