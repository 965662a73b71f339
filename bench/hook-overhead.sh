#!/usr/bin/env bash
# bench/hook-overhead.sh — what Lua hooks cost on tcp_rr, hookperf beside rushit.
#
# For every config it runs tcp_rr over 127.0.0.1 (a server and a client, two
# processes) plain and with SCRIPT, one right after the other, for hookperf
# and, when RUSHIT_DIR is set, for rushit. The order alternates between rounds
# (plain, scripted; next round scripted, plain; the whole list reversed), so
# that drift hits both alike. It prints, per tool and config, the median
# transactions/s of the plain and the scripted runs and the median, smallest
# and largest of the per-round ratio scripted/plain (1.00: the hooks cost
# nothing; 0.80: 20 % fewer transactions).
#
# Transactions/s = num_transactions / total_run_time of the client, for both
# tools: rushit's throughput= is counted between its first and last samples,
# which in a short multi-flow run can be a millisecond apart (3.5e7 "trans/s"
# in a 2 s 8x2 run), and in a 1-flow run of 2 s it prints none at all.
#
# The default SCRIPT is pass-through hooks, rushit's own
# tests/func/basic-packet-hooks.lua: client_sendmsg, client_recvmsg,
# server_sendmsg and server_recvmsg each call sendmsg/recvmsg and return what
# it returned. It is written into the temp dir.
#
# Environment (all optional):
#   ROUNDS=9 LENGTH=2          rounds, seconds per run
#   CONFIGS="1x1 8x2"          "FxT" = F flows over T threads (-F F -T T, both tools)
#   HOOKPERF=/path/hookperf    default: go build ./cmd/hookperf into a temp dir
#   RUSHIT_DIR=/path           a directory holding a built rushit tcp_rr (see
#                              README.md, "Speed", for the two fixes it
#                              needs to start); unset: hookperf only
#   SCRIPT=/path/hooks.lua     the hooks to cost (default: pass-through, above);
#                              bench/realistic-hooks.lua counts and looks for a
#                              control message on every receive
#   RR_SIZE=1                  request = response bytes (-Q, -R; both tools' default)
#   BASE_PORT=24000            first port; every run takes 10 fresh ports above
#                              it, wrapping before 32000 (below Linux's ephemeral
#                              range)
#   LOCAL=1                    hookperf runs as one process, `tcp_rr --local`
#                              (client and server in it, as the hook-cost issue
#                              measured it); rushit, which has no such mode,
#                              still runs as two
#   PIN=split                  1-thread configs only: split = server on CPU 0 and
#                              client on CPU 1 (taskset), same = both on CPU 0,
#                              none = let the scheduler place them
#   KEEP=1                     keep the raw outputs (the directory is printed)
#
# Usage: bench/hook-overhead.sh            run the measurement
#        bench/hook-overhead.sh selftest   check the parsers on fixed samples
#                                          (and, with RUSHIT_DIR, one short
#                                          live rushit run, plain and scripted)
#
# Everything runs in a temp dir (rushit writes its log file into the current
# directory) on 127.0.0.1. Every server is started by this script on its own
# ports, waited for, and stopped on exit (trap), so no process is left.
set -euo pipefail

ROUNDS=${ROUNDS:-9}
LENGTH=${LENGTH:-2}
CONFIGS=${CONFIGS:-"1x1 8x2"}
HOOKPERF=${HOOKPERF:-}
RUSHIT_DIR=${RUSHIT_DIR:-}
SCRIPT=${SCRIPT:-}
RR_SIZE=${RR_SIZE:-1}
BASE_PORT=${BASE_PORT:-24000}
PIN=${PIN:-split}
LOCAL=${LOCAL:-0}
KEEP=${KEEP:-0}

readonly HOST=127.0.0.1

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(cd "$script_dir/.." && pwd)

work=$(mktemp -d "${TMPDIR:-/tmp}/hookperf-hooks.XXXXXX")
results="$work/results"
: >"$results"
next_port=$BASE_PORT
run_seq=0
declare -a srv_pin=() cli_pin=()

# shellcheck source=bench/lib.sh
source "$script_dir/lib.sh"



# ---------------------------------------------------------------------------
# Parsers and statistics



# rr_tps FILE: num_transactions / total_run_time (hookperf: the measured
# seconds; rushit: the whole seconds of -l), or / test_length without it.
rr_tps() {
	local n t
	n=$(kv "$1" num_transactions)
	t=$(kv "$1" total_run_time)
	is_num "${t:-x}" || t=$(kv "$1" test_length)
	if ! is_num "${n:-x}" || ! is_num "${t:-x}"; then return 1; fi
	awk -v n="$n" -v t="$t" 'BEGIN { if (t > 0) printf "%.2f\n", n / t; else exit 1 }'
}


# summary RESULTS TOOL CFG: "plain_med scripted_med ratio_med ratio_min
# ratio_max n" from lines "round cfg tool variant tps"; "-" where missing.
# A ratio is taken only in rounds where both runs gave a result.
summary() {
	awk -v c="$3" -v t="$2" '
		$2 == c && $3 == t { v[$1, $4] = $5; r[$1] = 1 }
		END {
			for (k in r) {
				if ((k, "plain") in v) print "plain", v[k, "plain"]
				if ((k, "scripted") in v) print "scripted", v[k, "scripted"]
				if ((k, "plain") in v && (k, "scripted") in v && v[k, "plain"] > 0)
					print "ratio", v[k, "scripted"] / v[k, "plain"]
			}
		}' "$1" >"$work/summary.tmp"
	local p s rm rmin rmax n
	p=$(awk '$1 == "plain" { print $2 }' "$work/summary.tmp" | median) || p=-
	s=$(awk '$1 == "scripted" { print $2 }' "$work/summary.tmp" | median) || s=-
	rm=$(awk '$1 == "ratio" { print $2 }' "$work/summary.tmp" | median) || rm=-
	rmin=$(awk '$1 == "ratio" { print $2 }' "$work/summary.tmp" | sort -g | head -n 1)
	rmax=$(awk '$1 == "ratio" { print $2 }' "$work/summary.tmp" | sort -g | tail -n 1)
	n=$(awk '$1 == "ratio"' "$work/summary.tmp" | wc -l)
	printf '%s %s %s %s %s %s\n' "$p" "$s" "$rm" "${rmin:--}" "${rmax:--}" "$n"
}

# ---------------------------------------------------------------------------
# Self-test of the parsers and the summary on fixed samples.

selftest_fail=0

selftest_parsers() {
	local d="$work/selftest"
	mkdir -p "$d"
	# hookperf client: total_run_time is measured.
	cat >"$d/hookperf" <<'EOF'
workload=tcp_rr
client=true
num_flows=8
test_length=1
total_run_time=0.998956085
num_transactions=48502
start_index=0
end_index=1
num_samples=2
throughput=48502
local_throughput=776096
EOF
	# rushit 0.3.0 client, 8x2 with a script: throughput= is absurd.
	cat >"$d/rushit_8x2" <<'EOF'
VERSION=0.3.0
test_length=2
num_threads=2
num_flows=8
script=hooks.lua
total_run_time=2
time_start=9972.916504730
num_transactions=53268
start_index=0
end_index=1
num_samples=2
throughput=35228727.14
correlation_coefficient=1.00
time_end=9973.917121855
EOF
	# rushit 0.3.0 client, 1x1 for 2 s: one sample, no throughput= at all.
	cat >"$d/rushit_1x1" <<'EOF'
VERSION=0.3.0
test_length=2
total_run_time=2
num_transactions=47760
start_index=0
end_index=0
num_samples=1
EOF
	cat >"$d/broken" <<'EOF'
VERSION=0.3.0
test_length=2
total_run_time=2
epoll_ctl: Bad file descriptor
EOF
	expect "hookperf tps" 48552.72 "$(rr_tps "$d/hookperf" || true)"
	expect "rushit 8x2 tps" 26634 "$(rr_tps "$d/rushit_8x2" || true)"
	expect "rushit 1x1 tps" 23880 "$(rr_tps "$d/rushit_1x1" || true)"
	if rr_tps "$d/broken" >/dev/null; then
		log "selftest: rr_tps must fail without num_transactions"
		selftest_fail=1
	fi
	# Round 3 lacks its scripted run: no ratio from it.
	cat >"$d/results" <<'EOF'
1 1x1 hookperf plain 100
1 1x1 hookperf scripted 80
2 1x1 hookperf scripted 90
2 1x1 hookperf plain 100
3 1x1 hookperf plain 200
4 1x1 hookperf plain 100
4 1x1 hookperf scripted 70
1 8x2 hookperf plain 999
1 1x1 rushit plain 50
EOF
	local p s rm rmin rmax n
	read -r p s rm rmin rmax n <<<"$(summary "$d/results" hookperf 1x1)"
	expect "plain median" 100 "$p"
	expect "scripted median" 80 "$s"
	expect "ratio median" 0.8 "$rm"
	expect "ratio min" 0.7 "$rmin"
	expect "ratio max" 0.9 "$rmax"
	expect "ratio count" 3 "$n"
	read -r p s rm rmin rmax n <<<"$(summary "$d/results" rushit 1x1)"
	if [[ $s != - || $rm != - || $n != 0 ]]; then
		log "selftest: a tool without scripted runs must summarise to '-': got '$s $rm $n'"
		selftest_fail=1
	fi
	((selftest_fail == 0)) || die "parser self-test failed"
	log "selftest: parsers OK on fixed samples"
}

# ---------------------------------------------------------------------------
# Runners. They run in this shell (never in $(...), so that the trap knows
# every pid) and leave the transactions/s in res.

# rushit_missing: why rushit is left out, or nothing (status 1) if it is not.
rushit_missing() {
	if [[ -z $RUSHIT_DIR ]]; then
		echo "RUSHIT_DIR is unset"
	elif [[ ! -x $RUSHIT_DIR/tcp_rr ]]; then
		echo "RUSHIT_DIR=$RUSHIT_DIR holds no executable tcp_rr"
	else
		return 1
	fi
}

# run_tool TOOL VARIANT FLOWS THREADS: one tcp_rr run, plain or scripted.
# Both CLIs are neper's: the server without -c, the client with -c -H; the
# script is --script FILE for both (rushit has no short form).
run_tool() {
	local tool=$1 variant=$2 flows=$3 threads=$4
	local -a bin=() flags=(-F "$flows" -T "$threads" -l "$LENGTH" -Q "$RR_SIZE" -R "$RR_SIZE")
	res=
	take_ports
	flags+=(-C "$port_a" -P $((port_a + 1)))
	[[ $variant == scripted ]] && flags+=(--script "$script_file")
	case $tool in
	hookperf) bin=("$hookperf_bin" tcp_rr) ;;
	rushit) bin=("$RUSHIT_DIR/tcp_rr") ;;
	*) die "run_tool: unknown tool $tool" ;;
	esac
	if [[ $tool == hookperf && $LOCAL == 1 ]]; then
		run_local "$tool-$variant" "${bin[@]}" --local "${flags[@]}" || return 1
	else
		run_pair "$tool-$variant" tcp "$port_a" $((LENGTH + 15)) \
			-- "${bin[@]}" "${flags[@]}" \
			-- "${bin[@]}" -c -H "$HOST" "${flags[@]}" || return 1
	fi
	res=$(rr_tps "$cli_out") || {
		log "  $tool $variant: no num_transactions in $cli_out"
		return 1
	}
}

# run_local TAG CMD...: one process that is both sides (hookperf --local),
# unpinned; its report is cli_out's.
run_local() {
	local tag=$1
	shift
	run_seq=$((run_seq + 1))
	cli_out="$work/$run_seq.$tag.local"
	printf '%s\n' "$*" >"$cli_out.cmd"
	start_bg "$cli_out" timeout --kill-after=5 $((LENGTH + 30)) "$@"
	local pid=$bg_pid ok=0
	if wait "$pid"; then ok=1; else log "  $tag: run failed (exit $?; see $cli_out; KEEP=1 keeps it)"; fi
	forget_pid "$pid"
	((ok))
}

# selftest_rushit_live: one short rushit run, plain and scripted, parsed.
selftest_rushit_live() {
	local saved=$LENGTH v
	LENGTH=1
	for v in plain scripted; do
		run_tool rushit "$v" 1 1 || die "selftest: rushit tcp_rr $v run or parse failed (KEEP=1 keeps $work)"
		log "selftest: rushit tcp_rr $v 1 s parsed: $res trans/s"
	done
	LENGTH=$saved
}

# ---------------------------------------------------------------------------
# Main


# measure ROUND TOOL VARIANT FLOWS THREADS: run once and record the result.
measure() {
	local round=$1 tool=$2 variant=$3 flows=$4 threads=$5
	local cfg="${flows}x${threads}"
	set_pin "$threads"
	if ! run_tool "$tool" "$variant" "$flows" "$threads" || [[ -z $res ]]; then
		log "  $cfg $tool $variant: no result"
		return 0
	fi
	echo "$round $cfg $tool $variant $res" >>"$results"
	log "  $cfg $tool $variant: $res trans/s"
}

print_table() {
	local tool cfg p s rm rmin rmax n
	printf '\n%-9s %-6s %14s %14s  %8s %7s %7s  %s\n' tool config plain_tps scripted_tps ratio min max rounds
	printf '%s\n' "------------------------------------------------------------------------------"
	for tool in "${tools[@]}"; do
		for cfg in $CONFIGS; do
			read -r p s rm rmin rmax n <<<"$(summary "$results" "$tool" "$cfg")"
			printf '%-9s %-6s %14s %14s  %8s %7s %7s  %s\n' "$tool" "$cfg" \
				"$(fmt 2 "$p")" "$(fmt 2 "$s")" "$(fmt 3 "$rm")" "$(fmt 3 "$rmin")" "$(fmt 3 "$rmax")" "$n"
		done
	done
	printf '\nscript: %s\n' "$script_desc"
	printf 'tcp_rr on %s, -Q %s -R %s, PIN=%s (1-thread configs); medians of %s rounds of %s s\n' \
		"$HOST" "$RR_SIZE" "$RR_SIZE" "$PIN" "$ROUNDS" "$LENGTH"
	if [[ $LOCAL == 1 ]]; then
		printf 'hookperf: one process (tcp_rr --local, unpinned); rushit: a server and a client\n'
	fi
	printf 'tps = num_transactions / total_run_time of the client; ratio = scripted/plain in the same round\n'
	printf '(median, smallest, largest over the rounds where both ran; 1.000 = the hooks cost nothing)\n'
}

fmt() { # DECIMALS VALUE
	if is_num "$2"; then awk -v d="$1" -v v="$2" 'BEGIN { printf "%.*f", d, v }'; else printf -- -; fi
}

check_config() {
	local c
	for c in $CONFIGS; do
		[[ $c =~ ^[1-9][0-9]*x[1-9][0-9]*$ ]] || die "bad config '$c' (want FLOWSxTHREADS, e.g. 8x2)"
	done
	[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "ROUNDS must be a positive integer"
	[[ $LENGTH =~ ^[1-9][0-9]*$ ]] || die "LENGTH must be a positive integer (rushit takes whole seconds)"
	[[ $RR_SIZE =~ ^[1-9][0-9]*$ ]] || die "RR_SIZE must be a positive integer"
	[[ $PIN =~ ^(split|same|none)$ ]] || die "PIN must be split, same or none"
	[[ $LOCAL =~ ^[01]$ ]] || die "LOCAL must be 0 or 1"
	if ! [[ $BASE_PORT =~ ^[0-9]+$ ]] || ((BASE_PORT < 1024 || BASE_PORT > 31000)); then
		die "BASE_PORT must be between 1024 and 31000"
	fi
}

# write_passthrough FILE: rushit's tests/func/basic-packet-hooks.lua.
write_passthrough() {
	cat >"$1" <<'EOF'
-- Pass-through packet hooks (rushit's tests/func/basic-packet-hooks.lua):
-- each hook makes the call it replaces and returns its result.
client_sendmsg(
  function (sockfd, msg, flags)
    return sendmsg(sockfd, msg, flags)
  end
)
client_recvmsg(
  function (sockfd, msg, flags)
    return recvmsg(sockfd, msg, flags)
  end
)

server_sendmsg(
  function (sockfd, msg, flags)
    return sendmsg(sockfd, msg, flags)
  end
)
server_recvmsg(
  function (sockfd, msg, flags)
    return recvmsg(sockfd, msg, flags)
  end
)
EOF
}

main() {
	check_config
	selftest_parsers
	if [[ -n $SCRIPT ]]; then
		[[ -r $SCRIPT ]] || die "SCRIPT=$SCRIPT is not readable"
		script_file=$(cd "$(dirname "$SCRIPT")" && pwd)/$(basename "$SCRIPT")
		script_desc=$script_file
	else
		script_file="$work/passthrough.lua"
		write_passthrough "$script_file"
		script_desc="pass-through sendmsg/recvmsg hooks on both sides (rushit's tests/func/basic-packet-hooks.lua)"
	fi
	if [[ -n $RUSHIT_DIR ]]; then
		RUSHIT_DIR=$(cd "$RUSHIT_DIR" 2>/dev/null && pwd) || die "RUSHIT_DIR is not a directory"
	fi
	# rushit writes tcp_rr.<host>.<user>.<date>.<pid>.log into the current directory.
	cd "$work"

	local why
	have_rushit=false
	if why=$(rushit_missing); then
		log "rushit: skipped ($why)."
		log "  To include it: build rushit outside the repo (README.md, \"Speed\") and set RUSHIT_DIR"
	else
		have_rushit=true
	fi
	if [[ ${1:-} == selftest ]]; then
		if $have_rushit; then selftest_rushit_live; fi
		return 0
	fi

	if [[ -n $HOOKPERF ]]; then
		[[ -x $HOOKPERF ]] || die "HOOKPERF=$HOOKPERF is not executable"
		hookperf_bin=$(cd "$(dirname "$HOOKPERF")" && pwd)/$(basename "$HOOKPERF")
	else
		hookperf_bin="$work/hookperf"
		log "building hookperf: go build -o $hookperf_bin ./cmd/hookperf"
		if ! (cd "$repo_root" && go build -o "$hookperf_bin" ./cmd/hookperf) >"$work/build.log" 2>&1; then
			sed 's/^/  /' "$work/build.log" >&2
			die "hookperf: build failed"
		fi
	fi

	tools=(hookperf)
	if $have_rushit; then tools+=(rushit); fi

	local round cfg flows threads i
	local -a runs=()
	for ((round = 1; round <= ROUNDS; round++)); do
		log "round $round/$ROUNDS"
		for cfg in $CONFIGS; do
			flows=${cfg%x*} threads=${cfg#*x}
			runs=()
			for i in "${tools[@]}"; do runs+=("$i plain" "$i scripted"); done
			if ((round % 2 == 0)); then
				local -a rev=()
				for ((i = ${#runs[@]} - 1; i >= 0; i--)); do rev+=("${runs[i]}"); done
				runs=("${rev[@]}")
			fi
			for i in "${runs[@]}"; do
				# shellcheck disable=SC2086 # "tool variant": two words
				measure "$round" ${i} "$flows" "$threads"
			done
		done
	done
	print_table
	if ! $have_rushit; then
		printf 'rushit: skipped (%s)\n' "$why"
	fi
}

main "$@"
