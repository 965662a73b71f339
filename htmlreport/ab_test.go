package htmlreport

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gotest.tools/v3/assert"

	"github.com/hookperf/hookperf/gating"
)

// abReport is a verdict of 10 interleaved rounds: B makes 20 % fewer
// transactions (a regression) and the same p99 latency.
func abReport(t *testing.T) *gating.Report {
	t.Helper()
	var tpsA, tpsB, latA, latB []float64
	for i := 0; i < 10; i++ {
		tpsA = append(tpsA, 1000+float64(i%3))
		tpsB = append(tpsB, 800+float64(i%3))
		latA = append(latA, 50+float64(i%2))
		latB = append(latB, 50+float64((i+1)%2))
	}
	tps, err := gating.ComparePaired("BenchmarkTCPRR", "trans/s", tpsA, tpsB, gating.DefaultConfig)
	assert.NilError(t, err)
	lat, err := gating.ComparePaired("BenchmarkTCPRR", "lat-p99-ns", latA, latB, gating.DefaultConfig)
	assert.NilError(t, err)
	return gating.NewReport([]gating.Row{tps, lat}, gating.DefaultConfig, "")
}

// TestABReport: the verdict in a sentence, a row a metric as the table
// says it, and for each metric its values round by round and the
// rounds' ratios, each drawn.
func TestABReport(t *testing.T) {
	rep := abReport(t)
	assert.Equal(t, rep.Verdict, gating.Regression)
	var buf bytes.Buffer
	assert.NilError(t, WriteAB(&buf, rep, "hookperf ab tcp_rr: A vs B --no-delay"))
	page := buf.String()
	figs, tables := parseReport(t, page)
	want := []figShape{{"m0-values", 2, 20}, {"m0-ratios", 1, 10}, {"m1-values", 2, 20}, {"m1-ratios", 1, 10}}
	assert.DeepEqual(t, shapes(figs), want, cmp.AllowUnexported(figShape{}))
	for _, f := range figs {
		if strings.HasSuffix(f.id, "-values") {
			for i := 0; i < 2; i++ {
				assert.Equal(t, linesDrawn(f.svg, palette[i], 10), 1, "%s: line %d", f.id, i)
			}
		}
	}
	assert.Assert(t, strings.Contains(page, "B is worse than A: a regression in trans/s -20.0%."), "banner")
	rows := tables["verdicts"]
	assert.Equal(t, len(rows), 3)
	assert.DeepEqual(t, rows[1][:3], []string{"trans/s", "higher", "10"})
	assert.Assert(t, strings.HasPrefix(rows[1][5], "-20.0% ["), "%q", rows[1][5])
	assert.Equal(t, rows[1][3], "1,001 [1,000 – 1,002]")
	assert.Equal(t, rows[1][7], "regression")
	assert.Equal(t, rows[2][0], "lat-p99-ns")
	assert.Equal(t, rows[2][7], "no change")
	for _, bad := range []string{"<script", "<link", "<img"} {
		assert.Assert(t, !strings.Contains(page, bad))
	}
}

// TestABReportUnpaired: sets taken apart in time have no rounds to pair:
// their values, and no ratio chart.
func TestABReportUnpaired(t *testing.T) {
	row := gating.Compare("BenchmarkTCPRR", "trans/s", []float64{10, 11, 12, 10, 11, 12}, []float64{10, 12, 11, 11, 10, 12, 11}, gating.DefaultConfig)
	var buf bytes.Buffer
	assert.NilError(t, WriteAB(&buf, gating.NewReport([]gating.Row{row}, gating.DefaultConfig, gating.DriftNote), "old vs new"))
	figs, tables := parseReport(t, buf.String())
	assert.Equal(t, len(figs), 1)
	assert.Equal(t, figs[0].points, 13)
	assert.DeepEqual(t, tables["verdicts"][1][2], "6 / 7")
	assert.Assert(t, strings.Contains(buf.String(), "taken apart in time"))
}
