# Onramp. `make demo` runs the main job, `make test` passes the tests; both
# install what they need first (scripts/deps.sh, idempotent).
SHELL := /bin/bash
export PATH := /usr/local/go/bin:$(PATH)
GO ?= go
BIN := bin
# As root (here and in CI) tests that need root, loop devices or namespaces
# must run: ONRAMP_STRICT turns their skips into failures.
STRICT := $(shell [ "$$(id -u)" -eq 0 ] && echo 1)

.PHONY: all build deps test test-e2e lint demo demo-osc bench fuzz-smoke sysconf-data mbpi-data clean run-installer image cross test-windows release

all: build

deps:
	@./scripts/deps.sh

build:
	$(GO) build -o $(BIN)/ ./cmd/...

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

test: deps lint build
	ONRAMP_STRICT=$(STRICT) ONRAMP_BIN=$(CURDIR)/$(BIN) $(GO) test -count=1 -timeout 15m ./...

# The end-to-end proofs, each time-boxed, printing the guest's serial log on
# failure (software emulation, no KVM needed):
# 1. real radios (issue 4): Debian's kernel in QEMU with mac80211_hwsim,
#    hostapd access points (WPA2-PSK visible and hidden, open, WEP, PEAP,
#    WPA3-SAE) and dnsmasq; netcfg/host joins each one and gets a lease
#    (E2E_TIMEOUT seconds, default 300).
# 2. the installer medium boots (issue 7): osc image build's ISOs from a
#    CD-ROM and a USB stick with OVMF, the legacy ISO with SeaBIOS, its
#    Memory Test entry (MEDIUM_TIMEOUT per boot, default 300).
# 3. the whole chain (issues 7, 20): make image, write the ISO, boot it
#    with Secure Boot enforced from a USB 2.0 stick, install unattended onto
#    NVMe, migrate settings and licenses, first boot onboards against
#    ums-lab through restricted user networking, the second boot comes up
#    through networkd, an unsigned kernel is refused; SATA + rtl8139,
#    eMMC/SD, SeaBIOS legacy, WLAN (E2E_INSTALL_TIMEOUT, 3000 for all boots).
# Together 39 minutes in a full CI run here (2 cores, the system cached:
# radios 95 s, media boots 1 min, image 2 min, the 17 installer and system
# boots with their checks 33 min).
test-e2e: deps
	./scripts/e2e/run.sh
	./scripts/e2e/medium-boot.sh
	./scripts/e2e/install.sh

# Boots the installer ISO (make image) in QEMU with OVMF (Secure Boot on) and a blank 16 GiB
# target disk, the serial console on this terminal (Ctrl-A X quits), to try
# the installer as a technician would.
RUN_INSTALLER_ISO ?= build/image/osc-12.5.0.iso
run-installer: deps build
	./scripts/e2e/deps.sh
	@[ -f $(RUN_INSTALLER_ISO) ] || $(MAKE) image
	mkdir -p build/run-installer
	cp /usr/share/OVMF/OVMF_VARS_4M.ms.fd build/run-installer/vars.fd
	[ -f build/run-installer/target.img ] || truncate -s 16G build/run-installer/target.img
	qemu-system-x86_64 -machine q35,smm=on,accel=tcg -cpu max -smp 2 -m 2048 \
	  -global driver=cfi.pflash01,property=secure,value=on \
	  -drive if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.ms.fd \
	  -drive if=pflash,format=raw,file=build/run-installer/vars.fd \
	  -drive if=none,id=stick,format=raw,readonly=on,file=$(RUN_INSTALLER_ISO) \
	  -device qemu-xhci -device usb-storage,drive=stick,bootindex=0 \
	  -drive if=none,id=disk,format=raw,file=build/run-installer/target.img \
	  -device virtio-blk-pci,drive=disk,bootindex=1 \
	  -nic none -nographic

# osc on the technician's own computer (issue 21). cross: osc and its
# packages build and vet (tests included) for windows/{amd64,arm64} and
# darwin/{amd64,arm64}. test-windows: under Wine 10 in a Debian 13 root
# (made once, cached outside the checkout: scripts/lib/cache.sh), the Windows test binaries of
# osc's packages, then osc.exe write/verify on file targets with xz and
# zstd images, a changed byte caught (exit 4), a mistyped disk refused
# (exit 3), drives --json; at most WINE_TIMEOUT seconds (default 1200).
# release: osc for linux, windows and darwin on amd64 and arm64 with
# SHA256SUMS in build/release, reproducibly (scripts/release.sh).
WINE_TIMEOUT ?= 1200
cross:
	./scripts/cross.sh

test-windows: deps
	timeout $(WINE_TIMEOUT) ./scripts/wine/test.sh

release: deps
	./scripts/release.sh

# The main job: the setup assistant on a simulated device (no root needed).
demo: deps build
	$(BIN)/setup-assistant --demo

demo-osc: deps build
	$(BIN)/osc --demo

# Benchmarks, each side by side with its baseline in one run (root):
# scripts/bench.sh: osc write against dd, dd + cmp and bmaptool copy, on a
# loop device throttled to 40/120 MiB/s (cgroup v1 blkio) and on host cache.
bench: deps build
	./scripts/bench.sh
	ONRAMP_BIN=$(CURDIR)/$(BIN) ./scripts/bench-onboard.sh
	ONRAMP_BIN=$(CURDIR)/$(BIN) ./scripts/bench-setup.sh
	ONRAMP_BIN=$(CURDIR)/$(BIN) ./scripts/bench-install.sh

# The base system, Debian 13 trixie (mmdebstrap from scripts/image/packages,
# cached by its hash outside the checkout, scripts/lib/cache.sh), and its installer media
# (issues 7, 20), signed with the development key scripts/image/dev.key;
# outputs under build/image/ (payload/, payload-legacy/, osc-12.5.0.iso,
# osc-12.5.0_legacy.iso, packages.manifest). IMAGE_VERSION sets the
# version. make test-e2e boots what it makes (scripts/e2e/install.sh).
IMAGE_VERSION ?= 12.5.0
image: build
	@start=$$(date +%s); VERSION=$(IMAGE_VERSION) ./scripts/image/build.sh && \
	  echo "make image: done in $$(( $$(date +%s) - start ))s"

# Regenerates the embedded keyboard-layout and time-zone snapshots from
# Debian's xkb-data and tzdata.
sysconf-data:
	./scripts/gen-sysconf-data.sh

# Regenerates netcfg's embedded provider database (used when
# mobile-broadband-provider-info is not installed) from Debian's package.
mbpi-data:
	$(GO) run ./netcfg/host/internal/mbpigen

# Each fuzz target for a bounded time (FUZZTIME=60s for longer); CI runs it
# (38 targets: about 6 minutes at 6s each with the builds, inside CI's 90).
# New inputs are not minimized (FUZZMINIMIZETIME): minimizing a 36 kB ISO
# took the whole run. Go 1.26's deadline race (go.dev/issue/75804) gets
# one retry in scripts/fuzz-smoke.sh; real findings fail at once.
FUZZTIME ?= 6s
FUZZMINIMIZETIME ?= 0
fuzz-smoke: deps
	GO=$(GO) FUZZTIME=$(FUZZTIME) FUZZMINIMIZETIME=$(FUZZMINIMIZETIME) ./scripts/fuzz-smoke.sh

clean:
	rm -rf $(BIN) build
