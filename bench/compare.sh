#!/usr/bin/env bash
# bench/compare.sh — measure hookperf beside its peers on loopback.
#
# For every workload and config it runs hookperf and each peer tool in the
# same round, one after the other (the order alternates between rounds), for
# ROUNDS rounds, and prints the median of each side and the ratio
# hookperf/peer.
#
#   workload     peers
#   tcp_rr       sockperf ping-pong --tcp (1x1 only), neper tcp_rr
#   tcp_crr      neper tcp_crr
#   udp_rr       sockperf ping-pong (UDP, 1x1 only), neper udp_rr
#   tcp_stream   iperf3 (-P flows), neper tcp_stream
#   udp_stream   iperf3 -u -b 0 -l UDP_SIZE (-P flows), neper udp_stream
#
# Configs: "FxT" = F flows over T threads; default "1x1 8x2". iperf3 3.x and
# sockperf are single-threaded: for 8x2 iperf3 runs -P 8 in one thread and
# sockperf is left out (it has no equivalent of 8 concurrent flows).
#
# Environment (all optional):
#   ROUNDS=3 LENGTH=5          rounds, seconds per run
#   HOOKPERF=/path/hookperf    default: go build ./cmd/hookperf into a temp dir
#   NEPER_DIR=/path            a directory holding built neper binaries
#   WORKLOADS="tcp_rr ..."     subset of the five workloads
#   CONFIGS="1x1 8x2"
#   RR_SIZE=64                 request = response bytes in rr (sockperf's minimum is 14)
#   UDP_SIZE=1400              datagram bytes in udp_stream (neper's default)
#   TCP_SIZE=16384             bytes per write in tcp_stream (-B; iperf3 -l,
#                              whose own default, 128 KiB, would not be the
#                              same test)
#   BASE_PORT=20000            first port; every run takes 10 fresh ports above
#                              it, wrapping before 32000 (below Linux's default
#                              ephemeral range 32768-60999, where a client
#                              socket may hold the port and make bind fail)
#   PIN=split                  1-thread configs only: split = server on CPU 0 and
#                              client on CPU 1 (taskset), same = both on CPU 0,
#                              none = let the scheduler place them. On loopback
#                              rr results are bimodal without it: same-CPU
#                              ping-pong is ~4x faster than cross-CPU.
#   KEEP=1                     keep the raw outputs (the directory is printed)
#   FLAGS="-Z"                 more flags for both hookperf and neper (their
#                              CLIs share neper's flags), e.g. -Z, -z or
#                              --skip-rx-copy on tcp_stream, --no-delay on
#                              tcp_rr; the table says which (iperf3 and
#                              sockperf run without them)
#
# Usage: bench/compare.sh            run the comparison
#        bench/compare.sh selftest   only check the output parsers
#
# Everything runs on 127.0.0.1. Every server is started by this script on its
# own ports, waited for, and stopped on exit (trap), so no process is left.
set -euo pipefail

ROUNDS=${ROUNDS:-3}
LENGTH=${LENGTH:-5}
HOOKPERF=${HOOKPERF:-}
NEPER_DIR=${NEPER_DIR:-}
WORKLOADS=${WORKLOADS:-"tcp_rr tcp_crr udp_rr tcp_stream udp_stream"}
CONFIGS=${CONFIGS:-"1x1 8x2"}
RR_SIZE=${RR_SIZE:-64}
UDP_SIZE=${UDP_SIZE:-1400}
TCP_SIZE=${TCP_SIZE:-16384}
BASE_PORT=${BASE_PORT:-20000}
KEEP=${KEEP:-0}
PIN=${PIN:-split}
FLAGS=${FLAGS:-}

readonly HOST=127.0.0.1
readonly NEPER_BINS="tcp_rr tcp_crr udp_rr tcp_stream udp_stream"

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(cd "$script_dir/.." && pwd)

work=$(mktemp -d "${TMPDIR:-/tmp}/hookperf-compare.XXXXXX")
results="$work/results"
: >"$results"
next_port=$BASE_PORT
run_seq=0
declare -a srv_pin=() cli_pin=()

# shellcheck source=bench/lib.sh
source "$script_dir/lib.sh"



# ---------------------------------------------------------------------------
# Parsers. Values: transactions/s, latency in microseconds, Mbit/s.



# rr_tps FILE: neper/hookperf rr headline (throughput=, transactions/s).
rr_tps() {
	local v
	v=$(kv "$1" throughput)
	is_num "$v" && printf '%s\n' "$v"
}

# rr_p50_us FILE: latency_p50 (seconds) in microseconds.
rr_p50_us() {
	local v
	v=$(kv "$1" latency_p50)
	is_num "$v" && awk -v s="$v" 'BEGIN { printf "%.3f\n", s * 1e6 }'
}

# unit_to_mbps UNIT: factor from neper's throughput_units to Mbit/s.
unit_to_mbps() {
	case $1 in
	bits/s) echo 1e-6 ;;
	10^3bits/s | Kbit/s) echo 1e-3 ;;
	10^6bits/s | Mbit/s) echo 1 ;;
	10^9bits/s | Gbit/s) echo 1e3 ;;
	Kibit/s) echo 1.024e-3 ;;
	Mibit/s) echo 1.048576 ;;
	Gibit/s) echo 1073.741824 ;;
	B/s) echo 8e-6 ;;
	KB/s) echo 8e-3 ;;
	MB/s) echo 8 ;;
	GB/s) echo 8e3 ;;
	KBytes/s | KiB/s) echo 8.192e-3 ;;
	MBytes/s | MiB/s) echo 8.388608 ;;
	GBytes/s | GiB/s) echo 8589.934592 ;;
	*) return 1 ;;
	esac
}

# stream_explicit_mbps FILE: throughput_Mbps= (hookperf, rushit), or
# throughput= with throughput_units= (neper, printed by the reading side).
stream_explicit_mbps() {
	local v u f
	v=$(kv "$1" throughput_Mbps)
	if is_num "$v"; then
		printf '%s\n' "$v"
		return 0
	fi
	v=$(kv "$1" throughput)
	u=$(kv "$1" throughput_units)
	if is_num "$v" && [[ -n $u ]] && f=$(unit_to_mbps "$u"); then
		awk -v v="$v" -v f="$f" 'BEGIN { printf "%.2f\n", v * f }'
		return 0
	fi
	return 1
}

# stream_peer_bits_mbps FILE: the larger of local_throughput and
# remote_throughput (bit/s; neper's writing side has local=0, remote=reader's).
stream_peer_bits_mbps() {
	local l r
	l=$(kv "$1" local_throughput)
	r=$(kv "$1" remote_throughput)
	is_num "${l:-x}" || l=0
	is_num "${r:-x}" || r=0
	awk -v l="$l" -v r="$r" 'BEGIN { m = (l > r) ? l : r; if (m > 0) printf "%.2f\n", m / 1e6; else exit 1 }'
}

# stream_mbps CLIENT_FILE SERVER_FILE: receiver's Mbit/s from either side.
stream_mbps() {
	stream_explicit_mbps "$1" || stream_explicit_mbps "$2" ||
		stream_peer_bits_mbps "$1" || stream_peer_bits_mbps "$2"
}

# iperf3_mbps FILE: receiver Mbit/s from `iperf3 -f m` text (the [SUM] line
# with -P > 1, the only receiver line otherwise: both are the last one).
iperf3_mbps() {
	local v
	v=$(awk '/receiver[[:space:]]*$/ { for (i = 2; i <= NF; i++) if ($i == "Mbits/sec") v = $(i - 1) } END { if (v != "") print v }' "$1")
	is_num "$v" && printf '%s\n' "$v"
}

# iperf3_sent_mbps FILE: sender Mbit/s (shows UDP loss beside the receiver).
iperf3_sent_mbps() {
	local v
	v=$(awk '/sender[[:space:]]*$/ { for (i = 2; i <= NF; i++) if ($i == "Mbits/sec") v = $(i - 1) } END { if (v != "") print v }' "$1")
	is_num "$v" && printf '%s\n' "$v"
}

# sockperf_tps FILE: ReceivedMessages / RunTime of the [Valid Duration] line.
sockperf_tps() {
	local v
	v=$(sed 's/\x1b\[[0-9;]*m//g' "$1" | awk '/\[Valid Duration\]/ {
		for (i = 1; i <= NF; i++) {
			if ($i ~ /^RunTime=/) { t = $i; sub(/^RunTime=/, "", t) }
			if ($i ~ /^ReceivedMessages=/) { n = $i; sub(/^ReceivedMessages=/, "", n); sub(/;$/, "", n) }
		}
	} END { if (t > 0 && n != "") printf "%.2f\n", n / t }')
	is_num "$v" && printf '%s\n' "$v"
}

# sockperf_p50_us FILE: the 50th percentile (usec; round trip with --full-rtt).
sockperf_p50_us() {
	local v
	v=$(sed 's/\x1b\[[0-9;]*m//g' "$1" | awk '/percentile 50\.000 =/ { v = $NF } END { if (v != "") print v }')
	is_num "$v" && printf '%s\n' "$v"
}

# ---------------------------------------------------------------------------
# Self-test of the parsers on fixed samples of each tool's output.

selftest_fail=0

selftest_parsers() {
	local d="$work/selftest"
	mkdir -p "$d"
	# neper rr client (option dump first: throughput_opt must not match).
	cat >"$d/neper_rr" <<'EOF'
VERSION=1.1.0
percentiles=50,99,
throughput_opt=Mb
test_length=5
num_transactions=80000
latency_min=0.000014040
latency_max=0.001666305
latency_mean=0.000059877
latency_stddev=0.000024332
latency_p50=0.000060790
latency_p99=0.000119030
num_samples=25
time_end=171.346575890
correlation_coefficient=1.00
throughput=16693.46
local_throughput=16693
remote_throughput=16691
EOF
	# neper stream: reading side (server) and writing side (client).
	cat >"$d/neper_stream_srv" <<'EOF'
throughput_opt=Mb
num_samples=26
time_end=183.941132731
correlation_coefficient=1.00
throughput=21266.08
throughput_units=Mbit/s
local_throughput=21266076179
remote_throughput=0
EOF
	cat >"$d/neper_stream_cli" <<'EOF'
throughput_opt=Mb
local_throughput=0
remote_throughput=21266076179
EOF
	cat >"$d/neper_stream_gbit" <<'EOF'
throughput_opt=auto-b
throughput=21.27
throughput_units=10^9bits/s
EOF
	# hookperf / rushit stream headline.
	cat >"$d/hookperf_stream" <<'EOF'
num_samples=5
throughput_Mbps=12345.67
correlation_coefficient=1.00
local_throughput=12345670000
remote_throughput=12345670000
EOF
	cat >"$d/iperf3_tcp" <<'EOF'
[ ID] Interval           Transfer     Bitrate         Retr
[  5]   0.00-5.00   sec  16.4 GBytes  28213 Mbits/sec   16             sender
[  5]   0.00-5.00   sec  16.4 GBytes  28212 Mbits/sec                  receiver

iperf Done.
EOF
	cat >"$d/iperf3_udp_p2" <<'EOF'
[  5]   0.00-1.00   sec   192 MBytes  1611 Mbits/sec  0.000 ms  0/143870 (0%)  sender
[  5]   0.00-1.00   sec   179 MBytes  1500 Mbits/sec  0.010 ms  9929/143870 (6.9%)  receiver
[  7]   0.00-1.00   sec   192 MBytes  1611 Mbits/sec  0.000 ms  0/143870 (0%)  sender
[  7]   0.00-1.00   sec   179 MBytes  1500 Mbits/sec  0.009 ms  9926/143870 (6.9%)  receiver
[SUM]   0.00-1.00   sec   384 MBytes  3222 Mbits/sec  0.000 ms  0/287740 (0%)  sender
[SUM]   0.00-1.00   sec   358 MBytes  3000 Mbits/sec  0.010 ms  19855/287740 (6.9%)  receiver
EOF
	printf '%s\n' \
		'sockperf: [Total Run] RunTime=5.000 sec; Warm up time=400 msec; SentMessages=90000; ReceivedMessages=89999' \
		'sockperf: [Valid Duration] RunTime=4.550 sec; SentMessages=81900; ReceivedMessages=81900' \
		$'sockperf: \e[2;35m====> avg-rtt=58.622 (std-dev=21.276)\e[0m' \
		'sockperf: ---> percentile 99.000 =   80.399' \
		'sockperf: ---> percentile 50.000 =   59.097' \
		'sockperf: ---> <MIN> observation =    9.704' >"$d/sockperf"

	expect "neper rr tps" 16693.46 "$(rr_tps "$d/neper_rr" || true)"
	expect "neper rr p50" 60.79 "$(rr_p50_us "$d/neper_rr" || true)"
	expect "neper stream (server)" 21266.08 "$(stream_mbps /dev/null "$d/neper_stream_srv" || true)"
	expect "neper stream (client only)" 21266.08 "$(stream_mbps "$d/neper_stream_cli" /dev/null || true)"
	expect "neper stream (both)" 21266.08 "$(stream_mbps "$d/neper_stream_cli" "$d/neper_stream_srv" || true)"
	expect "neper stream auto unit" 21270 "$(stream_mbps "$d/neper_stream_gbit" /dev/null || true)"
	expect "hookperf stream" 12345.67 "$(stream_mbps "$d/hookperf_stream" /dev/null || true)"
	expect "iperf3 tcp" 28212 "$(iperf3_mbps "$d/iperf3_tcp" || true)"
	expect "iperf3 udp -P2 receiver" 3000 "$(iperf3_mbps "$d/iperf3_udp_p2" || true)"
	expect "iperf3 udp -P2 sender" 3222 "$(iperf3_sent_mbps "$d/iperf3_udp_p2" || true)"
	expect "sockperf tps" 18000 "$(sockperf_tps "$d/sockperf" || true)"
	expect "sockperf p50" 59.097 "$(sockperf_p50_us "$d/sockperf" || true)"
	if rr_tps "$d/neper_stream_cli" >/dev/null; then
		log "selftest: rr_tps must not read a stream client's output"
		selftest_fail=1
	fi
	((selftest_fail == 0)) || die "parser self-test failed"
	log "selftest: parsers OK on fixed samples"
}

# ---------------------------------------------------------------------------
# Runners. They run in this shell (never in $(...), so that the trap knows
# every pid) and leave their values in res: "tps p50_us" (rr) or "mbps".

neper_available() {
	local b
	[[ -n $NEPER_DIR ]] || return 1
	for b in $NEPER_BINS; do
		[[ -x $NEPER_DIR/$b ]] || return 1
	done
}

# run_nepercli TAG KIND WORKLOAD FLOWS THREADS BIN...
# hookperf and neper share the CLI; BIN... is what precedes the flags:
# "hookperf tcp_rr" or "NEPER_DIR/tcp_rr --nolog".
run_nepercli() {
	local tag=$1 kind=$2 wl=$3 flows=$4 threads=$5
	shift 5
	local -a bin=("$@") flags=(-F "$flows" -T "$threads" -l "$LENGTH")
	res=
	take_ports
	flags+=(-C "$port_a" -P $((port_a + 1)))
	case $wl in
	tcp_rr | tcp_crr | udp_rr) flags+=(-Q "$RR_SIZE" -R "$RR_SIZE" -p "50,99") ;;
	udp_stream) flags+=(-B "$UDP_SIZE") ;;
	tcp_stream) flags+=(-B "$TCP_SIZE") ;;
	esac
	local -a extra
	read -r -a extra <<<"$FLAGS"
	flags+=("${extra[@]}")
	run_pair "$tag" tcp "$port_a" $((LENGTH + 15)) \
		-- "${bin[@]}" "${flags[@]}" \
		-- "${bin[@]}" -c -H "$HOST" "${flags[@]}" || return 1
	if [[ $kind == rr ]]; then
		local t p
		t=$(rr_tps "$cli_out") || return 1
		p=$(rr_p50_us "$cli_out") || p=NA
		res="$t $p"
	else
		res=$(stream_mbps "$cli_out" "$srv_out") || return 1
	fi
}

run_hookperf() { run_nepercli "hookperf-$2" "$1" "$2" "$3" "$4" "$hookperf_bin" "$2"; }
run_neper() { run_nepercli "neper-$2" "$1" "$2" "$3" "$4" "$NEPER_DIR/$2" --nolog; }

# run_sockperf PROTO(tcp|udp): one ping-pong flow.
run_sockperf() {
	local proto=$1 t p
	local -a tflag=()
	[[ $proto == tcp ]] && tflag=(--tcp)
	res=
	take_ports
	run_pair "sockperf-$proto" "$proto" "$port_a" 0 \
		-- sockperf server "${tflag[@]}" -i "$HOST" -p "$port_a" \
		-- sockperf ping-pong "${tflag[@]}" -i "$HOST" -p "$port_a" -t "$LENGTH" -m "$RR_SIZE" --full-rtt || return 1
	t=$(sockperf_tps "$cli_out") || return 1
	p=$(sockperf_p50_us "$cli_out") || p=NA
	res="$t $p"
}

# run_iperf3 PROTO(tcp|udp) FLOWS
run_iperf3() {
	local proto=$1 flows=$2
	local -a extra=()
	extra=(-l "$TCP_SIZE")
	[[ $proto == udp ]] && extra=(-u -b 0 -l "$UDP_SIZE")
	res=
	take_ports
	run_pair "iperf3-$proto" tcp "$port_a" 10 \
		-- iperf3 -s -1 -B "$HOST" -p "$port_a" \
		-- iperf3 -c "$HOST" -p "$port_a" -t "$LENGTH" -P "$flows" -f m "${extra[@]}" || return 1
	res=$(iperf3_mbps "$cli_out") || return 1
	local sent
	if [[ $proto == udp ]] && sent=$(iperf3_sent_mbps "$cli_out"); then
		log "  (iperf3 udp sender: $sent Mbit/s)"
	fi
}

# selftest_neper_live: run neper briefly and parse its real output.
selftest_neper_live() {
	local saved=$LENGTH
	local FLAGS= # the parsers' check runs neper as it is
	LENGTH=1
	run_neper rr tcp_rr 1 1 || die "selftest: neper tcp_rr run or parse failed (outputs: $work; KEEP=1 keeps them)"
	log "selftest: neper tcp_rr 1 s parsed: tps p50_us = $res"
	run_neper stream tcp_stream 1 1 || die "selftest: neper tcp_stream run or parse failed (outputs: $work; KEEP=1 keeps them)"
	log "selftest: neper tcp_stream 1 s parsed: Mbit/s = $res"
	LENGTH=$saved
}

# ---------------------------------------------------------------------------
# Main

kind_of() {
	case $1 in
	tcp_rr | tcp_crr | udp_rr) echo rr ;;
	tcp_stream | udp_stream) echo stream ;;
	*) return 1 ;;
	esac
}

# peers_for WORKLOAD FLOWS: the peer tool ids for this cell.
peers_for() {
	local wl=$1 flows=$2
	local -a p=()
	case $wl in
	tcp_rr) if ((flows == 1)) && $have_sockperf; then p+=(sockperf-tcp); fi ;;
	udp_rr) if ((flows == 1)) && $have_sockperf; then p+=(sockperf-udp); fi ;;
	tcp_stream) if $have_iperf3; then p+=(iperf3-tcp); fi ;;
	udp_stream) if $have_iperf3; then p+=(iperf3-udp); fi ;;
	esac
	if $have_neper; then p+=(neper); fi
	echo "${p[*]}"
}


# measure TOOL WORKLOAD FLOWS THREADS: run once and record the result.
measure() {
	local tool=$1 wl=$2 flows=$3 threads=$4 kind ok=0 tps p50
	local cfg="${flows}x${threads}"
	kind=$(kind_of "$wl")
	set_pin "$threads"
	case $tool in
	hookperf) run_hookperf "$kind" "$wl" "$flows" "$threads" && ok=1 ;;
	neper) run_neper "$kind" "$wl" "$flows" "$threads" && ok=1 ;;
	sockperf-tcp) run_sockperf tcp && ok=1 ;;
	sockperf-udp) run_sockperf udp && ok=1 ;;
	iperf3-tcp) run_iperf3 tcp "$flows" && ok=1 ;;
	iperf3-udp) run_iperf3 udp "$flows" && ok=1 ;;
	esac
	if ((!ok)) || [[ -z $res ]]; then
		log "  $wl $cfg $tool: no result"
		return 0
	fi
	if [[ $kind == rr ]]; then
		read -r tps p50 <<<"$res"
		echo "$wl $cfg $tool tps $tps" >>"$results"
		[[ $p50 == NA ]] || echo "$wl $cfg $tool p50_us $p50" >>"$results"
		log "  $wl $cfg $tool: $tps trans/s, p50 $p50 us"
	else
		echo "$wl $cfg $tool Mbps $res" >>"$results"
		log "  $wl $cfg $tool: $res Mbit/s"
	fi
}


med_of() { # WORKLOAD CFG TOOL METRIC: the median, 2 decimals, or "-"
	local m
	m=$(awk -v w="$1" -v c="$2" -v t="$3" -v m="$4" '$1 == w && $2 == c && $3 == t && $4 == m { print $5 }' "$results" | median 2>/dev/null) || m=
	if is_num "$m"; then awk -v m="$m" 'BEGIN { printf "%.2f\n", m }'; else echo -; fi
}

print_table() {
	local wl cfg tool metric h p r
	printf '\n%-11s %-6s %-7s %12s  %-13s %12s  %s\n' workload config metric hookperf_med peer peer_med hookperf/peer
	printf '%s\n' "----------------------------------------------------------------------------------------"
	for wl in $WORKLOADS; do
		for cfg in $CONFIGS; do
			local -a metrics
			if [[ $(kind_of "$wl") == rr ]]; then metrics=(tps p50_us); else metrics=(Mbps); fi
			for tool in $(peers_for "$wl" "${cfg%x*}"); do
				for metric in "${metrics[@]}"; do
					h=$(med_of "$wl" "$cfg" hookperf "$metric")
					p=$(med_of "$wl" "$cfg" "$tool" "$metric")
					if is_num "$h" && is_num "$p" && awk -v p="$p" 'BEGIN { exit !(p > 0) }'; then
						r=$(awk -v h="$h" -v p="$p" 'BEGIN { printf "%.2f", h / p }')
					else
						r=-
					fi
					printf '%-11s %-6s %-7s %12s  %-13s %12s  %s\n' "$wl" "$cfg" "$metric" "$h" "$tool" "$p" "$r"
				done
			done
		done
	done
	printf '\nPIN=%s (1-thread configs)' "$PIN"
	[[ -z $FLAGS ]] || printf '; FLAGS=%s for hookperf and neper' "$FLAGS"
	printf '\nmedians of %s rounds of %s s; tps = transactions/s, p50_us = median round trip (us, lower is better), Mbps = received Mbit/s\n' "$ROUNDS" "$LENGTH"
}

check_config() {
	local c
	for c in $CONFIGS; do
		[[ $c =~ ^[1-9][0-9]*x[1-9][0-9]*$ ]] || die "bad config '$c' (want FLOWSxTHREADS, e.g. 8x2)"
	done
	for c in $WORKLOADS; do
		kind_of "$c" >/dev/null || die "unknown workload '$c'"
	done
	[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "ROUNDS must be a positive integer"
	[[ $LENGTH =~ ^[1-9][0-9]*$ ]] || die "LENGTH must be a positive integer"
	[[ $PIN =~ ^(split|same|none)$ ]] || die "PIN must be split, same or none"
	if ! [[ $BASE_PORT =~ ^[0-9]+$ ]] || ((BASE_PORT < 1024 || BASE_PORT > 31000)); then
		die "BASE_PORT must be between 1024 and 31000"
	fi
}

main() {
	check_config
	selftest_parsers
	if [[ ${1:-} == selftest ]]; then
		if neper_available; then selftest_neper_live; fi
		return 0
	fi

	have_neper=false have_iperf3=false have_sockperf=false have_hookperf=false
	if neper_available; then
		have_neper=true
		selftest_neper_live
	else
		log "neper: skipped (NEPER_DIR unset or without tcp_rr tcp_crr udp_rr tcp_stream udp_stream)."
		log "  To include it: fetch google/neper into a scratch dir outside the repo and run make; set NEPER_DIR"
	fi
	if command -v iperf3 >/dev/null 2>&1; then have_iperf3=true; else log "iperf3: not found, skipped (bench/install-tools.sh installs it)"; fi
	if command -v sockperf >/dev/null 2>&1; then have_sockperf=true; else log "sockperf: not found, skipped (bench/install-tools.sh installs it)"; fi

	if [[ -n $HOOKPERF ]]; then
		[[ -x $HOOKPERF ]] || die "HOOKPERF=$HOOKPERF is not executable"
		hookperf_bin=$HOOKPERF
		have_hookperf=true
	else
		hookperf_bin="$work/hookperf"
		log "building hookperf: go build -o $hookperf_bin ./cmd/hookperf"
		if (cd "$repo_root" && go build -o "$hookperf_bin" ./cmd/hookperf) >"$work/build.log" 2>&1; then
			have_hookperf=true
		else
			log "hookperf: build failed, measuring the peers only:"
			sed 's/^/  /' "$work/build.log" >&2
		fi
	fi

	local round wl cfg flows threads tool
	for ((round = 1; round <= ROUNDS; round++)); do
		log "round $round/$ROUNDS"
		for wl in $WORKLOADS; do
			for cfg in $CONFIGS; do
				flows=${cfg%x*} threads=${cfg#*x}
				local -a tools=()
				$have_hookperf && tools+=(hookperf)
				# shellcheck disable=SC2207 # tool ids are single words
				tools+=($(peers_for "$wl" "$flows"))
				if ((round % 2 == 0)); then
					local -a rev=()
					local i
					for ((i = ${#tools[@]} - 1; i >= 0; i--)); do rev+=("${tools[i]}"); done
					tools=("${rev[@]}")
				fi
				for tool in "${tools[@]}"; do
					measure "$tool" "$wl" "$flows" "$threads"
				done
			done
		done
	done
	print_table
}

main "$@"
