#!/usr/bin/env bash
# make bench, osc install (issue 6): in one run,
#  1. install of a payload with a 1 GiB system.squashfs to a loop device
#     attached with --direct-io=on over a file on a tmpfs (a loop over a file
#     on the system disk is refused as one), against dd of the same 1 GiB
#     onto it;
#  2. the same install to a 64 GiB sparse file against an 8 GiB one.
# Targets of 1 and 2 should stay within 1.2x. Caches are dropped before each
# run; the final sync is inside the timing (dd conv=fsync; osc syncs and reads
# SYS-A back before it exits); making the fresh sparse file is not. osc
# verifies the payload before its first write (reading it from the disk), so
# its second read, while writing, comes from the page cache; SYS-A is then
# read back from the target. As a reference for that third pass over the
# disk, the same dd followed by a direct read-back of the 1 GiB is timed
# too. Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "bench-install: needs root (loop devices, drop_caches)" >&2; exit 1; }
SIZE=${BENCH_SIZE:-1073741824}
REPS=${BENCH_REPS:-3}
dir=${BENCH_DIR:-build/bench-install}
osc=${ONRAMP_BIN:-$PWD/bin}/osc
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

# The payload: random bytes as system.squashfs (nothing compresses or skips
# them), signed with a key made for the bench.
pl=$dir/payload
if [ ! -s "$pl/system.squashfs" ] || [ "$(stat -c %s "$pl/system.squashfs")" != "$SIZE" ] ||
	! grep -q '"chunks"' "$pl/manifest.json"; then
	rm -rf "$pl"; mkdir -p "$pl/efi/EFI/BOOT" "$pl/eula"
	head -c "$SIZE" /dev/urandom > "$pl/system.squashfs"
	echo kernel > "$pl/vmlinuz"; echo initrd > "$pl/initrd.img"
	echo loader > "$pl/efi/EFI/BOOT/BOOTX64.EFI"; echo "Be nice." > "$pl/eula/en.txt"
	rm -f "$dir/key.key" "$dir/key.pub"
	"$osc" image keygen "$dir/key" >/dev/null
	slot=$(( (SIZE + 1048575) / 1048576 * 1048576 ))
	"$osc" image sign --key "$dir/key.key" --os-name "Onramp OS" --version bench \
		--slot-size "$slot" --min-target-size $((slot * 2 + 1024 * 1048576)) "$pl" >/dev/null
fi
disk=$(( (SIZE * 2 + 2 * 1073741824) / 1048576 * 1048576 ))

# The loop device's backing file is on a tmpfs: osc refuses a loop device
# over a file on the system disk as the system disk it is stacked on.
shm=$(mktemp -d /dev/shm/onramp-bench-install.XXXXXX)
back=$shm/loop-backing
truncate -s "$disk" "$back"
loop=$(losetup --find --show --direct-io=on "$back")
trap 'losetup -d "$loop"; rm -rf "$shm" "$dir"/sparse-*.img' EXIT

# once CMD...: run $prep (untimed), drop caches, run CMD, print the elapsed
# seconds.
prep=:
once() {
	eval "$prep"
	sync; echo 3 > /proc/sys/vm/drop_caches
	local tf; tf=$(mktemp)
	if ! /usr/bin/time -o "$tf" -f '%e' "$@" >/dev/null 2>"$tf.err"; then
		echo "bench-install: $* failed:" >&2; cat "$tf.err" >&2; rm -f "$tf" "$tf.err"; exit 1
	fi
	tail -1 "$tf"; rm -f "$tf" "$tf.err"
}

# report NAME TIMES: prints the median of the times (seconds, space
# separated) with every one, and sets med.
report() {
	local name=$1; local times=($2)
	med=$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (${#times[@]} + 1) / 2 ))p")
	printf '%-34s %6.2f s %7.1f MiB/s  (%s)\n' "$name" "$med" "$(echo "$SIZE / 1048576 / $med" | bc -l)" "${times[*]}"
}

inst=("$osc" install --yes --accept-eula --trust-key "$dir/key.pub" --source "$pl" --migrate-settings no
	--migrate-licenses no --backup-dir "$dir/backups")
rb_count=$(( (SIZE + 4194303) / 4194304 ))

# The runs are interleaved, one of each per round, so that a load drifting
# during the bench (a shared machine) hits every case alike.
t_dd= t_ddrb= t_osc= t_8= t_64=
for _ in $(seq "$REPS"); do
	prep=:
	t_dd+=" $(once dd if="$pl/system.squashfs" of="$loop" bs=4M oflag=direct conv=fsync,notrunc)"
	t_ddrb+=" $(once sh -c "dd if='$pl/system.squashfs' of='$loop' bs=4M oflag=direct conv=fsync,notrunc &&
		dd if='$loop' of=/dev/null bs=4M count=$rb_count iflag=direct")"
	t_osc+=" $(once "${inst[@]}" --target "$loop")"
	prep="rm -f '$dir/sparse-8.img'; truncate -s 8G '$dir/sparse-8.img'"
	t_8+=" $(once "${inst[@]}" --target "$dir/sparse-8.img")"
	prep="rm -f '$dir/sparse-64.img'; truncate -s 64G '$dir/sparse-64.img'"
	t_64+=" $(once "${inst[@]}" --target "$dir/sparse-64.img")"
done

echo "median of $REPS interleaved runs, caches dropped before each; MiB/s of the $((SIZE >> 20)) MiB system image"
echo "== loop device $loop (--direct-io=on, $((disk >> 20)) MiB)"
report "dd bs=4M oflag=direct conv=fsync" "$t_dd"
dd=$med
report "dd as above, then read back" "$t_ddrb"
ddrb=$med
report "osc install" "$t_osc"
printf '%-34s %6.2fx (target <= 1.20x)\n' "osc install / dd" "$(echo "$med / $dd" | bc -l)"
printf '%-34s %6.2fx\n' "osc install / (dd + read-back)" "$(echo "$med / $ddrb" | bc -l)"

echo "== sparse image files"
report "osc install, 8 GiB sparse file" "$t_8"
small=$med
report "osc install, 64 GiB sparse file" "$t_64"
printf '%-34s %6.2fx (target <= 1.20x)\n' "64 GiB / 8 GiB" "$(echo "$med / $small" | bc -l)"
echo "allocated: 8 GiB file $(du -m "$dir/sparse-8.img" | cut -f1) MiB, 64 GiB file $(du -m "$dir/sparse-64.img" | cut -f1) MiB"
