#!/usr/bin/env bash
# Proves the sample system's boot glue without an installer ISO: QEMU boots
# the payload's kernel and initrd directly (-kernel/-initrd, TCG, 1 GiB) and
# the serial console must show the markers in order:
#
#   system       a 4 GiB target installed on the host by `osc install
#                --answers` with first-boot answers (German, wired DHCP over
#                QEMU user networking with restrict=on, no onboarding):
#                ONRAMP-FIRSTBOOT: DONE, then ONRAMP-SYSTEM: READY
#   installer    osc.mode=install with an ISO 9660 image (xorriso) holding
#                onramp/ = the payload as a virtio disk: ONRAMP-INSTALLER: READY
#   autoinstall  the same plus autoinstall.yaml (with first-boot answers)
#                and a blank 4 GiB target: ONRAMP-INSTALL: DONE, then QEMU
#                ends (the guest powers off) and the target inspects (osc
#                inspect); then the target boots: ONRAMP-FIRSTBOOT: DONE,
#                ONRAMP-SYSTEM: READY
#
# Any "ONRAMP-*: FAIL" line or the time-box (SMOKE_TIMEOUT seconds per
# boot, default 300) fails the case and prints its serial log. Prints the
# boot-to-marker times. Usage: smoke.sh [CASE...] (default: all three);
# SMOKE_BUILD=0 skips scripts/image/build.sh; SMOKE_ACCEL=kvm where KVM works.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=build/image
payload=$out/payload
work=$out/smoke
timeout_s=${SMOKE_TIMEOUT:-300}
accel=${SMOKE_ACCEL:-tcg}
cases=("$@")
[ ${#cases[@]} -gt 0 ] || cases=(system installer autoinstall)

[ "${SMOKE_BUILD:-1}" = 0 ] || ./scripts/image/build.sh
osc=$out/bin/osc
mkdir -p "$work"

qpid=
cleanup() { [ -z "$qpid" ] || kill "$qpid" 2>/dev/null || true; }
trap cleanup EXIT

# boot NAME APPEND MARKER... -- QEMU-ARGS... boots the payload's kernel
# with APPEND and waits for each MARKER in turn on the serial console;
# the marker "(poweroff)" waits for QEMU to end by itself.
boot() {
	local name=$1 append=$2
	shift 2
	local markers=()
	while [ "$1" != -- ]; do markers+=("$1"); shift; done
	shift
	local log=$work/$name.log i=0 t0 now report=""
	: >"$log"
	t0=$(date +%s%N)
	qemu-system-x86_64 -machine accel="$accel" -cpu max -smp 2 -m 1024 \
		-kernel "$payload/vmlinuz" -initrd "$payload/initrd.img" \
		-append "$append console=ttyS0 panic=-1" \
		-display none -monitor none -serial "file:$log" -no-reboot "$@" 2>"$log.qemu" &
	qpid=$!
	while [ "$i" -lt ${#markers[@]} ]; do
		now=$(date +%s%N)
		if grep -aq 'ONRAMP-[A-Z]*: FAIL' "$log"; then
			failed "$name" "$log" "$(grep -a 'ONRAMP-[A-Z]*: FAIL' "$log" | head -n1 | tr -d '\r')"
		elif [ "${markers[$i]}" = "(poweroff)" ] && ! kill -0 "$qpid" 2>/dev/null; then
			wait "$qpid" || failed "$name" "$log" "QEMU exited with an error"
			qpid=
		elif [ "${markers[$i]}" != "(poweroff)" ] && grep -aqF "${markers[$i]}" "$log"; then
			:
		elif ! kill -0 "$qpid" 2>/dev/null; then
			qpid=
			failed "$name" "$log" "QEMU ended before \"${markers[$i]}\""
		elif [ $(((now - t0) / 1000000000)) -ge "$timeout_s" ]; then
			failed "$name" "$log" "no \"${markers[$i]}\" within ${timeout_s}s"
		else
			sleep 0.2
			continue
		fi
		report+="  ${markers[$i]} after $(awk -v ns=$((now - t0)) 'BEGIN {printf "%.1f", ns / 1e9}')s"$'\n'
		i=$((i + 1))
	done
	cleanup
	[ -z "$qpid" ] || wait "$qpid" 2>/dev/null || true
	qpid=
	echo "smoke: $name PASS"
	printf '%s' "$report"
}

failed() {
	echo "=== $1: guest serial log ($2) ==="
	cat "$2"
	echo "=== end of serial log ==="
	[ ! -s "$2.qemu" ] || { echo "=== QEMU's messages ==="; cat "$2.qemu"; }
	echo "smoke: $1 FAIL: $3" >&2
	exit 1
}

# medium ISO [ANSWERS]: an ISO 9660 file system with the payload in onramp/
# (and the answers as autoinstall.yaml), as the installer medium's is.
medium() {
	local graft=(onramp/="$payload")
	[ -z "${2:-}" ] || graft+=(autoinstall.yaml="$2")
	xorriso -as mkisofs -quiet -R -J -V ONRAMP_SMOKE -o "$1" -graft-points "${graft[@]}" 2>/dev/null
}

for c in "${cases[@]}"; do
	case $c in
	system)
		cat >"$work/system-answers.yaml" <<EOF
target: $PWD/$work/system.img
accept_eula: true
after: exit
firstboot:
  language: de_DE
  keyboard: {layout: de, variant: nodeadkeys}
  eula: accept
  network: {wired: dhcp}
  timezone: Europe/Berlin
  onboarding: skip
EOF
		rm -f "$work/system.img"
		truncate -s 4G "$work/system.img"
		"$osc" install --answers "$work/system-answers.yaml" --source "$payload" \
			--trust-key scripts/image/dev.pub >"$work/system-install.log" 2>&1 ||
			{ cat "$work/system-install.log"; echo "smoke: system FAIL: osc install on the host" >&2; exit 1; }
		boot system "root=PARTLABEL=ONRAMP-SYS-A ro onramp.slot=a" "ONRAMP-FIRSTBOOT: DONE" "ONRAMP-SYSTEM: READY" -- \
			-drive if=virtio,format=raw,file="$work/system.img" \
			-nic user,model=virtio-net-pci,restrict=on
		;;
	installer)
		rm -f "$work/medium.iso"
		medium "$work/medium.iso"
		boot installer "osc.mode=install" "ONRAMP-INSTALLER: READY" -- \
			-drive if=virtio,format=raw,readonly=on,file="$work/medium.iso" -nic none
		;;
	autoinstall)
		cat >"$work/autoinstall.yaml" <<EOF
target: auto
accept_eula: true
after: poweroff
firstboot:
  language: en_US
  eula: accept
  network: skip
  timezone: UTC
  onboarding: skip
EOF
		rm -f "$work/medium-auto.iso" "$work/auto-target.img"
		medium "$work/medium-auto.iso" "$work/autoinstall.yaml"
		truncate -s 4G "$work/auto-target.img"
		boot autoinstall "osc.mode=install" "ONRAMP-INSTALLER: READY" "ONRAMP-INSTALL: DONE" "(poweroff)" -- \
			-drive if=virtio,format=raw,readonly=on,file="$work/medium-auto.iso" \
			-drive if=virtio,format=raw,file="$work/auto-target.img" -nic none
		"$osc" inspect "$work/auto-target.img" || { echo "smoke: autoinstall FAIL: the target does not inspect" >&2; exit 1; }
		# What the installer wrote in the guest starts, with its first-boot answers.
		boot autoinstall-firstboot "root=PARTLABEL=ONRAMP-SYS-A ro onramp.slot=a" "ONRAMP-FIRSTBOOT: DONE" "ONRAMP-SYSTEM: READY" -- \
			-drive if=virtio,format=raw,file="$work/auto-target.img" -nic none
		;;
	*)
		echo "smoke: unknown case $c (system, installer, autoinstall)" >&2
		exit 2
		;;
	esac
done
