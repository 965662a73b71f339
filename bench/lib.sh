# bench/lib.sh — what bench/compare.sh and bench/hook-overhead.sh share:
# logging, the handling of the processes they start (run_pair: a server
# and its client), ports, CPU pinning, and the small parsing helpers
# (kv, is_num, median) and the selftests' expect. Source it after
# setting work (the run's temp dir) and KEEP; every process started with
# start_bg is stopped on exit, and work is removed unless KEEP=1.
# shellcheck shell=bash
# work and KEEP come from the script that sources this; bg_pid is its
# caller's result.
# shellcheck disable=SC2153,SC2154,SC2034

declare -a live_pids=()

log() { printf '%s\n' "$*" >&2; }
die() {
	log "${0##*/}: $*"
	exit 1
}

# ---------------------------------------------------------------------------
# Process handling

cleanup() {
	local pid
	for pid in "${live_pids[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${live_pids[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	live_pids=()
	cd / # the temp dir may be the current directory
	if [[ $KEEP == 1 ]]; then
		log "raw outputs kept in $work"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

forget_pid() {
	local pid=$1 p
	local -a keep=()
	for p in "${live_pids[@]}"; do
		[[ $p == "$pid" ]] || keep+=("$p")
	done
	live_pids=("${keep[@]}")
}

# start_bg OUTFILE CMD...: start CMD in the background; its pid goes to
# bg_pid and to live_pids (for the trap). Never call it in a subshell.
start_bg() {
	local out=$1
	shift
	"$@" >"$out" 2>&1 &
	live_pids+=("$!")
	bg_pid=$!
}

# stop_pid PID GRACE: wait up to GRACE seconds for PID to exit by itself,
# then TERM it, then KILL it, and reap it.
stop_pid() {
	local pid=$1 grace=$2 i
	for ((i = 0; i < grace * 20; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null || true
		for ((i = 0; i < 40; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.05
		done
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
	forget_pid "$pid"
}

# wait_listen PROTO PORT PID: wait until something listens on PORT
# (tcp: LISTEN socket, udp: bound socket), or PID died, or 10 s passed.
wait_listen() {
	local proto=$1 port=$2 pid=$3 i flag
	[[ $proto == tcp ]] && flag=-Hltn || flag=-Hlun
	if ! command -v ss >/dev/null 2>&1; then
		sleep 1
		kill -0 "$pid" 2>/dev/null
		return
	fi
	for ((i = 0; i < 200; i++)); do
		kill -0 "$pid" 2>/dev/null || return 1
		if [[ -n $(ss "$flag" "sport = :$port" 2>/dev/null) ]]; then
			return 0
		fi
		sleep 0.05
	done
	return 1
}

# run_pair TAG PROTO WAITPORT SERVER_GRACE -- SERVER_CMD... -- CLIENT_CMD...
# Starts the server, waits for it, runs the client (bounded), then lets the
# server end (or stops it). Sets srv_out and cli_out to the output files.
run_pair() {
	local tag=$1 proto=$2 wport=$3 grace=$4
	shift 4
	[[ $1 == -- ]] || die "run_pair: missing --"
	shift
	local -a scmd=() ccmd=()
	while (($#)) && [[ $1 != -- ]]; do
		scmd+=("$1")
		shift
	done
	shift
	ccmd=("$@")

	run_seq=$((run_seq + 1))
	srv_out="$work/$run_seq.$tag.server"
	cli_out="$work/$run_seq.$tag.client"

	local spid cpid ok=0
	scmd=("${srv_pin[@]}" "${scmd[@]}")
	ccmd=("${cli_pin[@]}" "${ccmd[@]}")
	printf '%s\n' "${scmd[*]}" >"$srv_out.cmd"
	printf '%s\n' "${ccmd[*]}" >"$cli_out.cmd"
	start_bg "$srv_out" "${scmd[@]}"
	spid=$bg_pid
	if ! wait_listen "$proto" "$wport" "$spid"; then
		log "  $tag: server did not come up (see $srv_out; KEEP=1 keeps it)"
		stop_pid "$spid" 0
		return 1
	fi
	start_bg "$cli_out" timeout --kill-after=5 $((LENGTH + 30)) "${ccmd[@]}"
	cpid=$bg_pid
	if wait "$cpid"; then ok=1; else log "  $tag: client failed (exit $?; see $cli_out; KEEP=1 keeps it)"; fi
	forget_pid "$cpid"
	stop_pid "$spid" "$grace"
	((ok))
}

take_ports() {
	if ((next_port + 10 > 32000)); then next_port=$BASE_PORT; fi
	port_a=$next_port
	next_port=$((next_port + 10))
}

is_num() { [[ $1 =~ ^[0-9]+([.][0-9]+)?([eE][-+]?[0-9]+)?$ ]]; }

# kv FILE KEY: value of the last exact "KEY=value" line.
kv() {
	awk -F= -v k="$2" '$1 == k { v = substr($0, length(k) + 2) } END { if (v != "") print v }' "$1"
}

median() {
	sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) exit 1; if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

expect() {
	local what=$1 want=$2 got=$3
	if awk -v a="$want" -v b="$got" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(b != "" && d <= 0.01 * (a < 0 ? -a : a) + 1e-9) }'; then
		:
	else
		log "selftest: $what: want $want, got '${got}'"
		selftest_fail=1
	fi
}

# set_pin THREADS: CPU pinning prefixes for the next run (see PIN).
set_pin() {
	srv_pin=() cli_pin=()
	(($1 == 1)) && command -v taskset >/dev/null 2>&1 || return 0
	case $PIN in
	split) if (($(nproc) >= 2)); then srv_pin=(taskset -c 0) cli_pin=(taskset -c 1); fi ;;
	same) srv_pin=(taskset -c 0) cli_pin=(taskset -c 0) ;;
	esac
}
