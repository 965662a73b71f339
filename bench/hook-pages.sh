#!/usr/bin/env bash
# bench/hook-pages.sh — how many pages of code and data a Lua hook call
# touches between two system calls: a count, the same on every run, where
# a timing on this project's shared VMs moves by ±5 %.
#
# Why pages: these VMs' kernels isolate page tables on CPUs without PCID,
# so every system call empties the TLB, and each page a hook call touches
# after one costs a page walk. A hook call's instructions are cheap next
# to that; README.md, "What hooks cost", has the figures.
#
# It runs luahooks' BenchmarkHookCall variants (the recvmsg from Go, a
# pass-through hook, the same call in place, the realistic hook) under
# valgrind's lackey, which traces every instruction and data access, and
# bench/pagecount counts, for each stretch between two system calls, the
# distinct 4 KiB pages. Each benchmark round makes one system call, so the
# rounds' stretches are alike and that count is printed. A few minutes per
# variant (lackey writes a line per access); two run at a time.
#
# Environment (all optional):
#   VARIANTS="go lua lua-in-place lua-realistic lua-count-field lua-count-local"
#                BenchmarkHookCall's sub-benchmarks
#   ROUNDS=60    benchmark rounds per variant
#   LIST=1       also list each page with the function that first touched it
#   KEEP=1       keep the temp dir (the test binary, the lists)
#
# valgrind is installed if missing (bench/install-tools.sh pages).
set -euo pipefail

cd "$(dirname "$0")/.."
VARIANTS=${VARIANTS:-go lua lua-in-place lua-realistic lua-count-field lua-count-local}
ROUNDS=${ROUNDS:-60}
work=$(mktemp -d)
trap '[[ ${KEEP:-} == 1 ]] && echo "kept $work" >&2 || rm -rf "$work"' EXIT

bash bench/install-tools.sh pages >&2
go test -c -pgo=cmd/hookperf/default.pgo -o "$work/luahooks.test" ./luahooks
go build -o "$work/pagecount" ./bench/pagecount

list=()
[[ ${LIST:-} == 1 ]] && list=(-list)

count() {
	local v=$1
	# valgrind 3.19 does not know RDTSCP, which the runtime uses when the
	# CPU has it; GOGC=off and one P keep the collector out of the rounds.
	# Under valgrind a goroutine outlasts the scheduler's 10 ms slice, and
	# the signal that preempts it (SIGURG) would cut a round in two at its
	# rt_sigreturn. asyncpreemptoff leaves only the preemption at a
	# function's stack check, which adds the scheduler to the round it
	# falls in: such rounds differ from the rest and are not the count.
	(cd luahooks && GODEBUG=cpu.rdtscp=off,asyncpreemptoff=1 GOGC=off GOMAXPROCS=1 \
		valgrind --tool=lackey --trace-mem=yes --log-fd=3 \
		"$work/luahooks.test" -test.run '^$' -test.bench "^BenchmarkHookCall/$v\$" -test.benchtime "${ROUNDS}x" \
		3>&1 >/dev/null 2>/dev/null) |
		"$work/pagecount" -bin "$work/luahooks.test" "${list[@]}" >"$work/$v.pages"
}

running=0
for v in $VARIANTS; do
	count "$v" &
	running=$((running + 1))
	if ((running >= 2)); then
		wait -n
		running=$((running - 1))
	fi
done
wait

for v in $VARIANTS; do
	printf '%-16s %s\n' "$v" "$(head -1 "$work/$v.pages")"
	if [[ ${LIST:-} == 1 ]]; then
		tail -n +2 "$work/$v.pages" | sed 's/^/    /'
	fi
done
