#!/usr/bin/env bash
# make bench: osc write against dd on the same targets in one run.
# Targets: a loop device attached with --direct-io=on (a plain loop device
# keeps the data in the backing file's page cache) over a file on a tmpfs,
# and a regular file. Caches
# are dropped before each run; the final sync is inside the timing (dd
# conv=fsync, osc syncs before it reports). Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "bench: needs root (loop devices, drop_caches)" >&2; exit 1; }
SIZE=${BENCH_SIZE:-1073741824}
dir=${BENCH_DIR:-build/bench}
mkdir -p "$dir"
osc=$PWD/bin/osc
timebin=/usr/bin/time

for kind in random installer; do
	img=$dir/$kind.img
	if [ ! -s "$img" ] || [ "$(stat -c %s "$img")" != "$SIZE" ]; then
		go run ./scripts/benchimage -kind $kind -size "$SIZE" -out "$img"
		rm -f "$img.zst" "$img.xz"
	fi
	[ -s "$img.zst" ] || zstd -q -T0 -3 -k "$img" -o "$img.zst"
	[ -s "$img.xz" ] || xz -T0 -6 -k -c "$img" > "$img.xz"
done

# The loop device's backing file is on a tmpfs: osc refuses a loop device
# over a file on the system disk as the system disk it is stacked on.
shm=$(mktemp -d /dev/shm/onramp-bench.XXXXXX)
back=$shm/loop-backing
truncate -s $((SIZE + 64*1024*1024)) "$back"
loop=$(losetup --find --show --direct-io=on "$back")
file=$dir/target.file
trap 'losetup -d "$loop"; rm -rf "$shm"' EXIT

# once CMD...: drop caches, run, print "seconds rssKiB".
once() {
	sync; echo 3 > /proc/sys/vm/drop_caches
	local tf; tf=$(mktemp)
	if ! $timebin -o "$tf" -f '%e %M' "$@" >/dev/null 2>"$tf.err"; then
		echo "bench: $* failed:" >&2; cat "$tf.err" >&2
	fi
	tail -1 "$tf"; rm -f "$tf" "$tf.err"
}

# run NAME CMD...: REPS runs; the median time, its ratio to the last dd run
# of this block, and the peak RSS.
REPS=${BENCH_REPS:-3}
run() {
	local name=$1; shift
	local secs rss times=() peak=0
	for _ in $(seq "$REPS"); do
		read -r secs rss < <(once "$@")
		times+=("$secs"); [ "$rss" -gt "$peak" ] && peak=$rss
	done
	local med; med=$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (REPS + 1) / 2 ))p")
	case $name in dd*) base=$med ;; "xz -dc"*) xzbase=$med ;; esac
	local ref=$base; case $name in *.xz) ref=$xzbase ;; esac
	printf '%-30s %6.2f s %7.1f MiB/s %6.2fx %-8s rss %5.1f MiB  (%s)\n' "$name" "$med" \
		"$(echo "$SIZE / 1048576 / $med" | bc -l)" "$(echo "$med / $ref" | bc -l)" \
		"$(case $name in *.xz) echo "xz|dd";; *) echo dd;; esac)" "$(echo "$peak / 1024" | bc -l)" "${times[*]}"
}

echo "median of $REPS runs; ratio to dd's write-only time (.xz: to xz -dc | dd)"
for kind in random installer; do
	img=$dir/$kind.img
	for tgt in loop file; do
		if [ $tgt = loop ]; then T=$loop; else T=$file; fallocate -l "$SIZE" "$file"; fi
		echo "== $kind image -> $tgt ($T)"
		run "dd bs=4M oflag=direct" dd if="$img" of="$T" bs=4M oflag=direct conv=fsync,notrunc
		run "osc write --no-verify" "$osc" write --yes --force --no-verify "$img" "$T"
		run "osc write (verify)" "$osc" write --yes --force "$img" "$T"
		run "osc write --no-verify .zst" "$osc" write --yes --force --no-verify "$img.zst" "$T"
		run "xz -dc | dd" bash -c "xz -dc '$img.xz' | dd of='$T' bs=4M iflag=fullblock oflag=direct conv=fsync,notrunc"
		run "osc write --no-verify .xz" "$osc" write --yes --force --no-verify "$img.xz" "$T"
	done
done
