#!/usr/bin/env bash
# The setup assistant's numbers (issue 3): time from process start to the
# first complete frame on an 80x24 pty (budget 100 ms), peak RSS of a demo
# run to the network screen (budget 40 MiB), and per-keystroke filtering of
# the whole time-zone list and of 500 WLANs (budget 1 ms each). Prints one
# line per number with its budget and exits non-zero when one is over.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x bin/setup-assistant ] || go build -o bin/ ./cmd/setup-assistant
fail=0
check() { # name value unit budget
	local verdict=ok
	if awk -v v="$2" -v b="$4" 'BEGIN { exit !(v > b) }'; then verdict=OVER; fail=1; fi
	printf '%-34s %10s %-5s (budget %s %s) %s\n' "$1" "$2" "$3" "$4" "$3" "$verdict"
}
read -r _ frame < <(go run ./scripts/benchsetup -bin bin/setup-assistant -runs "${BENCH_RUNS:-7}" | grep first_frame_ms)
read -r _ rss < <(go run ./scripts/benchsetup -bin bin/setup-assistant -runs 1 | grep peak_rss_kib)
check "first complete frame (median)" "$frame" ms 100
check "peak RSS (demo to network)" "$(awk -v k="$rss" 'BEGIN { printf "%.1f", k/1024 }')" MiB 40
while read -r name _ ns _; do
	check "$name per keystroke" "$(awk -v n="$ns" 'BEGIN { printf "%.3f", n/1e6 }')" ms 1
done < <(go test ./tui/setup -run '^$' -bench 'BenchmarkFilter(TimeZones|WLAN500)$' -benchtime 2000x | grep '^Benchmark' | sed 's/-[0-9]* / /')
exit $fail
