#!/usr/bin/env bash
# Installs, idempotently, what building and testing Onramp needs on a Debian
# machine: Debian packages used by the tests as independent judges and as
# image tools, and the Go modules. Safe to run again; quiet when all is there.
set -euo pipefail

packages=(
	xz-utils zstd bzip2 gzip   # compressed test images, made with the real tools
	e2fsprogs dosfstools gdisk # mkfs/fsck/sgdisk as independent judges
	util-linux fdisk mount diffutils # losetup, sfdisk, mount, cmp
	openssl                    # independent judge of enrolled certificates (openssl verify)
	tmux                       # driving the built TUI binaries in tests
	time bc                    # make bench: elapsed time and peak RSS
	bmap-tools                 # bmaptool: osc's bmaps checked against it (tests), the baseline of make bench
	xorriso mtools             # osc install tests: installer ISOs and layout-1 FAT disks
	isolinux syslinux-common   # osc image build --variant legacy: ISOLINUX, its modules, isohdpfx.bin
	iproute2 dnsmasq-base      # netcfg tests: network namespaces, veth, a real DHCP/DNS server
	wpasupplicant dbus         # netcfg tests: the real wpa_supplicant control interface, a private dbus-daemon
	hostapd                    # netcfg tests: wired 802.1X authenticator (driver=wired, internal EAP server)
	tinyproxy                  # netcfg/onboard tests: a real HTTP CONNECT proxy
	mobile-broadband-provider-info # the country/provider/APN database netcfg reads
	gcc-mingw-w64-x86-64-win32 # the Windows SDK headers (mingw-w64) blockdev's IOCTL layouts are checked against
	mmdebstrap                 # make test-windows: the Debian 13 root Wine 10 runs in
)

# shellcheck source=scripts/apt-ensure.sh
. "$(dirname "$0")/apt-ensure.sh"
apt_ensure "${packages[@]}"

if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
	export PATH=/usr/local/go/bin:$PATH
fi
cd "$(dirname "$0")/.."
go mod download
