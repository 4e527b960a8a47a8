#!/usr/bin/env bash
# Installs, idempotently, what `make test-e2e` needs on the host (kept out of
# scripts/deps.sh so `make test` stays light): QEMU to boot the guest, and the
# tools that build its initramfs from Debian packages fetched with
# `apt-get download` (nothing of the guest is installed on the host).
set -euo pipefail

packages=(
	qemu-system-x86            # boots the Debian kernel with the e2e initramfs
	ovmf                       # UEFI firmware for booting the installer medium (medium-boot.sh)
	cpio gzip xz-utils zstd    # unpack .debs and kernel modules, pack the initramfs
	kmod                       # modinfo/depmod for the guest's module tree
	squashfs-tools             # make image: mksquashfs for the system's system.squashfs
	mmdebstrap                 # make image: the Debian 13 system (scripts/image/build.sh)
	debian-archive-keyring     # make image: trixie's archive keys for mmdebstrap
	sbsigntool                 # install.sh: sbverify/sbattach on the Secure Boot chain
	xorriso                    # install.sh: the ISOs' El Torito records
	gdisk                      # install.sh: sgdisk -v on the installed disks
	dosfstools mtools          # install.sh: fsck.fat, mcopy on the ESP and the stick
	socat                      # install.sh: the guest's guestfwd to ums-lab on the host's loopback
	unzip                      # install.sh: the support bundle a failed first boot saved to a stick
	hostapd                    # install.sh: the access point the WLAN row injects into the installed system (not in the image)
	ca-certificates            # apt-get download over https mirrors
)

# shellcheck source=scripts/apt-ensure.sh
. "$(dirname "$0")/../apt-ensure.sh"
apt_ensure "${packages[@]}"
