#!/usr/bin/env bash
# Runs a Windows program under Wine in ROOT (made by root.sh), with /proc,
# /sys and /dev bind-mounted for the run and unmounted after. Files the
# program needs are passed in through ROOT/work, which is ROOT's /work.
#
# Usage: run.sh ROOT PROGRAM [ARG...]; PROGRAM is wineboot or a path
# inside ROOT (e.g. /work/osc.exe). The exit status is the program's.
set -euo pipefail
root=${1:?usage: run.sh ROOT PROGRAM [ARG...]}
shift
root=$(cd "$root" && pwd)
mounted=()
cleanup() {
	local i
	for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount -l "${mounted[i]}" 2>/dev/null || true; done
}
trap cleanup EXIT
for d in proc sys dev; do
	mkdir -p "$root/$d"
	mountpoint -q "$root/$d" && continue
	mount --rbind "/$d" "$root/$d"
	mount --make-rslave "$root/$d"
	mounted+=("$root/$d")
done
mkdir -p "$root/work" "$root/tmp"
chmod 1777 "$root/tmp"
# wine64 (Debian's amd64 loader) runs both the wineboot step and programs;
# WINEDEBUG=-all keeps Wine's own chatter out of the program's output.
set +e
mkdir -p -m 0700 "$root/tmp/xdg"
chroot "$root" /usr/bin/env -i -C "${WINE_CWD:-/}" HOME=/root WINEPREFIX=/root/.wine WINEDEBUG=-all XDG_RUNTIME_DIR=/tmp/xdg \
	PATH=/usr/local/bin:/usr/bin:/bin:/usr/lib/wine LANG=C.UTF-8 \
	${WINE_ENV:-} wine "$@"
rc=$?
set -e
exit $rc
