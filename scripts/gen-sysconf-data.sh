#!/usr/bin/env bash
# Refreshes the data sysconf embeds: base.lst from Debian's xkb-data package
# (downloaded with apt, unpacked with dpkg-deb, never installed) and the zone
# names of Go's embedded tzdata. Run from anywhere; writes sysconf/data/.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && apt-get download xkb-data >/dev/null 2>&1) || {
	[ "$(id -u)" -eq 0 ] && apt-get update -qq
	(cd "$tmp" && apt-get download xkb-data >/dev/null)
}
deb=$(ls "$tmp"/xkb-data_*.deb)
dpkg-deb -x "$deb" "$tmp/x"
go run ./scripts/sysconfdata -base-lst "$tmp/x/usr/share/X11/xkb/rules/base.lst" -out sysconf/data
echo "sysconf/data: base.lst from $(basename "$deb"), zones.txt from Go $(go env GOVERSION)"
