#!/usr/bin/env bash
# How long hookperf takes to exit once a run has ended, when script code
# does not end by itself: a loop at the top level or after run(), a hook
# blocked in nanosleep; and a plain run interrupted. Loopback only.
#
#   HOOKPERF=./bin/hookperf bash bench/fault-exit.sh
#
# Prints, per fault, the exit status and the seconds from the run's end
# (its -l or -s, or the signal) to the exit; the goal is under 2 s.
set -u
BIN=${HOOKPERF:-hookperf}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$dir" || exit 1
printf 'while true do end\n' > loop.lua
printf 'run()\nwhile true do end\n' > after.lua
printf 'client_sendmsg(function(s, m, f) nanosleep(3600) return sendmsg(s, m, f) end)\n' > sleep.lua
now() { date +%s.%N; }
fault() { # name, seconds until the run ends, signal or "", hookperf args...
	local name=$1 at=$2 sig=$3
	shift 3
	local start
	start=$(now)
	timeout -s KILL 30 "$BIN" "$@" > out.txt 2> err.txt &
	local p=$!
	if [ -n "$sig" ]; then
		sleep "$at"
		kill -"$sig" "$(pgrep -P $p)"
	fi
	wait $p
	local rc=$?
	printf '%-30s status %-3s exit %5.2f s after the end  %s\n' "$name" $rc "$(echo "$(now) - $start - $at" | bc)" "$(head -c 100 err.txt | head -1)"
}
fault "top-level loop, -s 1" 1 "" tcp_rr --local -l 1 -s 1 --script loop.lua
fault "top-level loop, SIGINT" 1 INT tcp_rr --local -l 1 --script loop.lua
fault "loop after run(), -l 1" 1 "" tcp_rr --local -l 1 --script after.lua
fault "hook in nanosleep, -l 1" 1 "" tcp_rr --local -l 1 --script sleep.lua
fault "hook in nanosleep, SIGINT" 1 INT tcp_rr --local -l 30 --script sleep.lua
fault "plain run, SIGINT" 1 INT tcp_rr --local -l 30
fault "plain run, SIGTERM" 1 TERM tcp_rr --local -l 30
