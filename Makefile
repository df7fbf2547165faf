# breachflow — the two commands a newcomer needs:
#   make demo   run a demo incident on a local Temporal dev server (Ctrl-C stops everything)
#   make test   every check CI runs
#
# Everything is built from Go modules: the Temporal dev server comes from
# github.com/temporalio/cli v1.5.1 pinned in tools/go.mod. Nothing else is
# downloaded at build, run or test time.

GO        ?= go
BIN       := $(CURDIR)/bin
TEMPORAL  := $(BIN)/temporal
STATICCHECK := $(BIN)/staticcheck
WORKFLOWCHECK := $(BIN)/workflowcheck
export GOFLAGS := -buildvcs=false

.PHONY: all test test-faults soak lint unit integration fuzz bench scale demo build tools clean

all: build

## build: compile worker and starter into bin/
build:
	$(GO) build -o $(BIN)/ ./worker ./starter

## tools: build the pinned dev tools (Temporal CLI, staticcheck, workflowcheck) once
tools: $(TEMPORAL) $(STATICCHECK) $(WORKFLOWCHECK)

$(TEMPORAL): tools/go.mod tools/go.sum
	cd tools && $(GO) build -o $(BIN)/temporal github.com/temporalio/cli/cmd/temporal

$(STATICCHECK): tools/go.mod tools/go.sum
	cd tools && $(GO) build -o $(BIN)/staticcheck honnef.co/go/tools/cmd/staticcheck

$(WORKFLOWCHECK): tools/go.mod tools/go.sum
	cd tools && $(GO) build -o $(BIN)/workflowcheck go.temporal.io/sdk/contrib/tools/workflowcheck

## test: gofmt, vet, staticcheck, workflowcheck, unit tests (-race), integration tests on a real dev server
test: lint unit integration

lint: $(STATICCHECK) $(WORKFLOWCHECK)
	@out=$$(gofmt -l .); \
	  if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags 'integration faults' ./internal/e2e/...
	$(STATICCHECK) ./...
	$(STATICCHECK) -tags 'integration faults' ./internal/e2e/...
	$(WORKFLOWCHECK) -config tools/workflowcheck.config.yaml ./workflows/...

unit:
	$(GO) test -race -count=1 -timeout 15m ./...

integration: $(TEMPORAL)
	TEMPORAL_CLI_PATH=$(TEMPORAL) $(GO) test -race -count=1 -timeout 30m -tags integration ./internal/e2e/...

## test-faults: seed 004's 1,016-recipient recall through a killed worker, a restarted Temporal
## server, 20% provider failures and a restarted front door (minutes on 2 cores; CI runs it)
test-faults: $(TEMPORAL)
	TEMPORAL_CLI_PATH=$(TEMPORAL) $(GO) test -race -count=1 -timeout 60m -tags 'integration faults' -run '^TestFault_' -v ./internal/e2e/...

## soak: the soak fault tests at length: SOAK_KILLS kills per run (default 24; CI runs 8),
## SOAK_ROUNDS rounds of each (default 3), each round with a new seed (logged; replay one with
## BREACHFLOW_SOAK_SEED=<seed>); tens of minutes on 2 cores
SOAK_KILLS ?= 24
SOAK_ROUNDS ?= 3
soak: $(TEMPORAL)
	BREACHFLOW_SOAK_KILLS=$(SOAK_KILLS) TEMPORAL_CLI_PATH=$(TEMPORAL) $(GO) test -race -count=$(SOAK_ROUNDS) -timeout 180m -tags 'integration faults' -run '^TestFault_Soak' -v ./internal/e2e/...

## scale: recall SCALE recipients (default 10000) on the dev server; minutes on 2 cores
SCALE ?= 10000
scale: $(TEMPORAL)
	BREACHFLOW_SCALE_RECIPIENTS=$(SCALE) TEMPORAL_CLI_PATH=$(TEMPORAL) $(GO) test -count=1 -timeout 90m -tags integration -run TestScale -v ./internal/e2e/

## fuzz: run every fuzz target for FUZZTIME each (default 30s)
FUZZTIME ?= 30s
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzLoad -fuzztime $(FUZZTIME) ./runbooks/
	$(GO) test -run '^$$' -fuzz FuzzCheck -fuzztime $(FUZZTIME) ./internal/recipients/
	$(GO) test -run '^$$' -fuzz FuzzVerify -fuzztime $(FUZZTIME) ./internal/linktoken/
	$(GO) test -run '^$$' -fuzz '^FuzzConfirmLink$$' -fuzztime $(FUZZTIME) ./internal/frontdoor/
	$(GO) test -run '^$$' -fuzz '^FuzzSendGridEvents$$' -fuzztime $(FUZZTIME) ./internal/frontdoor/
	$(GO) test -run '^$$' -fuzz '^FuzzTwilioWebhooks$$' -fuzztime $(FUZZTIME) ./internal/frontdoor/
	$(GO) test -run '^$$' -fuzz '^FuzzFrontDoorRequest$$' -fuzztime $(FUZZTIME) ./internal/frontdoor/
	$(GO) test -run '^$$' -fuzz '^FuzzSlashCommand$$' -fuzztime $(FUZZTIME) ./internal/slackbot/
	$(GO) test -run '^$$' -fuzz '^FuzzInteraction$$' -fuzztime $(FUZZTIME) ./internal/slackbot/
	$(GO) test -run '^$$' -fuzz '^FuzzCodecServer$$' -fuzztime $(FUZZTIME) ./internal/codec/
	$(GO) test -run '^$$' -fuzz '^FuzzTokenizer$$' -fuzztime $(FUZZTIME) ./internal/recipients/
	$(GO) test -run '^$$' -fuzz '^FuzzRedact$$' -fuzztime $(FUZZTIME) ./internal/redact/
	$(GO) test -run '^$$' -fuzz '^FuzzScan$$' -fuzztime $(FUZZTIME) ./internal/contentscan/
	$(GO) test -run '^$$' -fuzz '^FuzzRenderWord$$' -fuzztime $(FUZZTIME) ./internal/letters/

## bench: the benchmarks quoted in the README, then their table (tools/bench.sh;
## E2E_BENCH=Broadcast or '.' for the end-to-end ones beyond the recall)
bench: $(TEMPORAL)
	@GO=$(GO) TEMPORAL=$(TEMPORAL) bash tools/bench.sh

## demo: dev server + worker + starter serve + sandbox, and a demo incident (seed 000)
demo: build $(TEMPORAL)
	@bash tools/demo.sh

clean:
	rm -rf $(BIN) data .demo
