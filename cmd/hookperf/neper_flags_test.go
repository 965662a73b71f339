package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"gotest.tools/v3/assert"
)

// neperWorkloads are neper's five tools, hookperf's workloads.
var neperWorkloads = []string{"tcp_rr", "tcp_crr", "tcp_stream", "udp_rr", "udp_stream"}

// neperFlag is one flag of neper's define_all_flags.c (google/neper),
// with the tools that define it and an example of its use.
type neperFlag struct {
	args  []string // e.g. {"--num-ports", "2"}
	tools []string // the tools that define it; nil: every tool
}

var (
	tcpTools    = []string{"tcp_rr", "tcp_crr", "tcp_stream"}
	rrTools     = []string{"tcp_rr", "tcp_crr", "udp_rr"}
	streamTools = []string{"tcp_stream", "udp_stream"}
)

// neperFlags is neper's flag list, as its source defines it: the common
// flags (add_flags_common), the TCP ones (add_flags_tcp), rr's and
// stream's, and each tool's own.
var neperFlags = []neperFlag{
	// add_flags_common: every tool.
	{args: []string{"--magic", "42"}}, {args: []string{"--maxevents", "100"}}, {args: []string{"-F", "2"}},
	{args: []string{"-T", "1"}}, {args: []string{"--num-clients", "1"}}, {args: []string{"--listen-backlog", "64"}},
	{args: []string{"-s", "30"}}, {args: []string{"--source-port", "30000"}}, {args: []string{"-S"}},
	{args: []string{"-4"}}, {args: []string{"-6", "-H", "::1"}}, {args: []string{"-c"}}, {args: []string{"-d"}},
	{args: []string{"-n"}}, {args: []string{"-U"}}, {args: []string{"--logtostderr"}}, {args: []string{"--nolog"}},
	{args: []string{"--nonblocking"}}, {args: []string{"--freebind"}}, {args: []string{"-I", "0.5"}},
	{args: []string{"-m", "1M"}}, {args: []string{"-L", "127.0.0.1"}}, {args: []string{"-H", "127.0.0.1"}},
	{args: []string{"-C", "12866"}}, {args: []string{"-P", "12867"}}, {args: []string{"-A"}},
	{args: []string{"--time-wait"}}, {args: []string{"--wait-start", "1"}}, {args: []string{"--iostat-ms", "100"}},
	// add_flags_tcp.
	{args: []string{"--num-ports", "2"}, tools: tcpTools}, {args: []string{"-X"}, tools: tcpTools}, {args: []string{"-N"}, tools: tcpTools},
	{args: []string{"-t", "100"}, tools: tcpTools}, {args: []string{"--no-delay"}, tools: tcpTools},
	{args: []string{"--congestion-control", "cubic"}, tools: tcpTools},
	// add_flags_rr.
	{args: []string{"-Q", "10"}, tools: rrTools}, {args: []string{"-R", "10"}, tools: rrTools},
	{args: []string{"-p", "50,99"}, tools: rrTools}, {args: []string{"-l", "5"}}, {args: []string{"-B", "4096"}, tools: []string{"tcp_rr", "tcp_crr", "udp_rr", "tcp_stream", "udp_stream"}},
	{args: []string{"--log-rtt"}, tools: rrTools}, {args: []string{"--log-rtt=rtt.csv"}, tools: rrTools},
	{args: []string{"--logrtt-entries-per-flow", "100"}, tools: rrTools},
	{args: []string{"-M", "7"}, tools: []string{"tcp_rr", "tcp_crr", "udp_rr", "udp_stream"}}, // SO_MARK
	// add_flags_stream.
	{args: []string{"-E"}, tools: streamTools}, {args: []string{"-R"}, tools: streamTools}, // SO_REUSEADDR
	{args: []string{"--throughput-opt", "Gb"}, tools: streamTools},
	// the tools' own.
	{args: []string{"-D", "1us"}, tools: []string{"tcp_rr", "tcp_stream", "udp_rr", "udp_stream"}},
	{args: []string{"--async-connect"}, tools: tcpTools}, {args: []string{"--noburst", "1ms"}, tools: []string{"tcp_rr"}}, {args: []string{"--reuseaddr"}, tools: []string{"tcp_rr", "tcp_stream", "udp_stream"}},
	{args: []string{"-Z"}, tools: streamTools},
	{args: []string{"--skip-rx-copy"}, tools: []string{"tcp_stream"}}, {args: []string{"-z"}, tools: []string{"tcp_stream"}},
	{args: []string{"-r"}, tools: []string{"tcp_stream"}}, {args: []string{"-w"}, tools: []string{"tcp_stream"}},
	{args: []string{"-M"}, tools: []string{"tcp_stream"}}, // TCP_MAERTS
	{args: []string{"--no-cork"}, tools: []string{"tcp_stream"}}, {args: []string{"--split-bidir"}, tools: []string{"tcp_stream"}}, {args: []string{"--mark", "7"}, tools: []string{"tcp_stream"}},
}

// hookperfExtends are neper flags hookperf also takes where neper's tool
// does not define them (they mean the same there).
var hookperfExtends = map[string][]string{
	"-E": rrTools, "--mark": {"tcp_rr", "tcp_crr", "udp_rr", "udp_stream"},
	"-D": {"tcp_crr"}, "--reuseaddr": {"tcp_crr", "udp_rr"}, "--throughput-opt": {}, "-Q": {}, "-p": {},
	"--no-delay": {}, "-M": {},
}

// TestNeperFlags: every neper flag is taken (a client's dry run, status
// 0) by each workload whose neper tool defines it, and refused with
// status 2 and a reason by the others, unless hookperf gives it the same
// meaning there (hookperfExtends).
func TestNeperFlags(t *testing.T) {
	t.Parallel()
	dry := func(w string, args []string) (int, string) {
		var out, errb bytes.Buffer
		full := append([]string{w, "-c", "-n"}, args...)
		code := run(full, &out, &errb)
		return code, errb.String()
	}
	for _, f := range neperFlags {
		for _, w := range neperWorkloads {
			t.Run(w+"/"+strings.Join(f.args, " "), func(t *testing.T) {
				code, stderr := dry(w, f.args)
				switch {
				case f.tools == nil || slices.Contains(f.tools, w):
					assert.Equal(t, code, exitOK, "neper's %s takes %q: %s", w, f.args, stderr)
				case slices.Contains(hookperfExtends[f.args[0]], w):
					assert.Equal(t, code, exitOK, "hookperf's %s takes %q: %s", w, f.args, stderr)
				case code == exitOK:
					// A flag neper's tool lacks but hookperf's accepts
					// must be listed as an extension.
					t.Errorf("%s takes %q, which neper's %s does not define: list it in hookperfExtends or refuse it", w, f.args, w)
				default:
					assert.Equal(t, code, exitUsage, "%s %q: %s", w, f.args, stderr)
					assert.Assert(t, strings.Count(stderr, "\n") >= 1 && stderr != "", "a reason: %q", stderr)
				}
			})
		}
	}
}

// neperREADME are the server and client command lines of neper's README
// (google/neper), as written there: the binary is named after the tool
// (a link to hookperf), "server" is the server's host.
var neperREADME = []struct {
	server, client string
	check          func(t *testing.T, client map[string]string)
}{
	{"tcp_rr", "tcp_rr -c -H server", nil},
	{"tcp_rr -F 10 -T 2", "tcp_rr -c -H server -F 10 -T 2", nil},
	{"tcp_rr -F 10 -T 2", "tcp_rr -c -H server -F 10 -T 4", nil},
	{"tcp_stream -w", "tcp_stream -c -H server -r", func(t *testing.T, kv map[string]string) {
		// hookperf's -r alone reverses the stream (SPEC.md: -r and -w
		// choose the directions), where neper's client writes too: the
		// README's "Where hookperf differs from neper on purpose".
		assert.Assert(t, num(t, kv, "bytes_read") > 0 && num(t, kv, "bytes_written") == 0, "%v", kv)
	}},
	{"tcp_stream -rw", "tcp_stream -c -H server -rw", func(t *testing.T, kv map[string]string) {
		assert.Assert(t, num(t, kv, "bytes_read") > 0 && num(t, kv, "bytes_written") > 0, "%v", kv)
	}},
	{"tcp_stream -M", "tcp_stream -c -H server -M", func(t *testing.T, kv map[string]string) {
		// TCP_MAERTS: the server sends, the client only reads.
		assert.Assert(t, num(t, kv, "bytes_read") > 0 && num(t, kv, "bytes_written") == 0, "%v", kv)
	}},
	{"./tcp_rr", "./tcp_rr -c -H server -A --percentiles=25,50,90,95,99", nil},
}

// TestNeperREADME runs neper's README's command lines. To run beside the
// other tests, "server" is 127.0.0.1, both sides take their own ports
// (-C, -P) and the client -l 1 rather than 10 s; nothing else is added.
// The -A line's samples.csv starts with the header the README shows.
func TestNeperREADME(t *testing.T) {
	t.Parallel()
	for _, tc := range neperREADME {
		t.Run(tc.client, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			cport, dport := strconv.Itoa(freePort(t)), strconv.Itoa(freePort(t))
			cmd := func(line string, extra ...string) (string, []string) {
				f := strings.Fields(strings.ReplaceAll(line, "-H server", "-H 127.0.0.1"))
				tool := filepath.Join(dir, filepath.Base(f[0]))
				if _, err := os.Lstat(tool); err != nil {
					assert.NilError(t, os.Symlink(hookperfBin, tool))
				}
				return tool, append(append(f[1:], "-C", cport, "-P", dport), extra...)
			}
			sbin, sargs := cmd(tc.server)
			sp := startBin(t, sbin, dir, sargs...)
			time.Sleep(300 * time.Millisecond)
			cbin, cargs := cmd(tc.client, "-l", "1")
			cr, sr := startBin(t, cbin, dir, cargs...).wait(procTimeout), sp.wait(procTimeout)
			assert.Equal(t, sr.code, 0, "server %q: %s", tc.server, sr)
			assert.Equal(t, cr.code, 0, "client %q: %s", tc.client, cr)
			kv := parseKV(t, cr.stdout)
			if w := filepath.Base(cbin); w == "tcp_rr" {
				assert.Assert(t, num(t, kv, "throughput") > 0, "%v", kv)
			}
			if tc.check != nil {
				tc.check(t, kv)
			}
			if strings.Contains(tc.client, " -A") {
				data, err := os.ReadFile(filepath.Join(dir, "samples.csv"))
				assert.NilError(t, err)
				header, _, _ := strings.Cut(string(data), "\n")
				// The README's header, then hookperf's two columns.
				want := "time,tid,flow_id,bytes_read,transactions,latency_min,latency_mean,latency_max,latency_stddev,latency_p25,latency_p50,latency_p90,latency_p95,latency_p99,utime,stime,maxrss,minflt,majflt,nvcsw,nivcsw"
				assert.Equal(t, header, want+",bytes_written,latency_count")
			}
		})
	}
}
