#!/usr/bin/env bash
# make cross: osc and every package it is made of build and pass go vet
# (tests included) for each system osc ships for besides Linux (issue 21).
# The Linux-only programs (setup-assistant, settings, ums-lab, benchmarks)
# are not among them: they run on the device.
set -euo pipefail
cd "$(dirname "$0")/.."
module=$(go list -m)
for target in ${CROSS_TARGETS:-windows/amd64 windows/arm64 darwin/amd64 darwin/arm64}; do
	export GOOS=${target%/*} GOARCH=${target#*/}
	mapfile -t pkgs < <(go list -deps -f '{{if not .Standard}}{{.ImportPath}}{{end}}' ./cmd/osc | grep "^$module")
	echo "cross: $target: build and vet ${#pkgs[@]} packages" >&2
	go build -o /dev/null ./cmd/osc
	go vet "${pkgs[@]}"
done
