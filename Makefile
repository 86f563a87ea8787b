# self-heal: build, test, e2e, bench, demo, lint.
#
# Tools the targets need (golangci-lint) are built from the Go module proxy
# into $(TOOLS) once and reused.

GO       ?= go
BIN      := bin/self-heal
TOOLS    ?= $(HOME)/.cache/self-heal/bin
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X main.version=$(VERSION)
GOLANGCI := $(TOOLS)/golangci-lint
GOLANGCI_VERSION := v2.15.0

export CHECKPOINT_DISABLE := 1

.PHONY: all build test unit e2e fuzz bench demo lint fmt clean

all: build

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) .

## test: every test: unit tests (with a short fuzz run) and the end-to-end suite.
test: unit fuzz-short e2e

unit:
	$(GO) test -count=1 ./...
	cd e2e/provider && $(GO) test -count=1 ./...

## e2e: real terraform against a real S3 backend (moto) and the rest of e2e/.
e2e:
	$(GO) test -count=1 -tags e2e -p 1 -timeout 45m ./e2e/...

FUZZ_TARGETS := pkg/logscan:FuzzNormalize pkg/redact:FuzzRedact pkg/pattern:FuzzParse pkg/pattern:FuzzMatcher
FUZZTIME ?= 5s

fuzz-short:
	@for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; fn=$${t##*:}; \
		echo "fuzz $$pkg $$fn ($(FUZZTIME))"; \
		$(GO) test -run '^$$' -fuzz "^$$fn$$" -fuzztime $(FUZZTIME) ./$$pkg || exit 1; \
	done

## fuzz: longer fuzzing of the normaliser, the pattern loader and the redactor.
fuzz:
	$(MAKE) fuzz-short FUZZTIME=2m

bench:
	./bench/run.sh

## demo: heal a real stale terraform state lock on an S3 backend (moto).
demo:
	./scripts/demo.sh

lint: $(GOLANGCI)
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)
	$(GO) vet ./...
	$(GO) vet -tags e2e ./e2e/...
	$(GOLANGCI) run ./...

$(GOLANGCI):
	mkdir -p $(TOOLS)
	GOBIN=$(TOOLS) $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_VERSION)

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin
