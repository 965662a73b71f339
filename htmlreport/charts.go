package htmlreport

import (
	"bytes"
	"cmp"
	"fmt"
	"html/template"
	"image/color"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// chart is one drawn chart and what it drew: Series lines or bar sets,
// Points data points in all (the figure's data attributes, which the
// tests read back).
type chart struct {
	ID      string
	Title   string
	Caption string
	SVG     template.HTML
	Series  int
	Points  int
}

// palette is the series' colours (Okabe–Ito, told apart by colour-blind
// readers too).
var palette = []color.Color{
	color.RGBA{0, 114, 178, 255},   // blue
	color.RGBA{213, 94, 0, 255},    // vermillion
	color.RGBA{0, 158, 115, 255},   // green
	color.RGBA{204, 121, 167, 255}, // purple
	color.RGBA{230, 159, 0, 255},   // orange
	color.RGBA{86, 180, 233, 255},  // sky blue
	color.RGBA{240, 228, 66, 255},  // yellow
	color.RGBA{0, 0, 0, 255},       // black
}

// maxLegend is the most series a chart names in its legend.
const maxLegend = 10

// newPlot makes a plot with the report's style.
func newPlot(title, x, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = x
	p.Y.Label.Text = y
	p.Add(plotter.NewGrid())
	p.Legend.Top = true
	return p
}

// render draws p as inline SVG (no XML prelude, sized by CSS).
func render(p *plot.Plot, w, h vg.Length) (template.HTML, error) {
	c := vgsvg.New(w, h)
	p.Draw(draw.New(c))
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return "", err
	}
	svg := buf.String()
	if i := strings.Index(svg, "<svg"); i >= 0 {
		svg = svg[i:]
	}
	return template.HTML(svg), nil // made here from numbers and our own labels
}

// line adds one series to p.
func line(p *plot.Plot, name string, pts plotter.XYs, i int, width vg.Length, legend bool) error {
	l, err := plotter.NewLine(pts)
	if err != nil {
		return err
	}
	l.Color = palette[i%len(palette)]
	l.Width = width
	p.Add(l)
	if legend {
		p.Legend.Add(name, l)
	}
	return nil
}

// rates turns cumulative counts into a rate per second between samples:
// a point at the end of each interval. An interval under half the
// typical one (the partial last one, cut by the end of the run) is left
// out: its rate is mostly noise.
func rates(times, counts []float64, scale float64) plotter.XYs {
	var dts []float64
	for i := 1; i < len(times); i++ {
		dts = append(dts, times[i]-times[i-1])
	}
	typical := 0.0
	if len(dts) > 0 {
		sorted := slices.Sorted(slices.Values(dts))
		typical = sorted[len(sorted)/2]
	}
	var out plotter.XYs
	for i := 1; i < len(times); i++ {
		dt := times[i] - times[i-1]
		if dt <= 0 || dt < typical/2 {
			continue
		}
		out = append(out, plotter.XY{X: times[i], Y: (counts[i] - counts[i-1]) / dt * scale})
	}
	return out
}

// headroom raises p's Y axis above its data, so that a legend at the
// top does not hide the lines.
func headroom(p *plot.Plot, top float64) {
	p.Y.Min = 0
	p.Y.Max = 1.3 * top
}

// maxY is the largest Y of pts.
func maxY(pts plotter.XYs) float64 {
	m := 0.0
	for _, pt := range pts {
		m = math.Max(m, pt.Y)
	}
	return m
}

// unit is how a run's throughput is counted and drawn.
type unit struct {
	name  string                 // "trans/s" or "Mbit/s"
	count func(s Sample) float64 // the cumulative count that rate is of
	scale float64                // count/s to the unit
}

func (r *Run) unit() unit {
	if r.IsRR() {
		return unit{"transactions/s", func(s Sample) float64 { return s.Transactions }, 1}
	}
	return unit{"Mbit/s", func(s Sample) float64 { return s.BytesRead + s.BytesWritten }, 8 / 1e6}
}

// series gives a side's samples' times and counts.
func series(ss []Sample, count func(Sample) float64) (times, counts []float64) {
	for _, s := range ss {
		times = append(times, s.Time)
		counts = append(counts, count(s))
	}
	return times, counts
}

// sides names this run's side and its peer's.
func (r *Run) sides() (local, remote string) {
	if r.Side == "server" {
		return "server", "client"
	}
	return "client", "server"
}

// named is one series of cumulative samples, drawn as its rate.
type named struct {
	name    string
	samples []Sample
}

// rateLines draws each series' rate of count (times scale) on p as a
// line of ch, and renders ch; nil where no series has two samples.
func rateLines(p *plot.Plot, ch *chart, lines []named, count func(Sample) float64, scale float64, height vg.Length) (*chart, error) {
	top := 0.0
	for i, s := range lines {
		if len(s.samples) < 2 {
			continue
		}
		t, c := series(s.samples, count)
		pts := rates(t, c, scale)
		if err := line(p, s.name, pts, i, vg.Points(2), true); err != nil {
			return nil, err
		}
		top = math.Max(top, maxY(pts))
		ch.Series++
		ch.Points += len(pts)
	}
	if ch.Series == 0 {
		return nil, nil
	}
	headroom(p, top)
	svg, err := render(p, 18*vg.Centimeter, height)
	ch.SVG = svg
	return ch, err
}

// throughputChart draws the run's rate over time, each side a line.
func throughputChart(r *Run) (*chart, error) {
	u := r.unit()
	local, remote := r.sides()
	return rateLines(newPlot("Throughput over time", "time (s)", u.name),
		&chart{ID: "throughput", Title: "Throughput over time",
			Caption: "What each side moved in each interval, as a rate. A steady run is a flat line; a sag or a step is the run changing as it went."},
		[]named{{local, r.Samples}, {remote, r.Remote}}, u.count, u.scale, 9*vg.Centimeter)
}

// flowSeries gives each flow's samples, by flow id.
func flowSeries(r *Run) (ids []int, byFlow map[int][]FlowSample) {
	byFlow = map[int][]FlowSample{}
	for _, f := range r.Flows {
		byFlow[f.Flow] = append(byFlow[f.Flow], f)
	}
	for id := range byFlow {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids, byFlow
}

// flowCount is a flow sample's count in the run's unit.
func (r *Run) flowCount(f FlowSample) float64 {
	if r.IsRR() {
		return f.Transactions
	}
	return f.BytesRead + f.BytesWritten
}

// flowsChart draws each flow's rate over time.
func flowsChart(r *Run) (*chart, error) {
	ids, byFlow := flowSeries(r)
	if len(ids) < 2 {
		return nil, nil
	}
	u := r.unit()
	p := newPlot(fmt.Sprintf("Throughput per flow (%d flows)", len(ids)), "time (s)", u.name)
	ch := &chart{ID: "flows", Title: "Throughput per flow over time",
		Caption: "Each flow's rate in each interval. Lines bunched together: the flows shared the run fairly; one line apart: a flow was starved or favoured."}
	top := 0.0
	many := len(ids) > maxLegend
	byTime := map[float64][]float64{} // every flow's rate at each time
	for i, id := range ids {
		var t, c []float64
		for _, f := range byFlow[id] {
			t = append(t, f.Time)
			c = append(c, r.flowCount(f))
		}
		pts := rates(t, c, u.scale)
		if len(pts) == 0 {
			continue
		}
		var err error
		if many {
			// Too many to tell apart: each a thin grey line, under
			// the slowest, median and fastest flow's.
			err = greyLine(p, pts)
		} else {
			err = line(p, fmt.Sprintf("flow %d", id), pts, i, vg.Points(1.5), true)
		}
		if err != nil {
			return nil, err
		}
		for _, pt := range pts {
			byTime[pt.X] = append(byTime[pt.X], pt.Y)
		}
		top = math.Max(top, maxY(pts))
		ch.Series++
		ch.Points += len(pts)
	}
	if ch.Series == 0 {
		return nil, nil
	}
	if many {
		ch.Caption = "Each flow's rate in each interval (grey), with the slowest, the median and the fastest flow of each interval. A narrow band: the flows shared the run fairly; a low slowest line: some flow was starved."
		times := slices.Sorted(maps.Keys(byTime))
		for i, q := range []struct {
			name string
			at   float64
		}{{"fastest flow", 1}, {"median flow", 0.5}, {"slowest flow", 0}} {
			var pts plotter.XYs
			for _, tm := range times {
				ys := slices.Sorted(slices.Values(byTime[tm]))
				pts = append(pts, plotter.XY{X: tm, Y: ys[int(q.at*float64(len(ys)-1))]})
			}
			if err := line(p, q.name, pts, i, vg.Points(2), true); err != nil {
				return nil, err
			}
		}
	}
	headroom(p, top)
	svg, err := render(p, 18*vg.Centimeter, 9*vg.Centimeter)
	ch.SVG = svg
	return ch, err
}

// greyLine adds a thin unnamed grey series.
func greyLine(p *plot.Plot, pts plotter.XYs) error {
	l, err := plotter.NewLine(pts)
	if err != nil {
		return err
	}
	l.Color = color.RGBA{170, 170, 170, 255}
	l.Width = vg.Points(0.5)
	p.Add(l)
	return nil
}

// flowShare is one flow's rate over the whole run.
type flowShare struct {
	Flow int
	Rate float64
}

// flowShares is each flow's whole-run rate: its last count over the
// time of its last sample.
func flowShares(r *Run) []flowShare {
	ids, byFlow := flowSeries(r)
	u := r.unit()
	var out []flowShare
	for _, id := range ids {
		fs := byFlow[id]
		first, last := fs[0], fs[len(fs)-1]
		if dt := last.Time - first.Time; dt > 0 {
			out = append(out, flowShare{id, (r.flowCount(last) - r.flowCount(first)) / dt * u.scale})
		}
	}
	return out
}

// fairnessChart draws each flow's whole-run rate as a bar.
func fairnessChart(r *Run) (*chart, error) {
	shares := flowShares(r)
	if len(shares) < 2 {
		return nil, nil
	}
	vals := make(plotter.Values, len(shares))
	names := make([]string, len(shares))
	for i, s := range shares {
		vals[i] = s.Rate
		names[i] = fmt.Sprint(s.Flow)
	}
	title := "Each flow's share"
	if j, ok := r.Result("flow_fairness"); ok {
		title = fmt.Sprintf("Each flow's share (Jain's index %.3f)", j)
	}
	p := newPlot(title, "flow", r.unit().name)
	w := vg.Length(math.Max(1, math.Min(20, 400/float64(len(shares)))))
	bars, err := plotter.NewBarChart(vals, vg.Points(float64(w)))
	if err != nil {
		return nil, err
	}
	bars.Color = palette[0]
	bars.LineStyle.Width = 0
	p.Add(bars)
	if len(names) <= 32 {
		p.NominalX(names...)
	} else {
		p.HideX()
		p.X.Label.Text = fmt.Sprintf("flows 0 to %d", shares[len(shares)-1].Flow)
	}
	p.Y.Min = 0
	svg, err := render(p, 18*vg.Centimeter, 8*vg.Centimeter)
	return &chart{ID: "fairness", Title: "Each flow's share of the run", SVG: svg, Series: 1, Points: len(shares),
		Caption: "Every flow's rate over the whole run. Equal bars: a fair run (Jain's index 1); a short bar: a starved flow."}, err
}

// latencyTicks labels a log latency axis in µs.
type latencyTicks struct{}

func (latencyTicks) Ticks(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	for d := math.Pow(10, math.Floor(math.Log10(lo))); d <= hi*10; d *= 10 {
		for _, m := range []float64{1, 2, 5} {
			v := d * m
			if v < lo || v > hi {
				continue
			}
			ticks = append(ticks, plot.Tick{Value: v, Label: fmt.Sprintf("%g", v)})
		}
	}
	if len(ticks) < 2 {
		return plot.LogTicks{}.Ticks(lo, hi)
	}
	return ticks
}

// mark is a named value on a chart's axis.
type mark struct {
	Name  string
	Value float64
}

// percentiles are the run's requested latency percentiles, in µs, by
// percentile (p50 before p99).
func percentiles(r *Run) []mark {
	type pm struct {
		p float64
		m mark
	}
	var ps []pm
	for k, v := range r.Results {
		p, err := strconv.ParseFloat(strings.TrimPrefix(k, "latency_p"), 64)
		if !strings.HasPrefix(k, "latency_p") || err != nil {
			continue
		}
		if f, ok := v.(float64); ok && f > 0 {
			ps = append(ps, pm{p, mark{"p" + strings.TrimPrefix(k, "latency_p"), f * 1e6}})
		}
	}
	slices.SortFunc(ps, func(a, b pm) int { return cmp.Compare(a.p, b.p) })
	out := make([]mark, len(ps))
	for i, x := range ps {
		out[i] = x.m
	}
	return out
}

// markPercentiles draws each percentile as a dashed vertical line from
// 0 to top, named in the legend.
func markPercentiles(p *plot.Plot, r *Run, top float64) error {
	for i, pc := range percentiles(r) {
		l, err := plotter.NewLine(plotter.XYs{{X: pc.Value, Y: 0}, {X: pc.Value, Y: top}})
		if err != nil {
			return err
		}
		l.Color = palette[(i+1)%len(palette)]
		l.Width = vg.Points(1.5)
		l.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		p.Add(l)
		p.Legend.Add(fmt.Sprintf("%s %s", pc.Name, micros(pc.Value)), l)
	}
	return nil
}

// micros prints a latency in µs.
func micros(v float64) string {
	if v >= 1000 {
		return fmt.Sprintf("%.3g ms", v/1000)
	}
	return fmt.Sprintf("%.3g µs", v)
}

// histogramBins merges the run's fine buckets into about n bins evenly
// spaced on a log scale, in µs.
func histogramBins(r *Run, n int) []plotter.HistogramBin {
	if len(r.Histogram) == 0 {
		return nil
	}
	lo := math.Max(r.Histogram[0].Low*1e6, 0.001)
	hi := math.Max(r.Histogram[len(r.Histogram)-1].High*1e6, lo*1.01)
	step := math.Pow(hi/lo, 1/float64(n))
	bins := make([]plotter.HistogramBin, n)
	for i := range bins {
		bins[i].Min = lo * math.Pow(step, float64(i))
		bins[i].Max = lo * math.Pow(step, float64(i+1))
	}
	for _, b := range r.Histogram {
		mid := math.Max((b.Low+b.High)/2*1e6, lo)
		i := min(int(math.Log(mid/lo)/math.Log(step)), n-1)
		bins[max(i, 0)].Weight += b.Count
	}
	return bins
}

// latencyHistogramChart draws how many transactions took how long.
func latencyHistogramChart(r *Run) (*chart, error) {
	bins := histogramBins(r, 60)
	if bins == nil {
		return nil, nil
	}
	p := newPlot("Latency histogram", "round trip (µs, log scale)", "transactions")
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = latencyTicks{}
	h := &plotter.Histogram{Bins: bins, FillColor: palette[0], LineStyle: plotter.DefaultLineStyle}
	h.LineStyle.Width = vg.Points(0.5)
	h.LineStyle.Color = color.White
	p.Add(h)
	top := 0.0
	for _, b := range bins {
		top = math.Max(top, b.Weight)
	}
	if err := markPercentiles(p, r, top); err != nil {
		return nil, err
	}
	svg, err := render(p, 18*vg.Centimeter, 9*vg.Centimeter)
	return &chart{ID: "latency-histogram", Title: "Latency histogram", SVG: svg, Series: 1, Points: len(bins),
		Caption: "How many transactions took how long, the requested percentiles marked. One hump: a steady path; a second hump to the right: a slow path some transactions took."}, err
}

// cdfPoints is the share of transactions done by each bucket's end (µs).
func cdfPoints(r *Run) plotter.XYs {
	total := 0.0
	for _, b := range r.Histogram {
		total += b.Count
	}
	if total == 0 {
		return nil
	}
	var pts plotter.XYs
	seen := 0.0
	for _, b := range r.Histogram {
		seen += b.Count
		pts = append(pts, plotter.XY{X: math.Max(b.High*1e6, 0.001), Y: seen / total})
	}
	return pts
}

// latencyCDFChart draws the share of transactions done within each
// latency.
func latencyCDFChart(r *Run) (*chart, error) {
	if len(r.Histogram) == 0 {
		return nil, nil
	}
	pts := cdfPoints(r)
	if len(pts) == 0 {
		return nil, nil
	}
	p := newPlot("Latency CDF", "round trip (µs, log scale)", "share of transactions done")
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = latencyTicks{}
	p.Legend.Top = false
	p.Legend.Left = false
	p.Y.Min, p.Y.Max = 0, 1
	if err := line(p, "transactions", pts, 0, vg.Points(2), false); err != nil {
		return nil, err
	}
	if err := markPercentiles(p, r, 1); err != nil {
		return nil, err
	}
	svg, err := render(p, 18*vg.Centimeter, 9*vg.Centimeter)
	return &chart{ID: "latency-cdf", Title: "Latency CDF", SVG: svg, Series: 1, Points: len(pts),
		Caption: "The share of transactions that finished within each round trip. The tail is where the line bends toward 1 on the right."}, err
}

// cpuChart draws each side's CPU use over time, in % of one CPU.
func cpuChart(r *Run) (*chart, error) {
	local, remote := r.sides()
	return rateLines(newPlot("CPU use over time", "time (s)", "% of one CPU"),
		&chart{ID: "cpu", Title: "CPU use over time",
			Caption: "The CPU time each side's worker threads used in each interval. Near 100% a side a thread: that side was the bottleneck."},
		[]named{{local, r.Samples}, {remote, r.Remote}}, func(s Sample) float64 { return s.CPU }, 100, 8*vg.Centimeter)
}

// overviewCharts draw several runs on common axes: each run's throughput
// over time (where they share a unit) and each rr run's latency CDF.
func overviewCharts(runs []*Run, names []string) ([]*chart, error) {
	var out []*chart
	unitName := runs[0].unit().name
	same := true
	for _, r := range runs {
		same = same && r.unit().name == unitName
	}
	if same {
		var series []named
		for i, r := range runs {
			series = append(series, named{names[i], r.Samples})
		}
		u := runs[0].unit()
		ch, err := rateLines(newPlot("Throughput over time, run by run", "time (s)", unitName),
			&chart{ID: "overview-throughput", Title: "Throughput over time, run by run",
				Caption: "Each run's rate (as its own side measured it) in each interval, on one scale: which run went faster, and which was steadier."},
			series, u.count, u.scale, 9*vg.Centimeter)
		if err != nil {
			return nil, err
		}
		if ch != nil {
			out = append(out, ch)
		}
	}
	p := newPlot("Latency CDF, run by run", "round trip (µs, log scale)", "share of transactions done")
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = latencyTicks{}
	p.Legend.Top, p.Legend.Left = false, false
	p.Y.Min, p.Y.Max = 0, 1
	ch := &chart{ID: "overview-latency", Title: "Latency CDF, run by run",
		Caption: "Each rr run's share of transactions done within each round trip: the line to the left is the faster run; where the lines part toward 1 is where their tails differ."}
	for i, r := range runs {
		pts := cdfPoints(r)
		if len(pts) == 0 {
			continue
		}
		if err := line(p, names[i], pts, i, vg.Points(2), true); err != nil {
			return nil, err
		}
		ch.Series++
		ch.Points += len(pts)
	}
	if ch.Series > 1 {
		svg, err := render(p, 18*vg.Centimeter, 9*vg.Centimeter)
		if err != nil {
			return nil, err
		}
		ch.SVG = svg
		out = append(out, ch)
	}
	return out, nil
}

// runCharts draws every chart the run has data for, in the report's order.
func runCharts(r *Run) ([]*chart, error) {
	var out []*chart
	for _, make := range []func(*Run) (*chart, error){
		throughputChart, flowsChart, fairnessChart, latencyHistogramChart, latencyCDFChart, cpuChart,
	} {
		c, err := make(r)
		if err != nil {
			return nil, err
		}
		if c != nil {
			out = append(out, c)
		}
	}
	return out, nil
}
