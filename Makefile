# idlescale developer tasks. `make test` is the one command CI runs
# (.ci/run): it installs what the tests need, checks formatting, vets, lints
# and runs every test with the race detector in random order.

GO                    ?= go
GOLANGCI_LINT_VERSION := v2.15.0
BIN                   := $(CURDIR)/.bin
GOLANGCI_LINT         := $(BIN)/golangci-lint-$(GOLANGCI_LINT_VERSION)
TEST_TIMEOUT          ?= 25m

.PHONY: test deps fmt-check vet lint unit bench cover fuzz clean

test: deps fmt-check vet lint unit

deps: $(GOLANGCI_LINT)
	bash scripts/install-deps.sh

$(GOLANGCI_LINT):
	mkdir -p $(BIN)/tmp
	GOBIN=$(BIN)/tmp $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)
	mv $(BIN)/tmp/golangci-lint $@

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.bin/*')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

lint: $(GOLANGCI_LINT)
	$(GOLANGCI_LINT) run ./...

unit:
	$(GO) test -race -shuffle=on -count=1 -timeout $(TEST_TIMEOUT) ./...

# bench runs every benchmark once with allocation figures, e.g.
# make bench PKG=./detector BENCH=BatchScan
PKG   ?= ./...
BENCH ?= .
bench:
	$(GO) test -run '^$$' -bench '$(BENCH)' -benchmem $(PKG)

cover:
	$(GO) test -count=1 -coverprofile=cover.out ./... && $(GO) tool cover -func=cover.out | tail -1

clean:
	rm -rf $(BIN) cover.out
