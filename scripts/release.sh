#!/usr/bin/env bash
# make release: osc for linux/{amd64,arm64}, windows/{amd64,arm64} and
# darwin/{amd64,arm64}, and SHA256SUMS, into OUT (default build/release).
# Reproducible: static (CGO_ENABLED=0), -trimpath (no build paths), the
# version and commit from the module's VCS stamp, no timestamps; the same
# commit gives the same bytes on any machine with the same Go.
#
# osc.exe carries a manifest asking for administrator rights (a
# double-click gives the UAC prompt, then the tool in a console window),
# made at build time by go-winres (a Go tool of this module, go.mod), so no
# binary resource file is kept in the tree.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$top/build/release}
cd "$top"
rm -rf "$out"
mkdir -p "$out"
syso=(cmd/osc/rsrc_windows_amd64.syso cmd/osc/rsrc_windows_arm64.syso)
trap 'rm -f "${syso[@]}"' EXIT
(cd cmd/osc && go tool go-winres simply --arch amd64,arm64 --manifest cli --admin --out rsrc \
	--product-name "Onramp OS Creator" --file-description "osc: writes installer images to USB sticks" \
	--original-filename osc.exe 2>/dev/null)
export CGO_ENABLED=0
for target in linux/amd64 linux/arm64 windows/amd64 windows/arm64 darwin/amd64 darwin/arm64; do
	os=${target%/*} arch=${target#*/}
	name=osc-$os-$arch
	[ "$os" = windows ] && name=$name.exe
	GOOS=$os GOARCH=$arch go build -trimpath -ldflags=-buildid= -o "$out/$name" ./cmd/osc
done
(cd "$out" && sha256sum osc-* >SHA256SUMS)
cat "$out/SHA256SUMS"
