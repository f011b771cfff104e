# ossup: resumable browser uploads to Alibaba Cloud OSS.
# `make run` starts the backend with the local cloud; `make test` runs every test.

GO        ?= go
FUZZTIME  ?= 5s
BENCHSIZE ?= 256
BENCHRUNS ?= 3
# BENCHFULL=1 also measures 1 GiB and 4 GiB files in the browser benchmark.
BENCHFULL ?=
# BENCHLINK is the shared link, in MB/s, of the browser benchmark's second series.
BENCHLINK ?= 50
BIN       := bin
GOROOT_JS := $(shell $(GO) env GOROOT)
SUDO      := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)

.PHONY: all build run localcloud test vet fuzz deps bench clean worker pack screenshots

all: build

build: $(BIN)/ossup $(BIN)/localcloud web/engine.wasm web/wasm_exec.js

# Go tracks freshness itself; the phony-ish rebuild is cheap with the build cache.
# bin/ossup embeds web/ (the engine and wasm_exec.js included: tag embedweb), so it
# runs from any directory; OSSUP_WEB_DIR still overrides. The Dockerfile runs this.
$(BIN)/ossup: web/engine.wasm web/wasm_exec.js FORCE
	$(GO) build -tags embedweb -o $@ ./cmd/ossup
$(BIN)/localcloud: FORCE
	$(GO) build -o $@ ./cmd/localcloud
# ENGINE_GOFLAGS are internal/enginebuild's Flags (a test keeps them equal).
ENGINE_GOFLAGS := -gcflags=all=-l -ldflags="-s -w"
web/engine.wasm: FORCE
	GOOS=js GOARCH=wasm $(GO) build $(ENGINE_GOFLAGS) -o $@ ./wasm
# wasm_exec.js must match the toolchain that built engine.wasm.
web/wasm_exec.js: FORCE
	@if [ -f "$(GOROOT_JS)/lib/wasm/wasm_exec.js" ]; then cp "$(GOROOT_JS)/lib/wasm/wasm_exec.js" $@; \
	 else cp "$(GOROOT_JS)/misc/wasm/wasm_exec.js" $@; fi
FORCE:

# pack: the npm package of the browser side (web/package.json), bin/ossup-<version>.tgz.
pack: web/engine.wasm web/wasm_exec.js
	mkdir -p $(BIN) && cd web && npm pack --pack-destination ../$(BIN)

# screenshots: the widget's states (empty, error with hint, done with links, uploading,
# paused, resumable after a reload, and Chinese), taken in Chromium by the browser test
# that drives them (e2e TestWidgetScenarios), into docs/screenshots for the README.
screenshots:
	OSSUP_SCREENSHOTS=$(CURDIR)/docs/screenshots OSSUP_BROWSERS=chromium $(GO) test -count=1 -run 'TestWidgetScenarios$$' ./e2e

run: build
	$(BIN)/ossup

localcloud: $(BIN)/localcloud
	$(BIN)/localcloud

# deps installs what the tests need on a fresh machine: Go modules, the npm
# packages pinned in lock files (ali-oss for the conformance tests) and,
# from Debian only, the three browser engines of the browser tests:
# Chromium, Firefox ESR (driven over its built-in WebDriver BiDi) and
# WebKitGTK's WebKitWebDriver and MiniBrowser, run under Xvfb.
BROWSER_PKGS := chromium firefox-esr webkit2gtk-driver xvfb
deps:
	$(GO) mod download
	npm ci --prefix tests/alioss --no-audit --no-fund
	@# Vite, for e2e's npm package test (it installs the app again from npm's cache).
	npm ci --prefix tests/viteapp --no-audit --no-fund
	@# axe-core, for the widget's accessibility check in the browser tests.
	npm ci --prefix tests/axe --no-audit --no-fund
	@# npm install, not ci: the registry lacks workerd's macOS/Windows builds of this
	@# version, so ci refuses the lock; install leaves it unchanged.
	npm install --prefix worker --no-audit --no-fund
	@# wat2wasm, for wasm/crckernel's test that crc64.wasm is built from crc64.wat.
	npm ci --prefix wasm/crckernel/wabt --no-audit --no-fund
	@missing=$$(for p in $(BROWSER_PKGS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	 if [ -n "$$missing" ]; then echo "installing from Debian for the browser tests:" $$missing; \
	   $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; fi

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { echo "gofmt needed:"; gofmt -l .; exit 1; }
	$(GO) vet ./...
	GOOS=js GOARCH=wasm $(GO) vet ./wasm/... ./cmd/worker/... ./server

test: deps vet build
	$(GO) test -race -count=1 $$($(GO) list ./... | grep -v /e2e$$)
	@# The browser tests drive Chromium, Firefox and WebKit out of process:
	@# -race would only slow them (the Go code they exercise has its own -race
	@# tests above). -v: the output names every scenario's engine and version.
	$(GO) test -count=1 -v -timeout 50m ./e2e
	FUZZTIME=$(FUZZTIME) GO=$(GO) scripts/fuzz.sh

fuzz:
	FUZZTIME=$(FUZZTIME) GO=$(GO) scripts/fuzz.sh

bench: deps build worker
	$(GO) run ./bench/ingest -size-mib $(BENCHSIZE) -runs $(BENCHRUNS)
	$(GO) run ./bench/sessions -rounds $(BENCHRUNS)
	@# Engine memory for 10,000 queued files (issue 10: <= 20 MiB above idle).
	$(GO) run ./bench/queue -files 10000
	$(GO) run ./bench/browser -queue 10000
	$(GO) run ./bench/worker -dir worker -rounds $(BENCHRUNS)
	$(GO) run ./bench/assets -web web -floors
	@# Checkpoint CPU and bytes written over a 10,000-part upload, current format against the first, native and wasm (node).
	$(GO) run ./bench/checkpoint -runs $(BENCHRUNS)
	@# CRC-64 in a Web Worker: hash/crc64 against wasm/crckernel, in the three browsers.
	$(GO) run ./bench/crc -runs $(BENCHRUNS) -browsers chromium,firefox,webkit
	@# In headless Chromium, side by side: loopback at full speed (CPU cost), then one shared link.
	$(GO) run ./bench/browser -runs $(BENCHRUNS) $(if $(BENCHFULL),-full)
	$(GO) run ./bench/browser -runs $(BENCHRUNS) -link-mbps $(BENCHLINK) -no-resume -no-load -out bench/results/link $(if $(BENCHFULL),-full)
	@# The limit, read-limit, ours and ali-oss in Firefox and in WebKit, one table each, ratios to
	@# that engine's own limit (no DevTools there: no heap split, no worker profile, no reload run).
	$(foreach e,firefox webkit,$(GO) run ./bench/browser -engine $(e) -runs $(BENCHRUNS) -no-resume \
	  -only limit,limit-read,ours,alioss-tuned -out bench/results/$(e) $(if $(BENCHFULL),-full) &&) true

# worker: the Cloudflare Workers build in worker/build: our glue, the
# toolchain's wasm_exec.js and app.wasm. Keep it in step with
# internal/workertest.Build.
WORKER_GOFLAGS := -trimpath -gcflags=all=-l -ldflags="-s -w"
worker:
	rm -rf worker/build && mkdir -p worker/build
	cp worker/glue/worker.mjs worker/build/
	@if [ -f "$(GOROOT_JS)/lib/wasm/wasm_exec.js" ]; then cp "$(GOROOT_JS)/lib/wasm/wasm_exec.js" worker/build/; \
	 else cp "$(GOROOT_JS)/misc/wasm/wasm_exec.js" worker/build/; fi
	GOOS=js GOARCH=wasm $(GO) build $(WORKER_GOFLAGS) -o worker/build/app.wasm ./cmd/worker

clean:
	rm -rf $(BIN) web/engine.wasm web/wasm_exec.js worker/build
