package htmlreport

import (
	"bytes"
	"fmt"
	"image/color"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/net/html"
	"gotest.tools/v3/assert"
)

// fixedRun is a tcp_rr client's run with round numbers: 5 samples a
// second apart on each side, 3 flows moving 1, 2 and 3 times 10
// transactions a second, and a 10-bucket latency histogram.
func fixedRun() *Run {
	r := &Run{
		Side: "client",
		Options: map[string]any{
			"workload": "tcp_rr", "num_flows": 3.0, "num_threads": 1.0, "test_length": 4.0, "percentiles": "50,99",
		},
		Results: map[string]any{
			"throughput": 60.0, "num_transactions": 240.0, "latency_p50": 20e-6, "latency_p99": 50e-6,
			"latency_mean": 22e-6, "local_throughput": 960.0, "remote_throughput": 961.0, "bytes_read": 240.0, "bytes_written": 240.0,
			"tcp_retransmits": 0.0, "remote_tcp_retransmits": 2.0,
			"flow_fairness": 0.857, "flow_throughput_min": 10.0, "flow_throughput_max": 30.0,
		},
		Environment: Environment{Hostname: "h", Kernel: "6.1.0", Machine: "x86_64", CPUs: 2, Version: "v1", Go: "go1.26"},
	}
	for i := 0; i <= 4; i++ {
		t := float64(i)
		r.Samples = append(r.Samples, Sample{Time: t, Transactions: 60 * t, CPU: 0.5 * t})
		r.Remote = append(r.Remote, Sample{Time: t, Transactions: 60 * t, CPU: 0.25 * t})
		for f := 0; f < 3; f++ {
			r.Flows = append(r.Flows, FlowSample{Time: t, Flow: f, Transactions: float64(10*(f+1)) * t})
		}
	}
	for i := 0; i < 10; i++ {
		lo := float64(10+5*i) * 1e-6
		r.Histogram = append(r.Histogram, Bucket{Low: lo, High: lo + 4e-6, Count: float64(1 + i)})
	}
	return r
}

// figureInfo is what a report's <figure> says and holds.
type figureInfo struct {
	id             string
	series, points int
	svg            string
}

// figShape is what a figure draws: its id, its series and their points.
type figShape struct {
	id             string
	series, points int
}

// shapes lists the figures' shapes, in page order.
func shapes(figs []figureInfo) []figShape {
	var out []figShape
	for _, f := range figs {
		out = append(out, figShape{f.id, f.series, f.points})
	}
	return out
}

// parseReport reads a report's figures and its tables' rows (by table
// class, each row's cells).
func parseReport(t *testing.T, page string) (figs []figureInfo, tables map[string][][]string) {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	assert.NilError(t, err)
	tables = map[string][][]string{}
	attr := func(n *html.Node, key string) string {
		for _, a := range n.Attr {
			if a.Key == key {
				return a.Val
			}
		}
		return ""
	}
	var text func(n *html.Node) string
	text = func(n *html.Node) string {
		if n.Type == html.TextNode {
			return n.Data
		}
		var b strings.Builder
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			b.WriteString(text(c))
		}
		return b.String()
	}
	var walk func(n *html.Node, table string)
	walk = func(n *html.Node, table string) {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "figure":
				series, _ := strconv.Atoi(attr(n, "data-series"))
				points, _ := strconv.Atoi(attr(n, "data-points"))
				var svg bytes.Buffer
				for c := n.FirstChild; c != nil; c = c.NextSibling {
					if c.Type == html.ElementNode && c.Data == "svg" {
						assert.NilError(t, html.Render(&svg, c))
					}
				}
				figs = append(figs, figureInfo{attr(n, "id"), series, points, svg.String()})
			case "table":
				table = attr(n, "class")
			case "tr":
				var row []string
				for c := n.FirstChild; c != nil; c = c.NextSibling {
					if c.Type == html.ElementNode && (c.Data == "td" || c.Data == "th") {
						row = append(row, strings.TrimSpace(text(c)))
					}
				}
				tables[table] = append(tables[table], row)
				return
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, table)
		}
	}
	walk(doc, "")
	return figs, tables
}

// hex is a colour as the SVG writes it.
func hex(c color.Color) string {
	r, g, b, _ := c.RGBA()
	return fmt.Sprintf("#%02X%02X%02X", r>>8, g>>8, b>>8)
}

// linesDrawn counts the paths stroked in colour c with exactly n
// vertices.
func linesDrawn(svg string, c color.Color, n int) int {
	re := regexp.MustCompile(`<path d="([^"]*)" style="fill:none;stroke:` + hex(c) + `;`)
	count := 0
	for _, m := range re.FindAllStringSubmatch(svg, -1) {
		if strings.Count(m[1], "M")+strings.Count(m[1], "L") == n {
			count++
		}
	}
	return count
}

func writeReport(t *testing.T, runs ...*Run) string {
	t.Helper()
	var buf bytes.Buffer
	assert.NilError(t, Write(&buf, runs...))
	return buf.String()
}

// TestReportStructure: every chart of an rr run is there, with its
// series and points, each line drawn with as many vertices as it has
// points; the tables say what the result says.
func TestReportStructure(t *testing.T) {
	r := fixedRun()
	page := writeReport(t, r)
	figs, tables := parseReport(t, page)
	wantFigs := []figShape{
		{"throughput", 2, 8},         // client and server, 4 intervals each
		{"flows", 3, 12},             // 3 flows, 4 intervals each
		{"fairness", 1, 3},           // a bar a flow
		{"latency-histogram", 1, 60}, // 60 log-spaced bins
		{"latency-cdf", 1, 10},       // a point a bucket
		{"cpu", 2, 8},
	}
	assert.DeepEqual(t, shapes(figs), wantFigs, cmp.AllowUnexported(figShape{}))

	byID := map[string]figureInfo{}
	for _, f := range figs {
		byID[f.id] = f
		assert.Assert(t, strings.Contains(f.svg, "<path"), "%s: nothing drawn", f.id)
	}
	for i := 0; i < 2; i++ {
		assert.Equal(t, linesDrawn(byID["throughput"].svg, palette[i], 4), 1, "throughput line %d", i)
		assert.Equal(t, linesDrawn(byID["cpu"].svg, palette[i], 4), 1, "cpu line %d", i)
	}
	for i := 0; i < 3; i++ {
		assert.Equal(t, linesDrawn(byID["flows"].svg, palette[i], 4), 1, "flow line %d", i)
	}
	assert.Equal(t, linesDrawn(byID["latency-cdf"].svg, palette[0], 10), 1)

	// The summary table: the headline figures of both sides.
	rows := map[string][]string{}
	for _, row := range tables["figures"] {
		rows[row[0]] = row
	}
	for name, cells := range map[string][]string{
		"throughput":           {"60 transactions/s", ""},
		"p50 round trip":       {"20 µs", ""},
		"p99 round trip":       {"50 µs", ""},
		"transactions":         {"240", ""},
		"TCP retransmits":      {"0", "2"},
		"CPU":                  {"50% of one CPU", "25% of one CPU"},
		"flow fairness (Jain)": {"0.857", ""},
		"slowest flow":         {"10 transactions/s", ""},
		"fastest flow":         {"30 transactions/s", ""},
	} {
		row, ok := rows[name]
		assert.Assert(t, ok, "no row %q in %v", name, tables["figures"])
		assert.DeepEqual(t, row[1:3], cells)
	}
	// Every result, as key=value prints it.
	assert.Equal(t, len(tables["kv results"]), len(r.Results))
	for _, row := range tables["kv results"] {
		assert.Equal(t, row[1], text(r.Results[row[0]]), "result %s", row[0])
	}
	assert.Assert(t, strings.Contains(page, "60 transactions/s, median round trip 20 µs; steady"), "the run's sentence")
}

// TestReportIsSelfContained: no script, nothing fetched, a policy that
// forbids fetching.
func TestReportIsSelfContained(t *testing.T) {
	page := writeReport(t, fixedRun())
	for _, bad := range []string{"<script", "<link", "<img", "<iframe", "@import", "url("} {
		assert.Assert(t, !strings.Contains(page, bad), "the report holds %q", bad)
	}
	// The only URLs are the SVG namespaces, which nothing fetches.
	for _, u := range regexp.MustCompile(`https?://[^"'\s)]+`).FindAllString(page, -1) {
		assert.Assert(t, u == "http://www.w3.org/2000/svg" || u == "http://www.w3.org/1999/xlink", "URL %q in the report", u)
	}
	assert.Assert(t, strings.Contains(page, `content="default-src 'none';`))
}

// TestReportSize: a 60 s run of 100 flows stays under 1 MB.
func TestReportSize(t *testing.T) {
	r := fixedRun()
	r.Samples, r.Remote, r.Flows = nil, nil, nil
	for i := 0; i <= 60; i++ {
		t := float64(i)
		r.Samples = append(r.Samples, Sample{Time: t, Transactions: 6000 * t, CPU: 0.9 * t})
		r.Remote = append(r.Remote, Sample{Time: t, Transactions: 6000 * t, CPU: 0.8 * t})
		for f := 0; f < 100; f++ {
			r.Flows = append(r.Flows, FlowSample{Time: t, Flow: f, Transactions: float64(55+f%10) * t})
		}
	}
	page := writeReport(t, r)
	t.Logf("a 60 s run of 100 flows: %d bytes", len(page))
	assert.Assert(t, len(page) < 1<<20, "%d bytes", len(page))
	figs, _ := parseReport(t, page)
	assert.Equal(t, figs[1].id, "flows")
	assert.Equal(t, figs[1].series, 100)
	// The slowest, median and fastest flow of each of the 60 intervals.
	for i := 0; i < 3; i++ {
		assert.Equal(t, linesDrawn(figs[1].svg, palette[i], 60), 1, "summary line %d", i)
	}
}

// TestDecodeSavedResults: --json documents of real runs decode and draw
// the charts their workloads have.
func TestDecodeSavedResults(t *testing.T) {
	for _, tt := range []struct {
		file string
		ids  []string
	}{
		{"testdata/tcp_rr.json", []string{"throughput", "flows", "fairness", "latency-histogram", "latency-cdf", "cpu"}},
		{"testdata/tcp_stream.json", []string{"throughput", "flows", "fairness", "cpu"}},
	} {
		t.Run(tt.file, func(t *testing.T) {
			f, err := os.Open(tt.file)
			assert.NilError(t, err)
			defer f.Close()
			r, err := Decode(f)
			assert.NilError(t, err)
			figs, tables := parseReport(t, writeReport(t, r))
			var ids []string
			for _, f := range figs {
				ids = append(ids, f.id)
				assert.Assert(t, f.points > 0 && f.series > 0, "%+v", f)
			}
			assert.DeepEqual(t, ids, tt.ids)
			assert.Equal(t, len(tables["kv results"]), len(r.Results))
		})
	}
}

// TestDecodeRejects: what is not a result is an error, not a blank report.
func TestDecodeRejects(t *testing.T) {
	for name, in := range map[string]string{
		"empty":        "",
		"not JSON":     "throughput=5\n",
		"no options":   `{"results": {}}`,
		"no workload":  `{"options": {}, "results": {}}`,
		"a JSON array": `[1, 2]`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Decode(strings.NewReader(in))
			assert.ErrorContains(t, err, "not a hookperf --json result")
		})
	}
}

// TestSeveralRuns: several runs side by side, an overview row each.
func TestSeveralRuns(t *testing.T) {
	a, b := fixedRun(), fixedRun()
	a.Name, b.Name = "old", "new"
	figs, tables := parseReport(t, writeReport(t, a, b))
	assert.Equal(t, len(figs), 14)
	// Both runs on common axes first: throughput and the latency CDF.
	assert.Equal(t, figs[0].id, "overview-throughput")
	assert.Equal(t, figs[0].series, 2)
	assert.Equal(t, figs[0].points, 8)
	assert.Equal(t, figs[1].id, "overview-latency")
	assert.Equal(t, figs[1].series, 2)
	for i := 0; i < 2; i++ {
		assert.Equal(t, linesDrawn(figs[0].svg, palette[i], 4), 1, "run %d's throughput", i)
		assert.Equal(t, linesDrawn(figs[1].svg, palette[i], 10), 1, "run %d's CDF", i)
	}
	assert.Equal(t, len(tables["overview"]), 3)
	assert.Equal(t, tables["overview"][1][0], "old")
	assert.Equal(t, tables["overview"][2][0], "new")
}

// TestUDPStreamLoss: a udp_stream report says what share never arrived.
func TestUDPStreamLoss(t *testing.T) {
	r := fixedRun()
	r.Options["workload"] = "udp_stream"
	r.Results = map[string]any{"throughput_Mbps": 750.0, "sender_throughput_Mbps": 1000.0}
	_, tables := parseReport(t, writeReport(t, r))
	rows := map[string][]string{}
	for _, row := range tables["figures"] {
		rows[row[0]] = row
	}
	assert.Equal(t, rows["lost"][1], "25.00%")
	assert.Equal(t, rows["sent"][1], "1,000 Mbit/s")
	assert.Equal(t, rows["throughput (received)"][1], "750 Mbit/s")
}

// TestPercentileRows: the summary lists min, mean, every requested
// percentile by percentile, then max, the same way every time.
func TestPercentileRows(t *testing.T) {
	r := fixedRun()
	r.Results["latency_min"], r.Results["latency_max"] = 10e-6, 90e-6
	r.Results["latency_p25"], r.Results["latency_p95"], r.Results["latency_p99.99"] = 15e-6, 40e-6, 80e-6
	want := []string{"min", "mean", "p25", "p50", "p95", "p99", "p99.99", "max"}
	for i := 0; i < 5; i++ {
		_, tables := parseReport(t, writeReport(t, r))
		var got []string
		for _, row := range tables["figures"] {
			if name, ok := strings.CutSuffix(row[0], " round trip"); ok {
				got = append(got, name)
			}
		}
		assert.DeepEqual(t, got, want)
	}
}

// TestRunTitle: the title says the shape of the run, its length in
// seconds or in transactions (a negative -l).
func TestRunTitle(t *testing.T) {
	for _, tt := range []struct {
		flows, length float64
		want          string
	}{
		{3, 4, "hookperf tcp_rr, 3 flows × 1 thread, 4 s (client&#39;s view)"},
		{1, -1000, "hookperf tcp_rr, 1 flow × 1 thread, 1000 transactions (client&#39;s view)"},
	} {
		r := fixedRun()
		r.Options["num_flows"], r.Options["test_length"] = tt.flows, tt.length
		page := writeReport(t, r)
		assert.Assert(t, strings.Contains(page, "<h1>"+tt.want+"</h1>"), "want %q in the title", tt.want)
	}
}
