#!/usr/bin/env bash
# make bench: osc write against dd and bmaptool copy on the same targets in
# one run. Images: 1 GiB random, 1 GiB zero-heavy (installer-like, 60% zeros
# in long runs, written densely: no holes, no bmap), 256 MiB sparse (10%
# data, holes between) with the bmap of bmaptool create beside it.
# Targets:
#  - throttled: a loop device with --direct-io=on, limited to 40 MiB/s write
#    and 120 MiB/s read (a USB 2 stick) by the cgroup v1 blkio controller
#    (blkio.throttle.{write,read}_bps_device); every command runs in that
#    cgroup;
#  - host-cache: a plain loop device, whose data stays in the backing file's
#    page cache (memory speed: what the tools themselves cost).
# Caches are dropped before each run; the final sync is inside the timing
# (dd conv=fsync, osc and bmaptool sync before they exit). Write+verify:
# osc reads the target back; dd is followed by cmp of the image and the
# target; bmaptool checks the image against the bmap's checksums as it copies
# (it does not read the target back). BENCH_TARGETS="throttled host-cache"
# picks targets; BENCH_REPS (host cache, default 5) and BENCH_THROTTLED_REPS
# (default 1: the throttle makes those runs steady) set the rounds. Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "bench: needs root (loop devices, cgroups, drop_caches)" >&2; exit 1; }
command -v bmaptool >/dev/null || { echo "bench: bmaptool missing (scripts/deps.sh installs bmap-tools)" >&2; exit 1; }
GIB=1073741824
SPARSE_SIZE=${BENCH_SPARSE_SIZE:-268435456}
SIZE=${BENCH_SIZE:-$GIB}
WRITE_BPS=$((40 << 20))
READ_BPS=$((120 << 20))
dir=${BENCH_DIR:-build/bench}
blkio=${BENCH_BLKIO:-/sys/fs/cgroup/blkio}
mkdir -p "$dir"
osc=$PWD/bin/osc
timebin=/usr/bin/time

# image KIND SIZE: build/bench/KIND.img, made once.
image() {
	local img=$dir/$1.img
	if [ ! -s "$img" ] || [ "$(stat -c %s "$img")" != "$2" ]; then
		go run ./scripts/benchimage -kind "$1" -size "$2" -out "$img"
		rm -f "$img".*
	fi
}
image random "$SIZE"
image installer "$SIZE"
image sparse "$SPARSE_SIZE"
for kind in random installer; do
	img=$dir/$kind.img
	[ -s "$img.zst" ] || zstd -q -T0 -3 -k "$img" -o "$img.zst"
	# xz takes minutes per GiB of random data: the zero-heavy image only.
	[ $kind = random ] || [ -s "$img.xz" ] || xz -T0 -1 -k -c "$img" > "$img.xz"
	# bmaptool's map of a dense file maps all of it; osc must not find it.
	[ -s "$img.bmaptool" ] || bmaptool -q create -o "$img.bmaptool" "$img"
done
[ -s "$dir/sparse.img.bmap" ] || bmaptool -q create -o "$dir/sparse.img.bmap" "$dir/sparse.img"

# The loop devices' backing files are on a tmpfs: osc refuses a loop device
# over a file on the system disk as the system disk it is stacked on.
shm=$(mktemp -d /dev/shm/onramp-bench.XXXXXX)
back=$shm/loop-backing
back2=$shm/loop-backing-cached
fallocate -l $((SIZE + 64*1024*1024)) "$back"
fallocate -l $((SIZE + 64*1024*1024)) "$back2"
slow=$(losetup --find --show --direct-io=on "$back")
cached=$(losetup --find --show "$back2")
cg=$blkio/onramp-bench-$$
mkdir "$cg"
trap 'rmdir "$cg" 2>/dev/null; losetup -d "$slow"; losetup -d "$cached"; rm -rf "$shm"' EXIT
majmin=$(lsblk -dno MAJ:MIN "$slow" | tr -d ' ')
echo "$majmin $WRITE_BPS" > "$cg/blkio.throttle.write_bps_device"
echo "$majmin $READ_BPS" > "$cg/blkio.throttle.read_bps_device"

# once CMD...: drop caches, run in the benchmark's cgroup, print "seconds rssKiB".
once() {
	sync; echo 3 > /proc/sys/vm/drop_caches
	local tf; tf=$(mktemp)
	if ! $timebin -o "$tf" -f '%e %M' sh -c 'echo $$ > "$0/cgroup.procs"; exec "$@"' "$cg" "$@" >/dev/null 2>"$tf.err"; then
		echo "bench: $* failed:" >&2; cat "$tf.err" >&2
	fi
	tail -1 "$tf"; rm -f "$tf" "$tf.err"
}

# Rows of one block, measured together: row NAME COMMAND adds one (a shell
# command line), measure runs REPS rounds over all rows, interleaved (the
# load of a shared machine drifts, and each row sees the same drift), and
# prints per row the median time, the rate over the image, its ratio to this
# block's dd (write rows) or dd + cmp (verify rows), and the peak RSS.
rows=()
declare -A cmds
row() { rows+=("$1"); cmds[$1]=$2; }
measure() {
	local name secs rss rep
	declare -A times peak med
	for rep in $(seq "$REPS"); do
		for name in "${rows[@]}"; do
			read -r secs rss < <(once bash -c "${cmds[$name]}")
			times[$name]+="$secs "
			[ "$rss" -gt "${peak[$name]:-0}" ] && peak[$name]=$rss
		done
	done
	local base="" vbase="" xzbase="" ref what
	for name in "${rows[@]}"; do
		med[$name]=$(printf '%s\n' ${times[$name]} | sort -n | sed -n "$(( (REPS + 1) / 2 ))p")
		case $name in
		"dd + cmp") vbase=${med[$name]} ;;
		"dd"*) base=${med[$name]} ;;
		"xz -dc"*) xzbase=${med[$name]} ;;
		esac
	done
	for name in "${rows[@]}"; do
		case $name in
		*.xz) ref=$xzbase what="xz|dd" ;;
		*no-verify*) ref=$base what="dd" ;;
		*"(verify)"|*"+ cmp"|"bmaptool copy") ref=$vbase what="dd+cmp" ;;
		*) ref=$base what="dd" ;;
		esac
		printf '%-34s %7.2f s %7.1f MiB/s %6.2fx %-7s rss %5.1f MiB  (%s)\n' "$name" "${med[$name]}" \
			"$(echo "$isize / 1048576 / ${med[$name]}" | bc -l)" "$(echo "${med[$name]} / $ref" | bc -l)" "$what" \
			"$(echo "${peak[$name]} / 1024" | bc -l)" "${times[$name]% }"
	done
	rows=()
	cmds=()
}

# block IMAGE TARGET BMAP: the rows every image gets on a target.
block() {
	local img=$1 T=$2 bmap=$3
	isize=$(stat -c %s "$img")
	row "dd bs=4M oflag=direct" "exec dd if='$img' of='$T' bs=4M oflag=direct conv=fsync,notrunc"
	row "dd + cmp" "dd if='$img' of='$T' bs=4M oflag=direct conv=fsync,notrunc status=none && exec cmp -n $isize '$img' '$T'"
	row "bmaptool copy --no-verify" "exec bmaptool -q copy --no-verify --bmap '$bmap' '$img' '$T'"
	row "bmaptool copy" "exec bmaptool -q copy --bmap '$bmap' '$img' '$T'"
	row "osc write --no-verify" "exec '$osc' write --yes --force --no-verify '$img' '$T'"
	row "osc write (verify)" "exec '$osc' write --yes --force '$img' '$T'"
}

echo "median of interleaved runs (throttled: ${BENCH_THROTTLED_REPS:-1}, host cache: ${BENCH_REPS:-5}); ratio to dd (write rows), to dd + cmp (verify rows: bmaptool copy checks the image, osc reads the target back), .xz to xz -dc | dd"
for target in ${BENCH_TARGETS:-throttled host-cache}; do
	if [ "$target" = throttled ]; then
		T=$slow REPS=${BENCH_THROTTLED_REPS:-1}
	else
		T=$cached REPS=${BENCH_REPS:-5}
	fi
	for kind in random installer; do
		img=$dir/$kind.img
		echo "== $kind image ($((SIZE >> 20)) MiB, no bmap) -> $target ($T)"
		block "$img" "$T" "$img.bmaptool"
		if [ "$target" = host-cache ]; then
			row "osc write --no-verify .zst" "exec '$osc' write --yes --force --no-verify '$img.zst' '$T'"
		fi
		if [ "$target" = host-cache ] && [ -s "$img.xz" ]; then
			row "xz -dc | dd" "xz -dc '$img.xz' | dd of='$T' bs=4M iflag=fullblock oflag=direct conv=fsync,notrunc"
			row "osc write --no-verify .xz" "exec '$osc' write --yes --force --no-verify '$img.xz' '$T'"
		fi
		measure
	done
	img=$dir/sparse.img
	echo "== sparse image ($((SPARSE_SIZE >> 20)) MiB, bmap: $(grep -o '<MappedBlocksCount> *[0-9]*' "$img.bmap" | grep -o '[0-9]*$') blocks mapped) -> $target ($T)"
	block "$img" "$T" "$img.bmap"
	row "osc write --no-bmap (verify)" "exec '$osc' write --yes --force --no-bmap '$img' '$T'"
	measure
done
