package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gotest.tools/v3/assert"
)

// chartIDs lists the ids of a report's figures, in order.
func chartIDs(t *testing.T, path string) []string {
	t.Helper()
	page, err := os.ReadFile(path)
	assert.NilError(t, err)
	var ids []string
	for _, part := range strings.Split(string(page), `<figure class="chart" id="`)[1:] {
		id, _, _ := strings.Cut(part, `"`)
		ids = append(ids, id)
	}
	return ids
}

// TestReportFlag: --report writes a run's report; hookperf report draws
// saved --json results, several side by side.
func TestReportFlag(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rr := filepath.Join(dir, "rr.html")
	r := startBin(t, hookperfBin, dir, "tcp_rr", "--local", "-l", "2", "-I", "0.5", "-F", "2", "-p", "50,99", "--report", rr).wait(procTimeout)
	assert.Equal(t, r.code, 0, "%s", r)
	assert.Equal(t, parseKV(t, r.stdout)["report"], rr)
	assert.DeepEqual(t, chartIDs(t, rr), []string{"throughput", "flows", "fairness", "latency-histogram", "latency-cdf", "cpu"})

	// Two saved results, one report.
	for _, w := range []string{"tcp_rr", "tcp_stream"} {
		r := startBin(t, hookperfBin, dir, w, "--local", "-l", "1", "-I", "0.5", "--json").wait(procTimeout)
		assert.Equal(t, r.code, 0, "%s", r)
		assert.NilError(t, os.WriteFile(filepath.Join(dir, w+".json"), []byte(r.stdout), 0o644))
	}
	out := filepath.Join(dir, "both.html")
	rep := startBin(t, hookperfBin, dir, "report", "-o", out, "tcp_rr.json", "tcp_stream.json").wait(procTimeout)
	assert.Equal(t, rep.code, 0, "%s", rep)
	assert.Equal(t, rep.stdout+rep.stderr, "")
	// One flow each: no per-flow charts; no latency in a stream; no
	// common axes for trans/s and Mbit/s.
	assert.DeepEqual(t, chartIDs(t, out), []string{"run1-throughput", "run1-latency-histogram", "run1-latency-cdf", "run1-cpu", "run2-throughput", "run2-cpu"})
	page, err := os.ReadFile(out)
	assert.NilError(t, err)
	assert.Assert(t, strings.Contains(string(page), "<h2>tcp_rr</h2>") && strings.Contains(string(page), "<h2>tcp_stream</h2>"))
}

// TestReportBadInput: one error line, status 2, no file left behind.
func TestReportBadInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	assert.NilError(t, os.WriteFile(filepath.Join(dir, "kv.txt"), []byte("throughput=5\n"), 0o644))
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no result", []string{"report"}, "hookperf: report: want at least one RESULT.json"},
		{"missing file", []string{"report", "nope.json"}, "hookperf: report: nope.json: open nope.json: no such file or directory"},
		{"not a result", []string{"report", "kv.txt"}, "hookperf: report: kv.txt: not a hookperf --json result"},
		{"unknown flag", []string{"report", "--bogus", "x.json"}, "hookperf: report: unknown flag --bogus"},
		{"unwritable --report", []string{"tcp_rr", "--local", "--report", "/proc/x.html"}, "hookperf: --report: open /proc/x.html: no such file or directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := startBin(t, hookperfBin, dir, tc.args...).wait(procTimeout)
			assert.Equal(t, r.code, exitUsage, "%s", r)
			assert.Assert(t, strings.HasPrefix(r.stderr, tc.want), "stderr %q, want it to start %q", r.stderr, tc.want)
			_, err := os.Stat(filepath.Join(dir, "report.html"))
			assert.Assert(t, os.IsNotExist(err), "report.html written")
		})
	}
}

// TestReportOnServer: a server draws its own report, its client's
// samples beside its own.
func TestReportOnServer(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	sfile := filepath.Join(dir, "server.html")
	serverClient(t, "tcp_rr", []string{"--report", sfile}, []string{"-l", "2", "-I", "0.5"}, 300*time.Millisecond)
	page, err := os.ReadFile(sfile)
	assert.NilError(t, err)
	assert.Assert(t, strings.Contains(string(page), `<figure class="chart" id="throughput" data-series="2"`), "the server's and the client's throughput")
	assert.Assert(t, strings.Contains(string(page), "<tr><th>figure</th><th>server</th><th>client</th>"), "the server's figures first")
}

// TestHistogramFlag: --histogram prints the text histogram after the
// key=value report, or on stderr beside --json, whose stdout stays one
// JSON document.
func TestHistogramFlag(t *testing.T) {
	t.Parallel()
	r := startBin(t, hookperfBin, t.TempDir(), "udp_rr", "--local", "-l", "1", "-p", "50,99", "--histogram").wait(procTimeout)
	assert.Equal(t, r.code, 0, "%s", r)
	head, hist, ok := strings.Cut(r.stdout, "latency histogram: ")
	assert.Assert(t, ok, "no histogram in %q", r.stdout)
	checkRun(t, "udp_rr", parseKV(t, head))
	rows := strings.Split(strings.TrimSuffix(hist, "\n"), "\n")[1:]
	assert.Assert(t, len(rows) >= 2 && len(rows) <= 16, "%d rows", len(rows))
	assert.Assert(t, strings.Contains(rows[len(rows)-1], " 100.00%"), "the last row ends the transactions: %q", rows[len(rows)-1])
	assert.Assert(t, strings.Contains(hist, "◀ p50") && strings.Contains(hist, "p99"), "%q", hist)

	j := startBin(t, hookperfBin, t.TempDir(), "tcp_rr", "--local", "-l", "1", "--json", "--histogram").wait(procTimeout)
	assert.Equal(t, j.code, 0, "%s", j)
	var doc map[string]any
	assert.NilError(t, json.Unmarshal([]byte(j.stdout), &doc))
	assert.Assert(t, strings.HasPrefix(j.stderr, "latency histogram: "), "%q", j.stderr)
}
