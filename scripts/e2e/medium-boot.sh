#!/usr/bin/env bash
# Boots the installer medium `osc image build` makes, in QEMU (TCG), the ways
# a technician starts it: UEFI (OVMF) from a CD-ROM, UEFI from a USB stick the
# ISO was written to with `osc write`, and BIOS (SeaBIOS) from a USB stick
# holding the legacy ISO. The payload is a smoke payload: the system's
# kernel, shim and GRUB as the UEFI loaders and memtest86+ for the legacy
# menu (make image's Debian 13 system, scripts/image/system.sh, cached), and
# an initramfs whose /init (busybox-static, fetched with `apt-get download`)
# prints a marker with its command line and powers off. A boot passes when the marker shows the
# installer's command line (osc.mode=install, from the boot menu's default
# entry) after the boot menu was drawn on the serial console, and QEMU powers
# off; the legacy menu's Memory Test is also chosen (keys sent over the
# serial line) until memtest86+ runs, and SeaBIOS must pass over the
# standard (UEFI-only) stick to the next boot device. Each boot is time-boxed by
# MEDIUM_TIMEOUT (seconds, default 300) and prints its boot-to-marker time,
# and its serial log on failure.
# Output under build/medium-boot/.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
out=$root/build/medium-boot
timeout_s=${MEDIUM_TIMEOUT:-300}
export PATH=/usr/local/go/bin:$PATH
# shellcheck source=scripts/lib/debian-guest.sh
. "$root/scripts/lib/debian-guest.sh"

"$root/scripts/deps.sh"     # mkfs.fat, mcopy, ISOLINUX for the builder
"$root/scripts/e2e/deps.sh" # QEMU, OVMF
mkdir -p "$out"

debian_fetch "$out" busybox-static
stage=$out/stage
. "$root/scripts/lib/cache.sh"
"$root/scripts/image/system.sh" "$(onramp_cache)/image-system"
sysboot=$(onramp_cache)/image-system/boot
go build -o "$out/osc" ./cmd/osc
osc=$out/osc

marker=ONRAMP-MEDIUM-BOOT
pl=$out/payload
rm -rf "$pl" "$out/initramfs"
mkdir -p "$pl/efi/EFI/BOOT" "$pl/eula" "$out/initramfs"/{bin,dev,proc}
cp "$sysboot/vmlinuz" "$pl/vmlinuz"
cp "$sysboot/shimx64.efi" "$pl/efi/EFI/BOOT/BOOTX64.EFI"
cp "$sysboot/grubx64.efi" "$pl/efi/EFI/BOOT/grubx64.efi"
cp "$stage/bin/busybox" "$out/initramfs/bin/busybox"
mknod -m 600 "$out/initramfs/dev/console" c 5 1
cat >"$out/initramfs/init" <<EOF
#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
echo "$marker: \$(/bin/busybox cat /proc/cmdline)"
/bin/busybox poweroff -f
EOF
chmod 755 "$out/initramfs/init"
(cd "$out/initramfs" && find . | cpio -o -H newc --quiet | gzip -9) >"$pl/initrd.img"
# Stands in for the system image: makes the payload about 40 MB.
head -c 30000000 /dev/urandom >"$pl/system.squashfs"
echo "Smoke test payload: no license." >"$pl/eula/en.txt"

rm -f "$out"/key.key "$out"/key.pub
"$osc" image keygen "$out/key" >/dev/null
"$osc" image sign --key "$out/key.key" --os-name "Onramp OS" --version 0.0.1-smoke "$pl" >/dev/null
rm -rf "$pl-legacy" && cp -a "$pl" "$pl-legacy"
"$osc" image sign --key "$out/key.key" --variant legacy "$pl-legacy" >/dev/null

build() { # build NAME ARGS...: osc image build, timed
	local name=$1 t0
	shift
	t0=$(date +%s.%N)
	"$osc" image build --trust-key "$out/key.pub" --out "$out/$name.iso" "$@" 2>/dev/null
	echo "medium-boot: built $name.iso in $(echo "$(date +%s.%N) - $t0" | bc | xargs printf '%.2f') s"
}
build standard --payload "$pl"
build legacy --payload "$pl-legacy" --variant legacy --memtest "$sysboot/memtest86+x64.bin" --syslinux "$sysboot/syslinux"

stick() { # stick ISO IMG: the ISO written with osc write to a 256 MiB stick image
	rm -f "$2" && truncate -s 256M "$2"
	"$osc" write --yes "$1" "$2" >/dev/null 2>&1
}
stick "$out/standard.iso" "$out/usb-standard.img"
stick "$out/legacy.iso" "$out/usb-legacy.img"

failed=0
boot() { # boot NAME QEMU-ARGS...: waits for the marker, then for QEMU to power off
	local name=$1 log=$out/$1.log t0 t1="" pid
	shift
	: >"$log"
	t0=$(date +%s.%N)
	timeout --kill-after=10 "$timeout_s" qemu-system-x86_64 -machine accel=tcg -m 1024 \
		-nic none -display none -monitor none -serial "file:$log" -no-reboot "$@" &
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		if [ -z "$t1" ] && grep -aq "$marker: .*osc\.mode=install" "$log"; then
			t1=$(date +%s.%N)
		fi
		sleep 0.2
	done
	wait "$pid" && rc=0 || rc=$?
	[ -n "$t1" ] || ! grep -aq "$marker: .*osc\.mode=install" "$log" || t1=$(date +%s.%N)
	# The boot menu was drawn on the serial console, and powered off after the marker.
	if [ -n "$t1" ] && [ "$rc" -eq 0 ] && grep -aq "Failsafe Installation + Recovery" "$log"; then
		echo "medium-boot: $name: $(grep -ao "$marker: .*" "$log" | tr -d '\r')"
		echo "medium-boot: $name: PASS, boot to marker in $(echo "$t1 - $t0" | bc | xargs printf '%.1f') s"
		return 0
	fi
	echo "=== $name: serial log ($log) ==="
	cat "$log"
	echo "=== end of serial log ==="
	echo "medium-boot: $name: FAIL (qemu exit $rc; 124: no power-off within ${timeout_s}s)" >&2
	failed=1
}

# memtest NAME QEMU-ARGS...: drives the legacy menu to "Memory Test" over the
# serial line (ISOLINUX reads its keys there too) and waits for memtest86+
# to draw its screen; memtest never ends, so QEMU is stopped then.
memtest() {
	local name=$1 log=$out/$1.log fifo=$out/$1.serial t0 t1="" pid drain
	shift
	: >"$log"
	rm -f "$fifo.in" "$fifo.out" && mkfifo "$fifo.in" "$fifo.out"
	t0=$(date +%s.%N)
	timeout --kill-after=10 "$timeout_s" qemu-system-x86_64 -machine accel=tcg -m 1024 \
		-nic none -display none -monitor none -chardev "pipe,id=s0,path=$fifo,logfile=$log" -serial chardev:s0 \
		-no-reboot "$@" 2>"$log.stderr" &
	pid=$!
	cat "$fifo.out" >/dev/null &
	drain=$!
	local keys=0
	while kill -0 "$pid" 2>/dev/null; do
		if [ "$keys" = 0 ] && grep -aq "Automatic boot in" "$log"; then
			printf '\e[B\e[B\e[B\r' >"$fifo.in" # three down, Enter: the fourth entry
			keys=1
		fi
		if grep -aq "Memtest86+ v[0-9]" "$log"; then
			t1=$(date +%s.%N)
			break
		fi
		sleep 0.2
	done
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	kill "$drain" 2>/dev/null || true
	rm -f "$fifo.in" "$fifo.out"
	if [ -n "$t1" ]; then
		echo "medium-boot: $name: PASS, memtest86+ running $(echo "$t1 - $t0" | bc | xargs printf '%.1f') s after power-on"
		return 0
	fi
	echo "=== $name: serial log ($log) ==="
	cat "$log"
	echo "=== end of serial log ==="
	cat "$log.stderr"
	echo "medium-boot: $name: FAIL (no memtest86+ screen within ${timeout_s}s)" >&2
	failed=1
}

ovmf() { # ovmf NAME: UEFI firmware with a fresh copy of its variable store
	cp /usr/share/OVMF/OVMF_VARS.fd "$out/$1-vars.fd"
	echo -drive "if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE.fd" \
		-drive "if=pflash,format=raw,file=$out/$1-vars.fd"
}
# shellcheck disable=SC2046 # ovmf prints words meant to be split
boot ovmf-cdrom -machine q35 $(ovmf ovmf-cdrom) -drive "media=cdrom,format=raw,readonly=on,file=$out/standard.iso"
# shellcheck disable=SC2046
boot ovmf-usb -machine q35 $(ovmf ovmf-usb) -device qemu-xhci \
	-drive "if=none,id=stick,format=raw,file=$out/usb-standard.img" -device usb-storage,drive=stick,removable=on
boot seabios-usb -machine pc -device qemu-xhci \
	-drive "if=none,id=stick,format=raw,file=$out/usb-legacy.img" -device usb-storage,drive=stick,bootindex=1
memtest seabios-usb-memtest -machine pc -device qemu-xhci \
	-drive "if=none,id=stick,format=raw,file=$out/usb-legacy.img" -device usb-storage,drive=stick,bootindex=1
# The standard ISO on a BIOS: its MBR code says it needs UEFI and hands over
# to the next boot device (INT 18h), which SeaBIOS's debug port shows.
dbg=$out/seabios-standard.debug
rm -f "$dbg"
handover() { grep -aA2 "^Booting from Hard Disk" "$dbg" 2>/dev/null | grep -q "handle_18"; }
timeout "$timeout_s" qemu-system-x86_64 -machine pc,accel=tcg -m 256 -nic none -display none -monitor none \
	-serial null -chardev "file,id=dbg,path=$dbg" -device isa-debugcon,iobase=0x402,chardev=dbg \
	-device qemu-xhci -drive "if=none,id=stick,format=raw,readonly=on,file=$out/usb-standard.img" \
	-device usb-storage,drive=stick,bootindex=1 -no-reboot 2>"$dbg.stderr" &
pid=$!
while kill -0 "$pid" 2>/dev/null && ! handover; do sleep 0.2; done
kill "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
if handover; then
	echo "medium-boot: seabios-usb-standard: PASS, the UEFI-only medium hands over to the next boot device"
else
	echo "=== seabios-usb-standard: SeaBIOS debug log ($dbg) ===" && cat "$dbg"
	echo "medium-boot: seabios-usb-standard: FAIL (no INT 18h after booting the stick)" >&2
	failed=1
fi
exit "$failed"
