#!/usr/bin/env bash
# Boots the e2e guest (scripts/e2e/build-initramfs.sh) in QEMU without a
# network device, time-boxed, and passes only when the guest prints
# "ONRAMP-E2E: PASS". On failure (or timeout) the guest's serial log is
# printed. E2E_TIMEOUT (seconds, default 300; a pass takes about 60 s)
# bounds the boot; E2E_BUILD=0 skips rebuilding the initramfs; E2E_ACCEL
# picks QEMU's accelerator (default tcg).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=build/e2e
timeout_s=${E2E_TIMEOUT:-300}
# The test binary's own limit, inside the guest: leaves time to boot and report.
test_s=$((timeout_s > 120 ? timeout_s - 60 : timeout_s / 2))

[ "${E2E_BUILD:-1}" = 0 ] || ./scripts/e2e/build-initramfs.sh

log=$out/serial.log
: >"$log"
# Software emulation: /dev/kvm may exist without working (it hangs then).
# E2E_ACCEL=kvm where KVM is known to work.
accel=${E2E_ACCEL:-tcg}
start=$(date +%s)
set +e
timeout --kill-after=10 "$timeout_s" qemu-system-x86_64 \
	-machine accel="$accel" -cpu max -smp 2 -m 1024 \
	-kernel "$out/vmlinuz" -initrd "$out/initramfs.cpio.gz" \
	-append "console=ttyS0 panic=-1 quiet loglevel=3 e2e_timeout=${test_s}s" \
	-nic none -display none -monitor none -serial "file:$log" -no-reboot
rc=$?
set -e
secs=$(($(date +%s) - start))

if grep -q '^ONRAMP-E2E: PASS' "$log"; then
	grep -E '^(=== RUN|--- |\s+--- |PASS|FAIL|ok|e2e\[)|e2e_wlan_test.go' "$log" || true
	echo "e2e: PASS in ${secs}s"
	exit 0
fi
echo "=== guest serial log ($log) ==="
cat "$log"
echo "=== end of guest serial log ==="
if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
	echo "e2e: FAIL: no result within ${timeout_s}s" >&2
else
	echo "e2e: FAIL after ${secs}s (qemu exit $rc)" >&2
fi
exit 1
