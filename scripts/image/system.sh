#!/usr/bin/env bash
# Builds the Debian 13 "trixie" system tree of `make image`, in two cached
# stages:
#
#  1. base: mmdebstrap (minbase, main + non-free-firmware, no recommends)
#     installs scripts/image/packages and scripts/image/packages-boot; the
#     boot files of the installer media are copied out of the tree and
#     packages-boot purged again; the installed packages are recorded.
#     Cached by the package lists, the suite, the mirrors, SOURCE_DATE_EPOCH
#     and base_format (bumped when this stage changes).
#  2. system: a copy of the base with scripts/image/rootfs/ laid over it
#     (the initramfs-tools boot script and hook, Onramp's systemd units and
#     console sessions), then in the tree: systemd-networkd, -resolved and
#     the Onramp units enabled; root's password locked; hostname onramp;
#     console keymap aliases; the initrd made again by initramfs-tools;
#     GRUB's BIOS core.img. Cached by stage 1 and this script and rootfs/.
#
# Usage: system.sh OUT. OUT/root is the tree, OUT/boot the boot files
# (vmlinuz, initrd.img, shimx64.efi, mmx64.efi, grubx64.efi, bios/boot.img,
# bios/core.img, memtest86+x64.bin, syslinux/), OUT/packages.manifest the
# installed packages (name, version, installed size in KiB), OUT/key what
# was built. Nothing is done when OUT/key matches.
#
# MIRROR (default http://deb.debian.org/debian) and SECURITY_MIRROR
# (http://deb.debian.org/debian-security) pick the archive; SOURCE_DATE_EPOCH
# (default: the last commit changing the package lists) clamps file times.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: system.sh OUT}
suite=trixie
mirror=${MIRROR:-http://deb.debian.org/debian}
security=${SECURITY_MIRROR:-http://deb.debian.org/debian-security}
base_format=1
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
	SOURCE_DATE_EPOCH=$(git -C "$here" log -1 --format=%ct -- packages packages-boot 2>/dev/null || true)
	SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1767225600} # 2026-01-01, outside a git checkout
fi
export SOURCE_DATE_EPOCH

# XKB layouts (what the setup assistant writes as KEYMAP) whose console
# keymap console-data names differently.
keymap_aliases=(gb:uk ch:sg-latin1 at:de pt:pt-latin1 se:se-latin1 be:be-latin1 br:br-abnt2
	cz:cz-lat2 tr:trq de-nodeadkeys:de-latin1-nodeadkeys us-altgr-intl:us-intl.iso15)

list() { sed -e 's/#.*//' -e 's/[[:space:]]//g' -e '/^$/d' "$1"; }

base_key=$(
	echo "$base_format $suite $mirror $security $SOURCE_DATE_EPOCH"
	list "$here/packages"
	echo --
	list "$here/packages-boot"
)
base_key=$(sha256sum <<<"$base_key" | cut -d' ' -f1)
key=$(
	{
		echo "$base_key"
		cd "$here"
		sha256sum system.sh
		find rootfs -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
		find rootfs -print0 | LC_ALL=C sort -z | xargs -0 stat -c '%n %a'
	} | sha256sum | cut -d' ' -f1
)
if [ -f "$out/key" ] && [ "$(cat "$out/key")" = "$key" ] && [ -d "$out/root" ]; then
	echo "system: cached ($out, key ${key:0:12})" >&2
	exit 0
fi
rm -f "$out/key"
mkdir -p "$out"
start=$(date +%s)

# --- 1. base -----------------------------------------------------------------
base=$out/base
if [ ! -f "$base/key" ] || [ "$(cat "$base/key")" != "$base_key" ]; then
	rm -rf "$base"
	mkdir -p "$base/boot/syslinux"
	include=$( (list "$here/packages"; list "$here/packages-boot") | paste -sd,)
	export ONRAMP_BOOT_OUT=$base/boot ONRAMP_BOOT_PKGS
	ONRAMP_BOOT_PKGS=$(list "$here/packages-boot" | paste -sd' ')
	# The customize hook runs on the host with the tree as $1.
	mmdebstrap --variant=minbase --components=main,non-free-firmware \
		--aptopt='APT::Install-Recommends "false"' \
		--include="$include" \
		--customize-hook='set -eu
			b=$ONRAMP_BOOT_OUT
			cp "$1/boot/memtest86+x64.bin" "$b/memtest86+x64.bin"
			for f in ISOLINUX/isolinux.bin ISOLINUX/isohdpfx.bin syslinux/modules/bios/ldlinux.c32 \
				syslinux/modules/bios/menu.c32 syslinux/modules/bios/libutil.c32 syslinux/modules/bios/libcom32.c32; do
				cp "$1/usr/lib/$f" "$b/syslinux/"
			done
			chroot "$1" apt-get purge -y -qq $ONRAMP_BOOT_PKGS >/dev/null
			chroot "$1" dpkg-query -W -f "\${Package}\t\${Version}\t\${Installed-Size}\n" >"$b/../packages.manifest"' \
		"$suite" "$base/root" \
		"deb $mirror $suite main non-free-firmware" \
		"deb $mirror $suite-updates main non-free-firmware" \
		"deb $security $suite-security main non-free-firmware"
	echo "$base_key" >"$base/key"
	echo "system: base built in $(($(date +%s) - start))s ($(du -sh "$base/root" | cut -f1))" >&2
fi

# --- 2. system ---------------------------------------------------------------
root=$out/root
rm -rf "$root" "$out/boot"
cp -a "$base/root" "$root"
cp -a "$base/boot" "$out/boot"
cp "$base/packages.manifest" "$out/packages.manifest"
cp -a "$here/rootfs/." "$root/"
mounts=()
unmount() {
	local i
	for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do umount -R "${mounts[i]}"; done
	mounts=()
}
trap unmount EXIT
for m in proc sys dev; do
	mount --rbind "/$m" "$root/$m"
	mount --make-rslave "$root/$m"
	mounts+=("$root/$m")
done
chroot "$root" sh -euc '
	systemctl enable --quiet systemd-networkd.service systemd-resolved.service \
		onramp-installer.service onramp-firstboot.service onramp-ready.service \
		onramp-agent.service onramp-modem.service onramp-settings-save.path onramp-settings-save.timer \
		onramp-settings-shutdown.service onramp-root-password.path onramp-root-password.service \
		onramp-rescue@tty11.service onramp-rescue@tty12.service
	passwd --lock root >/dev/null
	echo onramp >/etc/hostname
	printf "127.0.0.1\tlocalhost\n127.0.1.1\tonramp\n::1\tlocalhost ip6-localhost ip6-loopback\n" >/etc/hosts
	mkdir -p /var/lib/onramp /var/log/journal /data
	# The image is up to date as built: no ldconfig or catalog rebuild at
	# the first boot (ConditionNeedsUpdate).
	touch /etc/.updated /var/.updated
	for a in '"${keymap_aliases[*]}"'; do
		src=$(find /usr/share/keymaps/i386 -name "${a#*:}.kmap.gz" | head -n1)
		[ -n "$src" ] || { echo "system: no console keymap ${a#*:} for ${a%%:*}" >&2; exit 1; }
		ln -sf "$(basename "$src")" "$(dirname "$src")/${a%%:*}.kmap.gz"
	done
	update-initramfs -u -k all >/dev/null
	grub-mkimage -O i386-pc -d /usr/lib/grub/i386-pc -p "(hd0,gpt1)/grub" -o /tmp/core.img \
		biosdisk part_gpt part_msdos fat normal configfile linux boot echo test search serial terminal
'
unmount
b=$out/boot
mkdir -p "$b/bios"
kver=$(ls "$root/lib/modules")
cp "$root/boot/vmlinuz-$kver" "$b/vmlinuz"
cp "$root/boot/initrd.img-$kver" "$b/initrd.img"
cp "$root/usr/lib/shim/shimx64.efi.signed" "$b/shimx64.efi"
cp "$root/usr/lib/shim/mmx64.efi.signed" "$b/mmx64.efi"
cp "$root/usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed" "$b/grubx64.efi"
cp "$root/usr/lib/grub/i386-pc/boot.img" "$b/bios/boot.img"
mv "$root/tmp/core.img" "$b/bios/core.img"
echo "$key" >"$out/key"
echo "system: built $root in $(($(date +%s) - start))s ($(du -sh "$root" | cut -f1))" >&2
