# idlescale developer tasks. `make test` is the one command CI runs
# (.ci/run): it installs what the tests need, checks formatting, vets, lints
# and runs every test with the race detector in random order.

GO                    ?= go
GOLANGCI_LINT_VERSION := v2.15.0
BIN                   := $(CURDIR)/.bin
GOLANGCI_LINT         := $(BIN)/golangci-lint-$(GOLANGCI_LINT_VERSION)
GREMLINS_VERSION      := v0.6.0
GREMLINS_PATCH        := scripts/gremlins-switch-coverage.patch
GREMLINS              := $(BIN)/gremlins-$(GREMLINS_VERSION)-switchcov
# The Kubernetes API server the provider/kubernetes tests start
# (internal/kubetest). It is built once from the Go module proxy by the
# nested module internal/kubetest/apiserver, which pins the same release,
# and cached in .bin/ by version: 5-15 minutes the first time, then never.
KUBE_VERSION          := v1.37.2
KUBE_APISERVER        := $(BIN)/kube-apiserver-$(KUBE_VERSION)
TEST_TIMEOUT          ?= 25m

.PHONY: scale mutation-again test deps fmt-check vet lint unit bench cover fuzz clean mutation screenshot kube-apiserver stress

test: deps fmt-check vet lint unit

deps: $(GOLANGCI_LINT)
	bash scripts/install-deps.sh

$(GOLANGCI_LINT):
	mkdir -p $(BIN)/tmp
	GOBIN=$(BIN)/tmp $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)
	mv $(BIN)/tmp/golangci-lint $@

kube-apiserver: $(KUBE_APISERVER)

# The version is stamped as a release build would be, so the server reports
# it in /version. GOWORK=off and -mod=readonly keep the build to the nested
# module's own go.mod and go.sum.
$(KUBE_APISERVER):
	mkdir -p $(BIN)
	cd internal/kubetest/apiserver && GOWORK=off GOFLAGS="-mod=readonly -buildvcs=false" $(GO) build -trimpath \
		-ldflags "-s -w -X k8s.io/component-base/version.gitVersion=$(KUBE_VERSION) \
		-X k8s.io/component-base/version.gitMajor=1 \
		-X k8s.io/component-base/version.gitMinor=$(word 2,$(subst ., ,$(KUBE_VERSION)))" \
		-o $@.tmp k8s.io/kubernetes/cmd/kube-apiserver
	mv $@.tmp $@

# gremlins is built from its release's sources in the module cache with
# GREMLINS_PATCH applied (see the mutation target).
$(GREMLINS): $(GREMLINS_PATCH)
	rm -rf $(BIN)/tmp/gremlins-src && mkdir -p $(BIN)/tmp
	dir=$$(cd $(BIN)/tmp && GOWORK=off GOFLAGS= $(GO) mod download -json github.com/go-gremlins/gremlins@$(GREMLINS_VERSION) | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$$/\1/p') && \
	test -n "$$dir" && cp -r "$$dir" $(BIN)/tmp/gremlins-src && chmod -R u+w $(BIN)/tmp/gremlins-src
	patch -d $(BIN)/tmp/gremlins-src -p1 < $(GREMLINS_PATCH)
	cd $(BIN)/tmp/gremlins-src && GOWORK=off GOFLAGS=-mod=mod $(GO) build -trimpath -o ../gremlins.tmp ./cmd/gremlins
	mv $(BIN)/tmp/gremlins.tmp $@ && rm -rf $(BIN)/tmp/gremlins-src

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.bin/*')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

lint: $(GOLANGCI_LINT)
	$(GOLANGCI_LINT) run ./...

unit: $(KUBE_APISERVER)
	$(GO) test -race -shuffle=on -count=1 -timeout $(TEST_TIMEOUT) ./...

# bench runs every benchmark once with allocation figures, e.g.
# make bench PKG=./detector BENCH=BatchScan
PKG   ?= ./...
BENCH ?= .
bench:
	$(GO) test -run '^$$' -bench '$(BENCH)' -benchmem $(PKG)

# mutation runs gremlins on one package and prints the mutants that lived
# or were not covered, then the efficacy and mutator coverage, e.g.
# make mutation PKG=./safety MUTATION_WORKERS=1
# It takes minutes per package, so it is not part of `make test`.
# Only the package's own files are mutated: gremlins would also mutate
# every package below PKG (for ./safety: safety/approval, its etcd store,
# etcdaudit), whose tests may start etcd for every mutant; --exclude-files /
# leaves out every file in a subdirectory. Run those as their own PKG.
# Extra gremlins flags go in MUTATION_FLAGS (e.g. -o out.json).
# Do not add --test-cpu: with gremlins v0.6.0 it makes every test run fail,
# so lived mutants are reported as killed (seen on internal/etcdkv, then called internal/etcdretry).
# gremlins v0.6.0 counts a condition in a switch case, and a constant, as
# not covered even when the tests evaluate it (Go's coverage profile has no
# block for either; go-gremlins/gremlins#298) and never runs those mutants.
# The binary is built with GREMLINS_PATCH, which runs them: a case's
# conditions when its body or a later one (or the default) ran (all of a
# clause's expressions, though Go stops at the first that matches), and
# every constant declaration (as gremlins' own proposed fix, #299, does).
# One case it cannot see: a switch without a default whose usual path
# matches no case (a validation's checks) is still reported not covered
# although its conditions ran; re-run those mutants with mutation-again
# MUTATION_AGAIN_FLAGS=--not-covered to learn what they really are.
# A package whose suite is dominated by one slow test leaves it out under
# the build tag mutation_fast (forecast's accuracy protocol: ≈ 4.5 of 5 s
# per mutant), e.g.
# make mutation PKG=./forecast MUTATION_FLAGS='--tags mutation_fast -o fc.json'
# make mutation-again REPORT=fc.json PKG=./forecast MUTATION_AGAIN_FLAGS=--not-covered
# The second re-runs what lived or was not covered against every test
# (mutation-again uses no tag): a mutant the fast suite kills, the whole
# suite kills too, so the two together classify every mutant as one full
# run would, in a fraction of its time (a mutant no test reaches is
# reported lived, not not covered).
MUTATION_WORKERS ?= 2
MUTATION_TIMEOUT ?= 5
MUTATION_FLAGS   ?=
# MUTATION_STATUSES are the statuses printed as the run goes (gremlins'
# -S: l lived, c not covered, t timed out, k killed, v not viable). The
# JSON report (-o) is written only at the end, so for a long run that may
# be stopped early print them all (lctkv): the log then says what every
# finished mutant was, and the rest can be run on its own.
MUTATION_STATUSES ?= lc
mutation: $(GREMLINS)
	@if [ -z "$(PKG)" ] || [ "$(PKG)" = "./..." ]; then echo "usage: make mutation PKG=./safety (one package)"; exit 2; fi
	$(GREMLINS) unleash --workers $(MUTATION_WORKERS) --timeout-coefficient $(MUTATION_TIMEOUT) --output-statuses $(MUTATION_STATUSES) --exclude-files / $(MUTATION_FLAGS) $(PKG)

# mutation-again re-runs only the mutants a saved report left alive (make
# mutation PKG=./detector MUTATION_FLAGS='-o detector.json' writes one)
# against the tests as they are now, e.g. after adding tests for them:
# make mutation-again REPORT=detector.json PKG=./detector
# Run it in a checkout you are not editing: it mutates files in place
# (and restores them).
# MUTATION_AGAIN_FLAGS passes --not-covered, --timed-out, --timeout S, --from COMMIT
# (the report's commit, to map its lines) or --only FILE,FILE.
MUTATION_AGAIN_FLAGS ?=
mutation-again:
	@if [ -z "$(REPORT)" ] || [ -z "$(PKG)" ] || [ "$(PKG)" = "./..." ] || [ "$(PKG)" = "." ]; then echo "usage: make mutation-again REPORT=out.json PKG=./detector"; exit 2; fi
	python3 scripts/mutants-again.py $(REPORT) $(PKG) $(MUTATION_AGAIN_FLAGS)

# screenshot retakes the README's picture of the dashboard (docs/dashboard.png)
# from examples/dashboard in headless Chromium.
screenshot:
	bash scripts/dashboard-screenshot.sh

# stress runs the etcd-backed tests on a loaded machine: busyloop spins
# STRESS_LOAD threads per CPU (load average about STRESS_LOAD × CPUs on top
# of the tests) while they run, as on a shared CI host, e.g.
# make stress STRESS_COUNT=3
# The tests are built first, unloaded; the load average is printed before
# and after. busyloop is stopped by its PID when the tests end (it also
# stops on its own after 30 minutes, or when make is interrupted).
STRESS_PKGS  ?= ./coord/ ./ratelimit/etcdstore/ ./safety/approval/etcdstore/ ./safety/etcdaudit/ ./safety/etcdhistory/ ./examples/replicas/
STRESS_LOAD  ?= 4
STRESS_COUNT ?= 1
stress:
	mkdir -p $(BIN)
	$(GO) build -o $(BIN)/busyloop ./internal/cmd/busyloop
	$(GO) test -race -count=1 -run '^$$' $(STRESS_PKGS) >/dev/null
	@$(BIN)/busyloop -per-core $(STRESS_LOAD) & busy=$$!; \
	trap 'kill $$busy 2>/dev/null' EXIT INT TERM; \
	echo "load before: $$(cat /proc/loadavg)"; \
	$(GO) test -race -shuffle=on -count=$(STRESS_COUNT) -timeout $(TEST_TIMEOUT) $(STRESS_PKGS); rc=$$?; \
	echo "load after:  $$(cat /proc/loadavg)"; \
	exit $$rc

# scale runs the full-size simulation of issue 19 (TestScale in
# coord/shardsweep): SCALE_RESOURCES generated resources over an onboarding
# hour and three hours, four replicas on an embedded etcd, one killed in
# the second hour. make test runs the same test with 1,000. With a million
# it took 30 minutes on 2 cores (onboarding 13, then about 5 an hour), a
# 12 GB peak resident set (6 GB of it etcd's database, mapped) and disk
# in TMPDIR for that database and etcd's write-ahead log; it prints the
# quota, wall time and memory figures. IDLESCALE_SCALE_PPROF=localhost:6060 serves net/http/pprof
# while it runs.
SCALE_RESOURCES ?= 1000000
scale:
	IDLESCALE_SCALE_RESOURCES=$(SCALE_RESOURCES) $(GO) test -count=1 -timeout 6h -run '^TestScale$$' -v ./coord/shardsweep/

# fuzz runs every fuzz target for FUZZTIME each (go test allows one -fuzz
# target per run), e.g. make fuzz FUZZTIME=1m. New corpus entries that fail
# land in the package's testdata/fuzz/ as usual.
FUZZTIME ?= 30s
fuzz:
	@set -e; for f in $$(grep -rl --include='*_test.go' '^func Fuzz' . | sort); do \
		dir=$$(dirname $$f); \
		for name in $$(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' $$f); do \
			echo "== $$dir $$name"; \
			$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) $$dir; \
		done; \
	done

cover:
	$(GO) test -count=1 -coverprofile=cover.out ./... && $(GO) tool cover -func=cover.out | tail -1

clean:
	rm -rf $(BIN) cover.out
