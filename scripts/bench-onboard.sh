#!/usr/bin/env bash
# Onboarding benchmark: enrollment against a ums-lab on loopback, done by the
# Go client (ums-lab loadgen: the setup assistant's real code path) and by
# openssl req + curl doing the same steps, in one run, same server, same
# number of devices started at once.
#
# Each device: GET cacerts on an unverified TLS 1.3 session, find the root
# whose SHA-256 part 3 is the communication token, new ECDSA P-256 key and CSR
# (CN = Unit ID), POST simpleenroll on a session trusting only that root with
# Basic auth (Unit ID, its own one-time key), decode the PKCS#7 answer, store
# key, certificate and chain. The Go client also fsyncs each file (atomic
# writes); the shell side does not.
#
# Settings: BENCH_DEVICES (1000), BENCH_CONCURRENCY (all at once),
# BENCH_SHELL_CONCURRENCY (same), BENCH_LATENCY_DEVICES (100: enrolled one at
# a time first, for the latency of an idle server), BENCH_DIR (build/bench-onboard).
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in openssl curl base64 awk xargs; do
	command -v "$tool" >/dev/null || { echo "bench-onboard: $tool is not installed" >&2; exit 1; }
done
N=${BENCH_DEVICES:-1000}
C=${BENCH_CONCURRENCY:-$N}
SC=${BENCH_SHELL_CONCURRENCY:-$C}
dir=${BENCH_DIR:-build/bench-onboard}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
# Only what an earlier run left: BENCH_DIR may be a folder with other files.
rm -rf "$dir"/state "$dir"/go-* "$dir"/sh-* "$dir"/keys-*.txt "$dir"/serve.log

lab=${ONRAMP_BIN:-$PWD/bin}/ums-lab
if [ ! -x "$lab" ]; then
	lab=$dir/ums-lab
	go build -o "$lab" ./cmd/ums-lab
fi
state=$dir/state
L=${BENCH_LATENCY_DEVICES:-100}
"$lab" keys create --one-time --count "$((N + L))" --state "$state" >"$dir/keys-go.txt"
"$lab" keys create --one-time --count "$((N + L))" --state "$state" >"$dir/keys-sh.txt"
token=$("$lab" token --part 3 --state "$state")

"$lab" serve --listen 127.0.0.1:0 --state "$state" 2>"$dir/serve.log" &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null || true' EXIT
addr=
for _ in $(seq 100); do
	addr=$(sed -n 's/.*msg=serving addr=\([^ ]*\).*/\1/p' "$dir/serve.log")
	[ -n "$addr" ] && break
	sleep 0.1
done
[ -n "$addr" ] || { echo "bench-onboard: ums-lab did not start:" >&2; cat "$dir/serve.log" >&2; exit 1; }

echo "bench-onboard: $N devices, concurrency $C (Go) / $SC (openssl+curl), ums-lab on $addr, $(nproc) cores"

# --- Go client ---------------------------------------------------------------
# run_go NAME FIRST COUNT CONCURRENCY: devices FIRST..FIRST+COUNT-1.
run_go() {
	tail -n +"$(($2 + 1))" "$dir/keys-go.txt" | head -n "$3" >"$dir/keys-go-$1.txt"
	"$lab" loadgen --server "$addr" --token "$token" --keys "$dir/keys-go-$1.txt" \
		--devices "$3" --concurrency "$4" --work "$dir/go-$1" --unit-base $((0x00C000000000 + $2))
}
# --- openssl req + curl ------------------------------------------------------
est=https://$addr/device-connector/device/.well-known/est
# enroll_one I KEY: one device; appends "I STATUS NANOSECONDS" to its own file.
enroll_one() {
	local i=$1 key=$2 d=$BENCH_SH/$1 t0 t1 status=ok
	local unit
	unit=$(printf '00D0%08X' "$i")
	mkdir -p "$d"
	t0=$(date +%s%N)
	{
		curl -sf --tlsv1.3 --insecure "$EST/cacerts" | tr -d "\r\n" | base64 -d >"$d/cacerts.der" &&
			openssl pkcs7 -inform DER -in "$d/cacerts.der" -print_certs -out "$d/chain.pem" &&
			awk -v d="$d" '/BEGIN CERT/{n++} {print > (d "/ca" n ".pem")}' "$d/chain.pem" &&
			root= && for c in "$d"/ca*.pem; do
				fp=$(openssl x509 -in "$c" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr 'A-F' 'a-f')
				[ "${fp:32:16}" = "$TOKEN" ] && root=$c
			done && [ -n "$root" ] &&
			openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$d/device.key" \
				-subj "/CN=$unit" -outform DER -out "$d/csr.der" 2>/dev/null &&
			base64 "$d/csr.der" >"$d/csr.b64" &&
			curl -sf --tlsv1.3 --cacert "$root" -u "$unit:$key" -H 'Content-Type: application/pkcs10' \
				--data-binary @"$d/csr.b64" "$EST/simpleenroll" | tr -d "\r\n" | base64 -d >"$d/cert.der" &&
			openssl pkcs7 -inform DER -in "$d/cert.der" -print_certs -out "$d/device.crt" &&
			cp "$d/chain.pem" "$d/ca.crt"
	} 2>>"$d/err" || status=fail
	t1=$(date +%s%N)
	echo "$i $status $((t1 - t0))" >"$d/result"
}
export -f enroll_one
export EST=$est TOKEN=$token
# run_sh NAME FIRST COUNT CONCURRENCY: like run_go, with openssl and curl.
run_sh() {
	export BENCH_SH=$dir/sh-$1
	mkdir -p "$BENCH_SH"
	local t0 t1
	t0=$(date +%s%N)
	awk -v first="$2" 'NR > first { print NR - 1, $0 }' "$dir/keys-sh.txt" | head -n "$3" |
		xargs -P "$4" -n 2 bash -c 'set -o pipefail; enroll_one "$@"' _
	t1=$(date +%s%N)
	cat "$BENCH_SH"/*/result | sort -k3,3n | awk -v n="$3" -v wall=$((t1 - t0)) '
		$2 == "ok" { lat[ok++] = $3 }
		END {
			p50 = lat[int(0.50 * ok + 0.999999) - 1]; p99 = lat[int(0.99 * ok + 0.999999) - 1]; mx = lat[ok - 1]
			printf "devices=%d ok=%d failed=%d p50_ms=%.1f p99_ms=%.1f max_ms=%.1f wall_s=%.2f throughput_per_s=%.1f\n",
				n, ok, n - ok, p50 / 1e6, p99 / 1e6, mx / 1e6, wall / 1e9, ok / (wall / 1e9)
		}'
}

# One device at a time: the latency of an enrollment on an idle server.
lat_go=$(run_go seq 0 "$L" 1)
lat_sh=$(run_sh seq 0 "$L" 1)
# N devices at once: latency under load and throughput.
load_go=$(run_go load "$L" "$N" "$C")
load_sh=$(run_sh load "$L" "$N" "$SC")

# Both kinds of certificate must verify against the lab CA.
first_go=$(ls "$dir/go-load" | head -1)
openssl verify -purpose sslclient -CAfile "$state/root.crt" -untrusted "$state/issuer.crt" \
	"$dir/go-load/$first_go/etc/onramp/ums/device.crt" "$dir/sh-load/$L/device.crt" >/dev/null

field() { sed -n "s/.*$1=\([^ ]*\).*/\1/p" <<<"$2"; }
row() {
	printf '%-28s %8s %8s %10s %10s %10s %14s\n' "$1" "$(field devices "$2")" "$(field ok "$2")" \
		"$(field p50_ms "$2")" "$(field p99_ms "$2")" "$(field wall_s "$2")" "$(field throughput_per_s "$2")"
}
printf '\n%-28s %8s %8s %10s %10s %10s %14s\n' method devices ok p50_ms p99_ms wall_s enrollments/s
row "go-client, one at a time" "$lat_go"
row "openssl+curl, one at a time" "$lat_sh"
row "go-client, $C at once" "$load_go"
row "openssl+curl, $SC at once" "$load_sh"
echo
echo "registry: $("$lab" devices list --state "$state" | tail -n +2 | wc -l) devices; details in $dir"
