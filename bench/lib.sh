# bench/lib.sh — what bench/compare.sh and bench/hook-overhead.sh share:
# logging and the handling of the processes they start. Source it after
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

