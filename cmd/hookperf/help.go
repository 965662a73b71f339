package main

import (
	"fmt"
	"io"
)

// The --help listing groups the flags as neper's define_all_flags.c does
// (every workload, TCP, rr, stream, one workload) and marks where each
// comes from: neper's (a neper command line works unchanged), rushit's, or
// hookperf's own.

// flagGroup is a heading of --help, in order.
type flagGroup int

const (
	groupCommon flagGroup = iota
	groupTCP
	groupRR
	groupStream
	groupTCPStream
	groupScript
	groupOutput
	numGroups
)

var groupTitles = [numGroups]string{
	groupCommon:    "every workload",
	groupTCP:       "TCP workloads (tcp_rr, tcp_crr, tcp_stream)",
	groupRR:        "rr workloads (tcp_rr, tcp_crr, udp_rr)",
	groupStream:    "stream workloads (tcp_stream, udp_stream)",
	groupTCPStream: "tcp_stream",
	groupScript:    "scripts",
	groupOutput:    "output, and the command",
}

// flagOrigin says whose flag it is.
type flagOrigin string

const (
	fromNeper    flagOrigin = "neper"
	fromRushit   flagOrigin = "rushit"
	fromHookperf flagOrigin = "hookperf"
)

// flagPlace is a flag's heading and origin in --help.
type flagPlace struct {
	group  flagGroup
	origin flagOrigin
}

// flagPlaces places every flag of flagSpecs (TestHelpPlacesEveryFlag
// keeps them in step).
var flagPlaces = map[string]flagPlace{
	"client": {groupCommon, fromNeper}, "host": {groupCommon, fromNeper}, "local-host": {groupCommon, fromNeper},
	"source-port": {groupCommon, fromNeper}, "control-port": {groupCommon, fromNeper}, "port": {groupCommon, fromNeper},
	"ipv4": {groupCommon, fromNeper}, "ipv6": {groupCommon, fromNeper}, "magic": {groupCommon, fromNeper},
	"num-flows": {groupCommon, fromNeper}, "num-threads": {groupCommon, fromNeper}, "num-clients": {groupCommon, fromNeper},
	"wait-start": {groupCommon, fromNeper}, "iostat-ms": {groupCommon, fromNeper}, "suicide-length": {groupCommon, fromNeper}, "maxevents": {groupCommon, fromNeper},
	"nonblocking": {groupCommon, fromNeper}, "pin-cpu": {groupCommon, fromNeper}, "dry-run": {groupCommon, fromNeper},
	"listen-backlog": {groupCommon, fromNeper}, "test-length": {groupCommon, fromNeper}, "buffer-size": {groupCommon, fromNeper},
	"delay": {groupCommon, fromNeper}, "max-pacing-rate": {groupCommon, fromNeper}, "time-wait": {groupCommon, fromNeper},
	"debug": {groupCommon, fromNeper}, "freebind": {groupCommon, fromNeper}, "interval": {groupCommon, fromNeper},
	"all-samples": {groupCommon, fromNeper}, "worker-samples": {groupCommon, fromHookperf}, "report": {groupOutput, fromHookperf}, "histogram": {groupRR, fromHookperf}, "stime-use-proc": {groupCommon, fromNeper},
	"mark": {groupCommon, fromNeper}, "reuseport": {groupCommon, fromHookperf}, "spin": {groupCommon, fromHookperf},
	"warmup": {groupCommon, fromHookperf},

	"num-ports": {groupTCP, fromNeper}, "pin-numa": {groupTCP, fromNeper}, "tcp-fastopen": {groupTCP, fromNeper}, "tcp-tx-delay": {groupTCP, fromNeper},
	"no-delay": {groupTCP, fromNeper}, "congestion-control": {groupTCP, fromNeper}, "async-connect": {groupTCP, fromNeper}, "noburst": {groupRR, fromNeper},
	"min-rto": {groupTCP, fromRushit},

	"request-size":  {groupRR, fromNeper},
	"response-size": {groupRR, fromNeper}, "percentiles": {groupRR, fromNeper},
	"log-rtt": {groupRR, fromNeper}, "logrtt-entries-per-flow": {groupRR, fromNeper}, "udp-timeout": {groupRR, fromHookperf},

	"enable-read": {groupStream, fromNeper}, "enable-write": {groupStream, fromNeper}, "edge-trigger": {groupStream, fromNeper},
	"reuseaddr": {groupStream, fromNeper}, "throughput-opt": {groupStream, fromNeper},

	"zerocopy":          {groupStream, fromNeper},
	"enable-tcp-maerts": {groupTCPStream, fromNeper}, "split-bidir": {groupTCPStream, fromNeper},
	"rx-zerocopy": {groupTCPStream, fromNeper}, "skip-rx-copy": {groupTCPStream, fromNeper}, "no-cork": {groupTCPStream, fromNeper},

	"script": {groupScript, fromRushit}, "script-arg": {groupScript, fromHookperf},

	"local": {groupOutput, fromHookperf}, "json": {groupOutput, fromHookperf}, "gobench": {groupOutput, fromHookperf},
	"logtostderr": {groupOutput, fromNeper}, "nolog": {groupOutput, fromNeper}, "version": {groupOutput, fromHookperf},
	"help": {groupOutput, fromNeper},
}

// writeFlagHelp lists the flags under their headings, each marked with
// its origin.
func writeFlagHelp(w io.Writer) {
	for g := flagGroup(0); g < numGroups; g++ {
		fmt.Fprintf(w, "\n%s:\n", groupTitles[g])
		for _, f := range flagSpecs {
			p := flagPlaces[f.long]
			if p.group != g {
				continue
			}
			name := "    --" + f.long
			if f.short != "" {
				name = "-" + f.short + ", --" + f.long
			}
			switch f.kind {
			case needsValue:
				name += " " + f.arg
			case optionalValue:
				name += "[=" + f.arg + "]"
			}
			fmt.Fprintf(w, "  %-34s %-10s %s\n", name, "["+string(p.origin)+"]", f.help)
		}
	}
}
