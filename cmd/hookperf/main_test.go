package main

// End-to-end tests: the real binary (built once in TestMain, see
// testmain_test.go) run as a server and a client, or both with --local,
// over loopback.

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gotest.tools/v3/assert"
)

// The keys SPEC.md's "Output" lists for every run, and for rr and stream
// runs.
var (
	commonResultKeys = []string{
		"total_run_time", "invalid_secret_count", "time_start",
		"utime_start", "utime_end", "stime_start", "stime_end",
		"maxrss_start", "maxrss_end", "minflt_start", "minflt_end",
		"majflt_start", "majflt_end", "nvcsw_start", "nvcsw_end",
		"nivcsw_start", "nivcsw_end", "num_transactions", "start_index",
		"end_index", "num_samples", "correlation_coefficient", "time_end",
		"local_throughput", "remote_throughput",
	}
	rrKeys     = []string{"throughput", "latency_min", "latency_mean", "latency_max", "latency_stddev"}
	streamKeys = []string{"throughput_Mbps"}
)

// optionKeys are the keys of the options a run prints first: one per
// flag of flagSpecs that is an option of the run (not of the command).
func optionKeys() []string {
	notOptions := map[string]bool{"local": true, "json": true, "gobench": true, "logtostderr": true, "version": true, "help": true, "script": true, "script-arg": true,
		"enable-tcp-maerts": true} // shorthand for -r/-w, printed as enable_read and enable_write
	var keys []string
	for _, f := range flagSpecs {
		if !notOptions[f.long] {
			keys = append(keys, strings.ReplaceAll(f.long, "-", "_"))
		}
	}
	return append(keys, "workload")
}

// missingKeys lists the keys of want that kv lacks.
func missingKeys(kv map[string]string, want ...[]string) []string {
	var missing []string
	for _, keys := range want {
		for _, k := range keys {
			if _, ok := kv[k]; !ok {
				missing = append(missing, k)
			}
		}
	}
	return missing
}

// checkRun checks the output of a completed run of workload w: the keys
// of SPEC.md, numbers where numbers belong, and the figures that must be
// positive.
func checkRun(t testing.TB, w string, kv map[string]string, percentiles ...string) {
	t.Helper()
	rr := w == "tcp_rr" || w == "tcp_crr" || w == "udp_rr"
	want := [][]string{optionKeys(), commonResultKeys}
	var pkeys []string
	for _, p := range percentiles {
		pkeys = append(pkeys, "latency_p"+p)
	}
	if rr {
		want = append(want, rrKeys, pkeys)
	} else {
		want = append(want, streamKeys)
	}
	if w == "udp_stream" {
		want = append(want, []string{"sender_throughput_Mbps", "packets_read", "packets_written"})
	}
	if w == "udp_rr" {
		want = append(want, []string{"packets_read", "packets_written", "udp_resends", "udp_duplicates", "udp_stale"})
	}
	if missing := missingKeys(kv, want...); len(missing) > 0 {
		t.Errorf("%s output lacks keys %q", w, missing)
	}
	// The other kind's headline keys do not belong.
	other := streamKeys
	if !rr {
		other = append(slices.Clone(rrKeys), "latency_p50")
	}
	for _, k := range other {
		if _, ok := kv[k]; ok {
			t.Errorf("%s output has %s=%s", w, k, kv[k])
		}
	}
	assert.Equal(t, kv["workload"], w)
	for _, keys := range want[1:] {
		for _, k := range keys {
			if _, ok := kv[k]; ok {
				num(t, kv, k)
			}
		}
	}
	if t.Failed() {
		return
	}
	assert.Equal(t, kv["invalid_secret_count"], "0")
	positive := []string{"total_run_time", "local_throughput", "remote_throughput", "num_samples"}
	if rr {
		positive = append(positive, "num_transactions", "throughput", "latency_min", "latency_mean", "latency_max")
	} else {
		positive = append(positive, "throughput_Mbps")
	}
	for _, k := range positive {
		assert.Assert(t, num(t, kv, k) > 0, "%s=%s, want > 0", k, kv[k])
	}
	assert.Assert(t, num(t, kv, "time_end") > num(t, kv, "time_start"), "time_end=%s, time_start=%s", kv["time_end"], kv["time_start"])
	assert.Assert(t, num(t, kv, "end_index") > num(t, kv, "start_index"), "end_index=%s, start_index=%s", kv["end_index"], kv["start_index"])
	if rr {
		lmin, lmean, lmax := num(t, kv, "latency_min"), num(t, kv, "latency_mean"), num(t, kv, "latency_max")
		assert.Assert(t, lmin <= lmean && lmean <= lmax, "latency min %v mean %v max %v", lmin, lmean, lmax)
		prev := lmin
		for _, k := range pkeys {
			v := num(t, kv, k)
			assert.Assert(t, prev <= v && v <= lmax, "%s=%v out of order (previous %v, max %v)", k, v, prev, lmax)
			prev = v
		}
	}
}

var workloads = []string{"tcp_rr", "tcp_crr", "tcp_stream", "udp_rr", "udp_stream"}

func TestLocalEveryWorkload(t *testing.T) {
	t.Parallel()
	for _, w := range workloads {
		t.Run(w, func(t *testing.T) {
			t.Parallel()
			args := []string{w, "--local", "-l", "1"}
			rr := strings.HasSuffix(w, "rr")
			if rr {
				args = append(args, "-p", "50,99") // latency percentiles are rr's
			}
			kv := mustSucceed(t, args...)
			checkRun(t, w, kv, "50", "99")
			assert.Equal(t, kv["test_length"], "1")
			if rr {
				assert.Equal(t, kv["percentiles"], "50,99")
			}
			if w == "udp_stream" {
				assert.Assert(t, num(t, kv, "packets_written") > 0, "packets_written=%s", kv["packets_written"])
				assert.Assert(t, num(t, kv, "sender_throughput_Mbps") > 0, "sender_throughput_Mbps=%s", kv["sender_throughput_Mbps"])
			}
			if w == "tcp_stream" {
				assert.Assert(t, num(t, kv, "bytes_written") > 0, "the client writes by default: bytes_written=%s", kv["bytes_written"])
			}
		})
	}
}

func TestLocalTransactionCount(t *testing.T) {
	t.Parallel()
	for _, w := range []string{"tcp_rr", "tcp_crr", "udp_rr"} {
		for _, extra := range [][]string{nil, {"-F", "3", "-T", "2"}, {"-F", "7"}} {
			args := append([]string{w, "--local", "-l", "-500"}, extra...)
			t.Run(strings.Join(args, " "), func(t *testing.T) {
				t.Parallel()
				kv := mustSucceed(t, args...)
				assert.Equal(t, kv["num_transactions"], "500")
				assert.Equal(t, kv["test_length"], "-500")
			})
		}
	}
}

// serverClient runs a server with sargs and a client with cargs, on fresh
// ports, the client started delay after the server (before it when
// negative). Both must exit 0; their outputs are returned.
func serverClient(t testing.TB, w string, sargs, cargs []string, delay time.Duration) (server, client map[string]string) {
	t.Helper()
	cport, dport := strconv.Itoa(freePort(t)), strconv.Itoa(freePort(t))
	sargs = append([]string{w, "-C", cport, "-P", dport}, sargs...)
	cargs = append([]string{w, "-c", "-C", cport, "-P", dport}, cargs...)
	var sp, cp *proc
	if delay >= 0 {
		sp = start(t, sargs...)
		time.Sleep(delay)
		cp = start(t, cargs...)
	} else {
		cp = start(t, cargs...)
		time.Sleep(-delay)
		sp = start(t, sargs...)
	}
	cr, sr := cp.wait(procTimeout), sp.wait(procTimeout)
	assert.Equal(t, sr.code, 0, "server %q: %s", sargs, sr)
	assert.Equal(t, cr.code, 0, "client %q: %s", cargs, cr)
	return parseKV(t, sr.stdout), parseKV(t, cr.stdout)
}

// checkPair checks that a server's and a client's outputs tell the same
// story.
func checkPair(t testing.TB, w string, server, client map[string]string) {
	t.Helper()
	checkRun(t, w, client)
	assert.Equal(t, server["client"], "false")
	assert.Equal(t, client["client"], "true")
	for _, k := range []string{"workload", "num_flows", "test_length"} {
		assert.Equal(t, server[k], client[k], "the server learns %s from its client", k)
	}
	assertClose(t, "server remote_throughput vs client local_throughput", num(t, server, "remote_throughput"), num(t, client, "local_throughput"))
	assertClose(t, "client remote_throughput vs server local_throughput", num(t, client, "remote_throughput"), num(t, server, "local_throughput"))
	switch w {
	case "tcp_rr", "tcp_crr", "udp_rr":
		st, ct, flows := num(t, server, "num_transactions"), num(t, client, "num_transactions"), num(t, client, "num_flows")
		assert.Assert(t, math.Abs(st-ct) <= flows, "server counted %v transactions, client %v, over %v flows", st, ct, flows)
	default:
		// Both sides' headline is what the receiver counted.
		assertClose(t, "throughput_Mbps on both sides", num(t, server, "throughput_Mbps"), num(t, client, "throughput_Mbps"))
	}
}

func TestServerAndClient(t *testing.T) {
	t.Parallel()
	for _, w := range workloads {
		t.Run(w, func(t *testing.T) {
			t.Parallel()
			server, client := serverClient(t, w, nil, []string{"-H", "127.0.0.1", "-l", "1"}, 0)
			checkPair(t, w, server, client)
		})
	}
	t.Run("client started first", func(t *testing.T) {
		t.Parallel()
		server, client := serverClient(t, "tcp_rr", nil, []string{"-H", "127.0.0.1", "-l", "1"}, -500*time.Millisecond)
		checkPair(t, "tcp_rr", server, client)
	})
}

// TestGoBench: --gobench prints one line benchstat reads, and nothing else.
func TestGoBench(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args  []string
		name  string
		units []string
	}{
		{[]string{"tcp_rr", "--local", "-l", "-300", "-p", "50,99"}, "BenchmarkTCPRR/flows=1/threads=1/req=1/resp=1", []string{"trans/s", "lat-mean-ns", "lat-p50-ns", "lat-p99-ns", "retrans", "cpu-%"}},
		{[]string{"udp_stream", "--local", "-l", "1", "-B", "1400", "-F", "2"}, "BenchmarkUDPStream/flows=2/threads=1/size=1400", []string{"Mbit/s", "sent-Mbit/s", "loss-%", "cpu-%"}},
	} {
		t.Run(tc.args[0], func(t *testing.T) {
			t.Parallel()
			r := start(t, append(tc.args, "--gobench")...).wait(procTimeout)
			assert.Equal(t, r.code, 0, "%s", r)
			fields := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\t")
			assert.Assert(t, !strings.Contains(strings.TrimSuffix(r.stdout, "\n"), "\n"), "more than one line: %q", r.stdout)
			assert.Equal(t, fields[0], tc.name)
			n, err := strconv.Atoi(fields[1])
			assert.NilError(t, err)
			if tc.args[0] == "tcp_rr" {
				assert.Equal(t, n, 300, "the count of a transaction-bounded run")
			}
			var units []string
			for _, f := range fields[2:] {
				v, unit, ok := strings.Cut(f, " ")
				assert.Assert(t, ok, "metric %q", f)
				x, err := strconv.ParseFloat(v, 64)
				assert.NilError(t, err, "metric %q", f)
				assert.Assert(t, x > 0 || unit == "retrans", "metric %q", f)
				units = append(units, unit)
			}
			assert.DeepEqual(t, units, tc.units)
		})
	}
}

// TestMaerts runs neper's TCP_MAERTS command lines (tcp_stream -M on both
// sides): the server writes, the client reads.
func TestMaerts(t *testing.T) {
	t.Parallel()
	server, client := serverClient(t, "tcp_stream", []string{"-M"}, []string{"-M", "-H", "127.0.0.1", "-l", "1"}, 0)
	checkPair(t, "tcp_stream", server, client)
	assert.Equal(t, client["bytes_written"], "0", "the client only reads")
	assert.Equal(t, server["bytes_read"], "0", "the server only writes")
	assert.Assert(t, num(t, client, "bytes_read") > 0 && num(t, server, "bytes_written") >= num(t, client, "bytes_read"),
		"client read %s of the server's %s bytes", client["bytes_read"], server["bytes_written"])
}

// TestUDPStreamFlags runs the server/client flag pairs of rushit's
// udp-stream-flags.sh as two processes.
func TestUDPStreamFlags(t *testing.T) {
	t.Parallel()
	pairs := []struct{ server, client string }{
		{"", ""},
		{"--magic 73", "--magic 73"},
		{"--maxevents 10", "--maxevents 100"},
		{"", "--num-flows 10"},
		{"", "--num-flows 16 --num-threads 4"},
		{"--buffer-size 4096", "--buffer-size 8192"},
		{"--ipv6", "--ipv6"},
		{"--nonblocking", "--nonblocking"},
		{"--interval 0.5", "--interval 2.0"},
		{"", "--local-host localhost"},
		{"", "--host localhost"},
		{"--all-samples=/dev/null", "--all-samples=/dev/null"},
		{"--num-threads 2 --reuseport", "--num-threads 2 --num-flows 2 --reuseport"},
	}
	for _, p := range pairs {
		t.Run(fmt.Sprintf("server[%s]client[%s]", p.server, p.client), func(t *testing.T) {
			t.Parallel()
			cargs := append(strings.Fields(p.client), "--test-length", "1")
			server, client := serverClient(t, "udp_stream", strings.Fields(p.server), cargs, 0)
			checkPair(t, "udp_stream", server, client)
		})
	}
	t.Run("dry run", func(t *testing.T) {
		t.Parallel()
		cport := strconv.Itoa(freePort(t))
		for _, tc := range []struct {
			args     []string
			key, val string // what the run would take, as neper's dry run says
		}{
			{[]string{"udp_stream", "--dry-run", "-C", cport}, "total_run_time", "10"},
			{[]string{"udp_stream", "--dry-run", "-c", "-C", cport, "--test-length", "1.5"}, "total_run_time", "1.5"},
			{[]string{"tcp_rr", "-n", "-c", "-C", cport, "-l", "-300"}, "total_transactions", "300"},
		} {
			args := tc.args
			// No peer: a dry run must not wait for one.
			r := start(t, args...).wait(10 * time.Second)
			assert.Equal(t, r.code, 0, "%q: %s", args, r)
			kv := parseKV(t, r.stdout)
			assert.Equal(t, kv["dry_run"], "true")
			assert.Equal(t, kv[tc.key], tc.val, "%q: %s", args, r.stdout)
			if missing := missingKeys(kv, optionKeys()); len(missing) > 0 {
				t.Errorf("%q: the options lack %q", args, missing)
			}
			_, ran := kv["num_transactions"]
			assert.Assert(t, !ran, "%q: a dry run printed results:\n%s", args, r.stdout)
		}
	})
}

func TestWrongMagic(t *testing.T) {
	t.Parallel()
	cport, dport := strconv.Itoa(freePort(t)), strconv.Itoa(freePort(t))
	sp := start(t, "tcp_rr", "-C", cport, "-P", dport, "--magic", "1")
	wrong := start(t, "tcp_rr", "-c", "-C", cport, "-P", dport, "-l", "1", "--magic", "2").wait(procTimeout)
	assert.Equal(t, wrong.code, 1, "a client with the wrong magic: %s", wrong)
	assert.Equal(t, wrong.stdout, "")
	lines := strings.Split(strings.TrimSuffix(wrong.stderr, "\n"), "\n")
	assert.Equal(t, len(lines), 1, "want one error line: %s", wrong)
	assert.Assert(t, strings.HasPrefix(lines[0], "hookperf: ") && strings.Contains(lines[0], "magic"), "%q", lines[0])

	right := start(t, "tcp_rr", "-c", "-C", cport, "-P", dport, "-l", "1", "--magic", "1").wait(procTimeout)
	assert.Equal(t, right.code, 0, "a client with the right magic: %s", right)
	sr := sp.wait(procTimeout)
	assert.Equal(t, sr.code, 0, "server: %s", sr)
	server := parseKV(t, sr.stdout)
	assert.Equal(t, server["invalid_secret_count"], "1")
	assert.Equal(t, server["magic"], "1")
	checkPair(t, "tcp_rr", server, parseKV(t, right.stdout))
}

// TestBadInput checks that every usage problem ends the run at once with
// status 2 and clear lines on stderr, before any output.
func TestBadInput(t *testing.T) {
	t.Parallel()
	held, err := net.Listen("tcp4", "0.0.0.0:0")
	assert.NilError(t, err)
	t.Cleanup(func() { held.Close() })
	heldPort := strconv.Itoa(held.Addr().(*net.TCPAddr).Port)

	tests := []struct {
		name string
		args []string
		want []string // on stderr
	}{
		{"unknown workload", []string{"tcp_xx", "--local"}, []string{`unknown workload "tcp_xx"`}},
		{"negative flows", []string{"tcp_rr", "-F", "-3"}, []string{"-F/--num-flows"}},
		{"negative flows local", []string{"tcp_rr", "--local", "-F", "-3"}, []string{"-F/--num-flows"}},
		{"zero length", []string{"tcp_rr", "--local", "-l", "0"}, []string{"-l/--test-length"}},
		{"port out of range", []string{"tcp_rr", "-P", "70000"}, []string{"-P/--port", "70000"}},
		{"unknown flag", []string{"tcp_rr", "--bogus"}, []string{"unknown flag --bogus", "hookperf --help"}},
		{"two workloads", []string{"tcp_rr", "udp_rr"}, []string{`unexpected argument "udp_rr"`}},
		{"no workload", nil, []string{"no workload given"}},
		{"local client", []string{"tcp_rr", "--local", "-c"}, []string{"--local"}},
		// .onion is never looked up in DNS (RFC 7686), so the test sends
		// nothing beyond this host; the failure is the same as any
		// unresolvable name's.
		{"unresolvable host", []string{"tcp_rr", "-c", "-H", "no.such.host.onion", "-l", "1"}, []string{"-H/--host", "no.such.host.onion"}},
		{"control port in use", []string{"tcp_rr", "-C", heldPort}, []string{"-C/--control-port", "address already in use"}},
		{"unreadable script", []string{"tcp_rr", "--local", "-l", "1", "--script", "/nonexistent/hookperf.lua"}, []string{"--script"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := tt.args
			if tt.name != "control port in use" && !slices.Contains(args, "--local") {
				// Should validation let a server through, it must not
				// take a port another test needs.
				args = append(slices.Clone(args), "-C", strconv.Itoa(freePort(t)))
			}
			r := start(t, args...).wait(10 * time.Second)
			assert.Equal(t, r.code, 2, "%q: %s", args, r)
			assert.Equal(t, r.stdout, "", "%q: %s", args, r)
			assert.Assert(t, r.stderr != "", "%q: nothing on stderr", args)
			for _, line := range strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n") {
				assert.Assert(t, strings.HasPrefix(line, "hookperf: "), "%q: stderr line %q", args, line)
			}
			for _, bad := range []string{"panic", "goroutine"} {
				assert.Assert(t, !strings.Contains(r.stderr, bad), "%q: stderr has %q: %s", args, bad, r)
			}
			for _, w := range tt.want {
				assert.Assert(t, strings.Contains(r.stderr, w), "%q: stderr lacks %q: %s", args, w, r)
			}
		})
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	r := runBin(t, "--version")
	assert.Equal(t, r.code, 0, "%s", r)
	assert.Equal(t, r.stdout, "hookperf "+testVersion+"\n")
	assert.Equal(t, r.stderr, "")
}

func TestHelp(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"--help"}, {"-h"}, {"tcp_rr", "--help"}} {
		r := runBin(t, args...)
		assert.Equal(t, r.code, 0, "%q: %s", args, r)
		assert.Equal(t, r.stderr, "")
		for _, f := range flagSpecs {
			name := "--" + f.long
			if f.short != "" {
				name = "-" + f.short + ", --" + f.long
			}
			assert.Assert(t, strings.Contains(r.stdout, name+" ") || strings.Contains(r.stdout, name+"["), "%q: help lacks %q:\n%s", args, name, r.stdout)
		}
		for _, w := range workloads {
			assert.Assert(t, strings.Contains(r.stdout, w), "%q: help lacks workload %s", args, w)
		}
	}
}

func TestJSON(t *testing.T) {
	t.Parallel()
	r := runBin(t, "tcp_rr", "--local", "-l", "1", "--json", "-p", "50,99")
	assert.Equal(t, r.code, 0, "%s", r)
	var doc struct {
		Options map[string]any `json:"options"`
		Results map[string]any `json:"results"`
	}
	var raw map[string]json.RawMessage
	assert.NilError(t, json.Unmarshal([]byte(r.stdout), &raw), "stdout is not one JSON object:\n%s", r.stdout)
	assert.NilError(t, json.Unmarshal([]byte(r.stdout), &doc))
	assert.Assert(t, doc.Options != nil, "no options object:\n%s", r.stdout)
	assert.Assert(t, doc.Results != nil, "no results object:\n%s", r.stdout)
	assert.Equal(t, doc.Options["workload"], "tcp_rr")
	n, ok := doc.Results["num_transactions"].(float64)
	assert.Assert(t, ok, "results.num_transactions is %T %v, want a number", doc.Results["num_transactions"], doc.Results["num_transactions"])
	assert.Assert(t, n > 0, "results.num_transactions = %v", n)
	// The same facts as key=value: every result key, numbers as numbers.
	for _, k := range append(append(slices.Clone(commonResultKeys), rrKeys...), "latency_p50", "latency_p99") {
		_, isNum := doc.Results[k].(float64)
		assert.Assert(t, isNum, "results.%s is %T %v, want a number", k, doc.Results[k], doc.Results[k])
	}
	var missing []string
	for _, k := range optionKeys() {
		if _, ok := doc.Options[k]; !ok {
			missing = append(missing, k)
		}
	}
	if diff := cmp.Diff([]string(nil), missing); diff != "" {
		t.Errorf("options missing (-want +got):\n%s", diff)
	}
}

// TestJSONFixedTypes checks that a key's JSON type does not depend on its
// value: a single percentile and a file name that reads as a number stay
// strings, and nothing unencodable (NaN) ends the run.
func TestJSONFixedTypes(t *testing.T) {
	t.Parallel()
	r := runBin(t, "udp_rr", "--local", "-l", "-100", "--json", "-p", "99", "-Anan")
	assert.Equal(t, r.code, 0, "%s", r)
	var doc struct {
		Options map[string]any `json:"options"`
		Results map[string]any `json:"results"`
	}
	assert.NilError(t, json.Unmarshal([]byte(r.stdout), &doc), "stdout:\n%s", r.stdout)
	want := map[string]any{"percentiles": "99", "all_samples": "nan", "test_length": float64(-100), "client": true}
	got := map[string]any{}
	for k := range want {
		got[k] = doc.Options[k]
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("options (-want +got):\n%s", diff)
	}
	assert.Equal(t, doc.Results["num_transactions"], float64(100))
	for _, k := range []string{"udp_resends", "udp_duplicates", "udp_stale"} {
		_, ok := doc.Results[k].(float64)
		assert.Assert(t, ok, "results[%q] = %#v, want a number", k, doc.Results[k])
	}
}

func TestAllSamplesCSV(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args []string
		file string
	}{
		{"-A FILE", []string{"-Aout.csv"}, "out.csv"},
		{"--all-samples=FILE", []string{"--all-samples=out.csv"}, "out.csv"},
		{"-A alone", []string{"-A"}, "samples.csv"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			args := append([]string{"tcp_rr", "--local", "-l", "1", "-I", "0.5"}, tc.args...)
			r := startBin(t, hookperfBin, dir, args...).wait(procTimeout)
			assert.Equal(t, r.code, 0, "%s", r)
			kv := parseKV(t, r.stdout)
			assert.Equal(t, kv["all_samples"], tc.file)
			f, err := os.Open(filepath.Join(dir, tc.file))
			assert.NilError(t, err)
			defer f.Close()
			rows, err := csv.NewReader(f).ReadAll() // also checks every row has the header's width
			assert.NilError(t, err)
			assert.Assert(t, len(rows) >= 2, "want a header and at least one row, got %q", rows)
			if diff := cmp.Diff([]string{"time", "tid", "flow_id"}, rows[0][:3]); diff != "" {
				t.Errorf("header starts wrong (-want +got):\n%s", diff)
			}
			for _, row := range rows[1:] {
				for i, v := range row {
					_, err := strconv.ParseFloat(v, 64)
					assert.NilError(t, err, "column %s of %q", rows[0][i], row)
				}
			}
		})
	}
}

// readSamplesCSV reads an -A file: the last transactions count of each
// flow_id, and the tids its rows name.
func readSamplesCSV(t *testing.T, path string) (lastByFlow map[string]string, tids map[string]bool) {
	t.Helper()
	f, err := os.Open(path)
	assert.NilError(t, err)
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	assert.NilError(t, err)
	assert.Assert(t, len(rows) >= 2, "%s: want a header and rows, got %q", path, rows)
	col := func(name string) int {
		i := slices.Index(rows[0], name)
		assert.Assert(t, i >= 0, "%s: no column %s in %q", path, name, rows[0])
		return i
	}
	tid, flow, tx := col("tid"), col("flow_id"), col("transactions")
	lastByFlow, tids = map[string]string{}, map[string]bool{}
	for _, row := range rows[1:] {
		lastByFlow[row[flow]] = row[tx]
		tids[row[tid]] = true
	}
	return lastByFlow, tids
}

// TestAllSamplesPerFlow: -A writes a row per flow, with the client's flow
// ids on both sides (7 transactions over 2 flows: flow 0 makes 4, flow 1
// makes 3, on the client and on the server); --worker-samples writes a
// row per worker instead.
func TestAllSamplesPerFlow(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		extra   []string
		workers bool
	}{
		{"per flow", nil, false},
		{"--worker-samples", []string{"--worker-samples"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			sfile, cfile := filepath.Join(dir, "server.csv"), filepath.Join(dir, "client.csv")
			serverClient(t, "tcp_rr",
				append([]string{"-T", "2", "-A=" + sfile}, tc.extra...),
				append([]string{"-F", "2", "-T", "2", "-l", "-7", "-A=" + cfile}, tc.extra...), 300*time.Millisecond)
			for side, file := range map[string]string{"client": cfile, "server": sfile} {
				last, tids := readSamplesCSV(t, file)
				if tc.workers || side == "client" {
					// Every worker has rows; a server's flows may all
					// have come to one of its workers (SO_REUSEPORT).
					assert.DeepEqual(t, tids, map[string]bool{"0": true, "1": true})
				}
				if tc.workers {
					// A row per worker, flow_id -1.
					assert.DeepEqual(t, slices.Collect(maps.Keys(last)), []string{"-1"})
					continue
				}
				if diff := cmp.Diff(map[string]string{"0": "4", "1": "3"}, last); diff != "" {
					t.Errorf("%s: each flow's last transactions (-want +got):\n%s", side, diff)
				}
			}
		})
	}
}

// TestRunAsWorkloadName runs the binary under a workload's name, as
// neper's and rushit's binaries are run.
func TestRunAsWorkloadName(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, w := range []string{"tcp_rr", "udp_stream"} {
		link := filepath.Join(dir, w)
		assert.NilError(t, os.Symlink(hookperfBin, link))
		t.Run(w, func(t *testing.T) {
			t.Parallel()
			r := startBin(t, link, t.TempDir(), "--local", "-l", "1").wait(procTimeout)
			assert.Equal(t, r.code, 0, "%s", r)
			assert.Equal(t, r.stderr, "")
			checkRun(t, w, parseKV(t, r.stdout))
		})
	}
}

// TestLocalSplit runs --local with more flows than one process's open
// files allow for both sides: the server then runs in a child process.
func TestLocalSplit(t *testing.T) {
	t.Parallel()
	// The hard limit too, so that hookperf cannot raise it.
	const shell = `ulimit -n 120 && exec "$0" "$@"`
	split := startBin(t, "/bin/sh", t.TempDir(), "-c", shell, hookperfBin, "tcp_rr", "--local", "-F", "50", "-l", "-500").wait(procTimeout)
	assert.Equal(t, split.code, 0, "%s", split)
	kv := parseKV(t, split.stdout)
	assert.Equal(t, kv["num_flows"], "50")
	assert.Equal(t, kv["num_transactions"], "500")
	assert.Assert(t, num(t, kv, "remote_throughput") > 0, "no figures from the server process: %s", split)

	// A script runs on both sides; what the server process's copy prints
	// comes through, and the report is the client's alone.
	script := writeScript(t, "sides.lua", `
run()
if is_server() then print("server script done") else print("client script done") end
`)
	scripted := startBin(t, "/bin/sh", t.TempDir(), "-c", shell, hookperfBin, "tcp_rr", "--local", "-F", "50", "-l", "-500", "--script", script).wait(procTimeout)
	assert.Equal(t, scripted.code, 0, "%s", scripted)
	for _, want := range []string{"server script done\n", "client script done\n", "num_transactions=500\n"} {
		assert.Equal(t, strings.Count(scripted.stdout, want), 1, "%q in the output of a split, scripted run: %s", want, scripted)
	}

	// Too many flows even for one side: a usage error, not a hang.
	tooMany := startBin(t, "/bin/sh", t.TempDir(), "-c", shell, hookperfBin, "tcp_rr", "--local", "-F", "200", "-l", "-500").wait(10 * time.Second)
	assert.Equal(t, tooMany.code, 2, "%s", tooMany)
	assert.Assert(t, strings.HasPrefix(tooMany.stderr, "hookperf: -F/--num-flows: "), "%s", tooMany)
}

// TestLogRTT: --log-rtt writes neper's per-transaction RTT log: a header
// and one line per transaction up to --logrtt-entries-per-flow a flow,
// space-separated (comma-separated for .csv), and the report counts them;
// each flow's lines are its own, in the order they completed.
func TestLogRTT(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, flag, file, sep string
		cap, flows, txns      int // entries a flow, flows, transactions in all
		want                  int
	}{
		{"default name, capped", "--log-rtt", "rtt_samples.txt", " ", 50, 2, 300, 100},
		{"csv, under the cap", "--log-rtt=rtt.csv", "rtt.csv", ",", 1000, 3, 300, 300},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			args := []string{"tcp_rr", "--local", "-l", "-" + strconv.Itoa(tc.txns), "-F", strconv.Itoa(tc.flows), tc.flag,
				"--logrtt-entries-per-flow", strconv.Itoa(tc.cap)}
			r := startBin(t, hookperfBin, dir, args...).wait(procTimeout)
			assert.Equal(t, r.code, 0, "%s", r)
			kv := parseKV(t, r.stdout)
			assert.Equal(t, kv["rtt_transactions_logged"], strconv.Itoa(tc.want))
			b, err := os.ReadFile(filepath.Join(dir, tc.file))
			assert.NilError(t, err)
			lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
			assert.Equal(t, len(lines), 1+tc.want, "header and an entry per logged transaction")
			header := strings.Fields(strings.ReplaceAll(lines[0], ",", " "))
			assert.DeepEqual(t, header, []string{"timestamp", "thread_id", "flow_id", "rtt"})
			perFlow := map[string]int{}
			last := map[string]float64{}
			for _, line := range lines[1:] {
				f := strings.Split(line, tc.sep)
				if tc.sep == " " {
					f = strings.Fields(line)
				}
				assert.Equal(t, len(f), 4, "line %q", line)
				at, err1 := strconv.ParseFloat(strings.TrimSpace(f[0]), 64)
				rtt, err2 := strconv.ParseFloat(strings.TrimSpace(f[3]), 64)
				assert.Assert(t, err1 == nil && err2 == nil && rtt > 0 && rtt < 1, "line %q", line)
				flow := strings.TrimSpace(f[2])
				assert.Assert(t, at >= last[flow], "flow %s goes back in time at %q", flow, line)
				last[flow] = at
				perFlow[flow]++
			}
			assert.Equal(t, len(perFlow), tc.flows)
			for flow, n := range perFlow {
				assert.Assert(t, n <= tc.cap, "flow %s logged %d, cap %d", flow, n, tc.cap)
			}
		})
	}
}

// TestIOStat: --iostat-ms prints neper's "t=" lines every so often while
// a client runs, before the report; what they count adds up to no more
// than the run moved, and to most of it.
func TestIOStat(t *testing.T) {
	t.Parallel()
	r := runBin(t, "tcp_stream", "--local", "-l", "1", "--iostat-ms", "200")
	assert.Equal(t, r.code, 0, "%s", r)
	line := regexp.MustCompile(`^t=(\d+\.\d{3})\s+TX:\s+(\d+) ops,\s+(\d+) bytes,\s+([\d.]+) Mbps; RX:\s+(\d+) ops,\s+(\d+) bytes,\s+([\d.]+) Mbps;$`)
	var n int
	var tx uint64
	var rest []string
	for _, l := range strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n") {
		if !strings.HasPrefix(l, "t=") {
			rest = append(rest, l)
			continue
		}
		m := line.FindStringSubmatch(l)
		assert.Assert(t, m != nil, "line %q", l)
		b, _ := strconv.ParseUint(m[3], 10, 64)
		tx += b
		n++
	}
	assert.Assert(t, n >= 3 && n <= 6, "%d t= lines in a 1 s run at 200 ms", n)
	kv := parseKV(t, strings.Join(rest, "\n")+"\n")
	written := uint64(num(t, kv, "bytes_written"))
	assert.Assert(t, tx <= written && tx >= written/2, "t= lines count %d bytes written of %d", tx, written)
}
