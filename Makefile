# Onramp. `make demo` runs the main job, `make test` passes the tests; both
# install what they need first (scripts/deps.sh, idempotent).
SHELL := /bin/bash
export PATH := /usr/local/go/bin:$(PATH)
GO ?= go
BIN := bin
# As root (here and in CI) tests that need root, loop devices or namespaces
# must run: ONRAMP_STRICT turns their skips into failures.
STRICT := $(shell [ "$$(id -u)" -eq 0 ] && echo 1)

.PHONY: all build deps test test-e2e lint demo demo-osc bench fuzz-smoke sysconf-data clean

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

# The real-radio WLAN proof (issue 4): Debian's kernel in QEMU with
# mac80211_hwsim, hostapd access points (WPA2-PSK visible and hidden, open,
# PEAP, WPA3-SAE) and dnsmasq; netcfg/host joins each one and gets a lease.
# Time-boxed (E2E_TIMEOUT seconds, default 300); prints the guest's serial
# log on failure.
test-e2e: deps
	./scripts/e2e/run.sh

# The main job: the setup assistant on a simulated device (no root needed).
demo: deps build
	$(BIN)/setup-assistant --demo

demo-osc: deps build
	$(BIN)/osc --demo

bench: deps build
	./scripts/bench.sh
	ONRAMP_BIN=$(CURDIR)/$(BIN) ./scripts/bench-onboard.sh
	ONRAMP_BIN=$(CURDIR)/$(BIN) ./scripts/bench-setup.sh
	ONRAMP_BIN=$(CURDIR)/$(BIN) ./scripts/bench-install.sh

# Regenerates the embedded keyboard-layout and time-zone snapshots from
# Debian's xkb-data and tzdata.
sysconf-data:
	./scripts/gen-sysconf-data.sh

# Each fuzz target for a few seconds (FUZZTIME=30s for longer).
FUZZTIME ?= 4s
fuzz-smoke: deps
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$f"; \
	    $(GO) test -run '^$$' -fuzz "^$$f\$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; \
	done

clean:
	rm -rf $(BIN) build
