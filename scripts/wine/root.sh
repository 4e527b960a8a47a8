#!/usr/bin/env bash
# Makes, idempotently, the Debian 13 "trixie" tree that runs Onramp's
# Windows binaries under Wine 10 (Debian 12's Wine 8 cannot start Go 1.26
# programs: it lacks bcryptprimitives.dll). mmdebstrap --variant=apt with
# wine64 and wine; the Wine prefix is made once inside (wineboot). Cached in
# OUT by the hash of the suite, mirror, package list and this script:
# nothing is done when OUT/key matches.
#
# Usage: root.sh OUT. MIRROR (default http://deb.debian.org/debian) picks
# the archive.
set -euo pipefail
out=${1:?usage: root.sh OUT}
suite=trixie
mirror=${MIRROR:-http://deb.debian.org/debian}
packages=wine64,wine
key=$({ echo "$suite $mirror $packages"; sha256sum "$0" | cut -d' ' -f1; } | sha256sum | cut -d' ' -f1)
if [ -f "$out/key" ] && [ "$(cat "$out/key")" = "$key" ] && [ -d "$out/root" ]; then
	echo "wine root: cached ($out, key ${key:0:12})" >&2
	exit 0
fi
command -v mmdebstrap >/dev/null || {
	. "$(dirname "$0")/../apt-ensure.sh"
	apt_ensure mmdebstrap
}
rm -rf "$out"
mkdir -p "$out"
start=$(date +%s)
mmdebstrap --quiet --variant=apt --include="$packages" "$suite" "$out/root.tmp" "$mirror"
mv "$out/root.tmp" "$out/root"
# The prefix is made once here, so that each run starts in seconds.
"$(dirname "$0")/run.sh" "$out/root" wineboot --init
echo "$key" >"$out/key"
echo "wine root: made in $(($(date +%s) - start))s ($out)" >&2
