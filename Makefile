# hookperf — `make help` lists the targets.
GO ?= go

.PHONY: help run build test bench bench-go bench-compare bench-hooks bench-hook-pages lint gate-power pgo

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

run: ## one local tcp_rr measurement (client and server in one process, loopback)
	$(GO) run ./cmd/hookperf tcp_rr --local -l 5 -p 50,90,99

build: ## build bin/hookperf
	$(GO) build -o bin/hookperf ./cmd/hookperf

test: ## vet, then every test with the race detector (installs nft, ip and chromium first, if missing and root)
	bash bench/install-tools.sh test || true
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...

lint: ## gofmt and vet
	@test -z "$$(gofmt -l .)" || { gofmt -l .; exit 1; }
	$(GO) vet ./...

bench: bench-go bench-compare ## Go benchmarks of the data path, then hookperf beside iperf3, sockperf (and neper)

bench-go: ## Go benchmarks (allocations per packet included)
	$(GO) test -run '^$$' -bench . -benchmem ./...

bench-compare: ## hookperf beside iperf3 and sockperf (installed if missing), and neper if NEPER_DIR is set
	bash bench/install-tools.sh
	bash bench/compare.sh

bench-hooks: ## what pass-through Lua hooks cost on tcp_rr, beside rushit when RUSHIT_DIR is set
	bash bench/hook-overhead.sh

bench-hook-pages: ## the pages of code and data a Lua hook call touches between two system calls (valgrind; a count, not a timing)
	bash bench/hook-pages.sh

gate-power: ## the A/B gate's error rates against an nftables-injected 10 % and 5 % loss (hours; TRIALS, ROUNDS, LENGTH set it)
	$(GO) test -tags gatepower -run TestGatePower -timeout 0 -count=1 -v ./scenarios/

pgo: ## remake cmd/hookperf/default.pgo, the CPU profile go build optimizes the binary with (every workload, plain and with Lua hooks)
	$(GO) test -run '^$$' -bench 'TCPRR$$|TCPRR8Flows|TCPCRR|UDPRR$$|UDPRR8Flows|TCPStream$$|UDPStream|TCPStream8' -benchtime 2s -cpuprofile /tmp/hookperf-kit.pprof ./kit
	$(GO) test -run '^$$' -bench TCPRRHookOverhead -benchtime 5x -cpuprofile /tmp/hookperf-hooks.pprof ./luahooks
	$(GO) tool pprof -proto /tmp/hookperf-kit.pprof /tmp/hookperf-hooks.pprof > cmd/hookperf/default.pgo
	rm -f /tmp/hookperf-kit.pprof /tmp/hookperf-hooks.pprof kit.test luahooks.test
