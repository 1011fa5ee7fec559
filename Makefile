# README command 2 is `make test`: every check and every test, as CI runs it.
GO          ?= go
GOBIN       := $(shell $(GO) env GOPATH)/bin
STATICCHECK := $(GOBIN)/staticcheck
STATICCHECK_VERSION := v0.8.2
PROTOC_GEN_GO_VERSION := v1.36.12
TEST_FLAGS  ?= -race -timeout 20m

.PHONY: test check fmt vet staticcheck tidy unit build devnet proto tools bench webdeps browser webcheck portal

test: check unit

check: fmt vet staticcheck tidy webcheck

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go' ; git ls-files --others --exclude-standard '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

$(STATICCHECK):
	$(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

staticcheck: $(STATICCHECK)
	$(STATICCHECK) ./...

tidy:
	$(GO) mod tidy -diff

WEB := internal/portal/web

# The portal's npm packages, pinned by package-lock.json. The node serves
# the committed bundle (internal/portal/dist) without them; the tests
# rebuild it from source and type-check it.
webdeps:
	@command -v npm >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm; }
	npm ci --prefix $(WEB) --no-audit --no-fund --loglevel=error

# Debian's Chromium, for the portal's real-browser tests.
browser:
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

webcheck: webdeps
	cd $(WEB) && ./node_modules/.bin/tsc -p .

# Rebuild the embedded portal bundle after changing internal/portal/web.
portal: webdeps
	$(GO) generate ./internal/portal

# Under -race Go contracts run on wazero's interpreter only, so the
# compiler-vs-interpreter gas equality of the runtime is checked without it.
unit: webdeps browser
	$(GO) test $(TEST_FLAGS) ./...
	$(GO) test -timeout 10m ./internal/wasm/... ./contracts/...
	cd bench && $(GO) vet ./... && $(GO) test -short -timeout 10m ./...

build:
	$(GO) build -o bin/vm ./cmd/vm

devnet:
	$(GO) run ./cmd/vm devnet

# Regenerate protobuf code (needs Debian's protobuf-compiler).
proto:
	$(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@$(PROTOC_GEN_GO_VERSION)
	protoc --plugin=$(GOBIN)/protoc-gen-go --go_out=. --go_opt=module=github.com/virtual-machine/vm proto/vm/tx/v1/*.proto proto/vm/state/v1/*.proto

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...
