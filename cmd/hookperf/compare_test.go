package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
)

// runsFile writes n --gobench lines of tcp_rr whose throughput is
// around tps (±1 %, a fixed pattern) and returns the file's path.
func runsFile(t *testing.T, name string, n int, tps float64) string {
	t.Helper()
	var b strings.Builder
	for i := 0; i < n; i++ {
		v := tps * (1 + 0.01*float64(i%5-2)/2)
		fmt.Fprintf(&b, "BenchmarkTCPRR/flows=1/threads=1/req=1/resp=1\t1000\t%g trans/s\t%g lat-mean-ns\n", v, 1e9/v)
	}
	p := filepath.Join(t.TempDir(), name)
	assert.NilError(t, os.WriteFile(p, []byte(b.String()), 0o644))
	return p
}

// TestCompare: hookperf compare's verdicts and exit statuses, its JSON
// and KTAP, and bad input.
func TestCompare(t *testing.T) {
	t.Parallel()
	old := runsFile(t, "old.txt", 10, 20000)
	tests := []struct {
		name   string
		new    string
		args   []string
		status int
		want   string // in stdout
	}{
		{"20% slower", runsFile(t, "slow.txt", 10, 16000), nil, 3, "verdict: regression"},
		{"the same", runsFile(t, "same.txt", 10, 20000), nil, 0, "verdict: no change"},
		{"20% faster", runsFile(t, "fast.txt", 10, 24000), nil, 0, "verdict: improvement"},
		{"two runs", runsFile(t, "two.txt", 2, 16000), nil, 4, "too few runs (10 and 2"},
		{"20% slower, threshold 30%", runsFile(t, "slow30.txt", 10, 16000), []string{"--threshold", "30"}, 0, "verdict: no change"},
		{"KTAP", runsFile(t, "slow-ktap.txt", 10, 16000), []string{"--ktap"}, 3,
			"KTAP version 1\n1..2\n"},
		{"only latency", runsFile(t, "slow-lat.txt", 10, 16000), []string{"--metrics", "lat-mean-ns", "--ktap"}, 3,
			"not ok 1 TCPRR/flows=1/threads=1/req=1/resp=1 lat-mean-ns # regression"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := runBin(t, append(append([]string{"compare"}, tc.args...), old, tc.new)...)
			assert.Equal(t, r.code, tc.status, "%s", r)
			assert.Assert(t, strings.Contains(r.stdout, tc.want), "want %q in: %s", tc.want, r)
			assert.Equal(t, r.stderr, "")
		})
	}
	t.Run("JSON", func(t *testing.T) {
		t.Parallel()
		r := runBin(t, "compare", "--json", old, runsFile(t, "slow.txt", 10, 16000))
		assert.Equal(t, r.code, 3, "%s", r)
		var doc struct {
			Verdict string
			Rows    []struct {
				Metric, Verdict string
				Change          float64
				A, B            struct{ Runs int }
			}
		}
		assert.NilError(t, json.Unmarshal([]byte(r.stdout), &doc), "%s", r)
		assert.Equal(t, doc.Verdict, "regression")
		assert.Equal(t, len(doc.Rows), 2)
		assert.Equal(t, doc.Rows[0].Metric, "trans/s")
		assert.Equal(t, doc.Rows[0].Verdict, "regression")
		assert.Assert(t, doc.Rows[0].Change < -0.19 && doc.Rows[0].Change > -0.21, "change %v", doc.Rows[0].Change)
		assert.Equal(t, doc.Rows[0].A.Runs, 10)
	})
	bad := []struct {
		name string
		args []string
		want string
	}{
		{"one file", []string{old}, "want two files, OLD and NEW, got 1"},
		{"missing file", []string{old, "/nonexistent/new.txt"}, "no such file"},
		{"empty file", []string{old, writeScript(t, "empty.txt", "")}, "no runs in it"},
		{"no shared metric", []string{old, writeScript(t, "other.txt", "BenchmarkUDPRR 1 5 trans/s\n")}, "share no benchmark and metric"},
		{"bad threshold", []string{"--threshold", "-3", old, old}, "--threshold"},
		{"unknown flag", []string{"--frobnicate", old, old}, "unknown flag --frobnicate"},
	}
	for _, tc := range bad {
		t.Run("bad/"+tc.name, func(t *testing.T) {
			t.Parallel()
			r := runBin(t, append([]string{"compare"}, tc.args...)...)
			assert.Equal(t, r.code, 2, "%s", r)
			assert.Equal(t, r.stdout, "")
			assert.Assert(t, strings.HasPrefix(r.stderr, "hookperf: compare: ") && strings.Contains(r.stderr, tc.want), "want %q in: %s", tc.want, r)
		})
	}
}

// TestCompareReadsJSONRuns: real --json results (two runs a side, too
// few for a verdict) are read through their gobench lines.
func TestCompareReadsJSONRuns(t *testing.T) {
	t.Parallel()
	var files [2]string
	for i := range files {
		var docs strings.Builder
		for j := 0; j < 2; j++ {
			r := runBin(t, "tcp_rr", "--local", "-l", "0.3", "--json")
			assert.Equal(t, r.code, 0, "%s", r)
			docs.WriteString(r.stdout)
		}
		files[i] = writeScript(t, fmt.Sprintf("runs%d.json", i), docs.String())
	}
	r := runBin(t, "compare", files[0], files[1])
	assert.Equal(t, r.code, 4, "%s", r)
	assert.Assert(t, strings.Contains(r.stdout, "trans/s") && strings.Contains(r.stdout, "too few runs (2 and 2"), "%s", r)
}

// TestCompareReport: --report draws the verdict of two sets of runs
// beside the table; a path that cannot be written is refused first.
func TestCompareReport(t *testing.T) {
	t.Parallel()
	old, slow := runsFile(t, "old.txt", 10, 20000), runsFile(t, "slow.txt", 10, 16000)
	page := filepath.Join(t.TempDir(), "c.html")
	r := runBin(t, "compare", "--report", page, old, slow)
	assert.Equal(t, r.code, exitRegression, "%s", r)
	assert.Assert(t, strings.Contains(r.stdout, "verdict: regression"), "%s", r)
	assert.DeepEqual(t, chartIDs(t, page), []string{"m0-values", "m1-values"}) // unpaired: no ratios
	html, err := os.ReadFile(page)
	assert.NilError(t, err)
	assert.Assert(t, strings.Contains(string(html), "taken apart in time"), "the drift note")

	// The same verdict saved as JSON, drawn later by hookperf report.
	js := runBin(t, "compare", "--json", old, slow)
	assert.Equal(t, js.code, exitRegression, "%s", js)
	dir := t.TempDir()
	saved := filepath.Join(dir, "verdict.json")
	assert.NilError(t, os.WriteFile(saved, []byte(js.stdout), 0o644))
	later := filepath.Join(dir, "later.html")
	rep := runBin(t, "report", "-o", later, saved)
	assert.Equal(t, rep.code, 0, "%s", rep)
	assert.DeepEqual(t, chartIDs(t, later), []string{"m0-values", "m1-values"})
	again, err := os.ReadFile(later)
	assert.NilError(t, err)
	assert.Assert(t, strings.Contains(string(again), "B is worse than A: a regression in trans/s"), "the banner")
	two := runBin(t, "report", "-o", later, saved, saved)
	assert.Equal(t, two.code, exitUsage, "%s", two)
	assert.Assert(t, strings.Contains(two.stderr, "a verdict (ab or compare --json) is drawn alone"), "%s", two)

	bad := runBin(t, "compare", "--report", "/proc/nope/c.html", old, slow)
	assert.Equal(t, bad.code, exitUsage, "%s", bad)
	assert.Assert(t, strings.HasPrefix(bad.stderr, "hookperf: compare: --report: open /proc/nope/c.html"), "%s", bad)
}
