package htmlreport

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/hookperf/hookperf/gating"
)

// metricView is one metric of a verdict: its table row, a sentence, and
// its charts.
type metricView struct {
	Metric, Better, N, A, B, Change, P, Verdict, Why, Class, Sentence string
	Charts                                                            []*chart
}

// abView is what a verdict's page shows.
type abView struct {
	Title, Headline, How, Note, Runs, VerdictClass string
	Metrics                                        []*metricView
}

// WriteAB writes a verdict (hookperf ab's or compare's) as one HTML file:
// the verdict in a sentence, a row a metric, and for each metric its
// values run by run (A and B in the order they ran) and, for rounds of A
// and B interleaved, each round's B/A ratio with the median's interval
// and the threshold. title names what was compared.
func WriteAB(w io.Writer, rep *gating.Report, title string) error {
	v := &abView{Title: title, Note: rep.Note, VerdictClass: verdictClass(rep.Verdict), Runs: "runs"}
	v.How = fmt.Sprintf("A change counts when it is significant (p < %g) and at least %g %% — a regression if for the worse.", rep.Config.Alpha, 100*rep.Config.Threshold)
	var worst []string
	for i, row := range rep.Rows {
		m, err := metricOf(row, rep.Config, i)
		if err != nil {
			return err
		}
		if row.Paired {
			v.Runs = "rounds"
		}
		if row.Verdict == rep.Verdict && row.Verdict != gating.NoChange {
			worst = append(worst, fmt.Sprintf("%s %s", row.Metric, pct(row.Change)))
		}
		v.Metrics = append(v.Metrics, m)
	}
	switch rep.Verdict {
	case gating.Regression:
		v.Headline = "B is worse than A: a regression in " + strings.Join(worst, ", ") + "."
	case gating.Improvement:
		v.Headline = "B is better than A: an improvement in " + strings.Join(worst, ", ") + ", and no metric worse."
	case gating.Inconclusive:
		v.Headline = "Undecided: no regression found, but " + strings.Join(worst, ", ") + " could not be decided (more rounds would tell)."
	default:
		v.Headline = "No change: A and B are the same within the threshold on every metric."
	}
	return pages.ExecuteTemplate(w, "ab.html.tmpl", v)
}

// verdictClass is a verdict's CSS class.
func verdictClass(v gating.Verdict) string { return strings.ReplaceAll(v.String(), " ", "-") }

// pct prints a fraction as a signed percentage.
func pct(x float64) string {
	if math.IsInf(x, 0) || math.IsNaN(x) {
		return "?"
	}
	return fmt.Sprintf("%+.1f%%", 100*x)
}

// sideText prints a side's median and interval.
func sideText(s gating.Side) string {
	if math.IsInf(s.Lo, 0) || math.IsInf(s.Hi, 0) {
		return fmt.Sprintf("%s [too few runs]", figureText(s.Median))
	}
	return fmt.Sprintf("%s [%s – %s]", figureText(s.Median), figureText(s.Lo), figureText(s.Hi))
}

// figureText prints a metric's value: whole above 1000 (thousands
// separated), else to 3 significant digits.
func figureText(v float64) string {
	if math.Abs(v) >= 1000 {
		return number(math.Round(v))
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

// metricOf lays out one row of a verdict.
func metricOf(row gating.Row, cfg gating.Config, i int) (*metricView, error) {
	better := "lower"
	if row.HigherIsBetter {
		better = "higher"
	}
	m := &metricView{
		Metric: row.Metric, Better: better, A: sideText(row.A), B: sideText(row.B),
		Change:  fmt.Sprintf("%s [%s – %s]", pct(row.Change), pct(row.Lo), pct(row.Hi)),
		P:       fmt.Sprintf("%.3g", row.P),
		Verdict: row.Verdict.String(), Why: row.Why, Class: verdictClass(row.Verdict),
	}
	m.N = fmt.Sprintf("%d / %d", row.A.N, row.B.N)
	if row.Paired {
		m.N = fmt.Sprint(row.A.N)
	}
	dir := "larger"
	if row.Change < 0 {
		dir = "smaller"
	}
	m.Sentence = fmt.Sprintf("B's %s is %.1f%% %s than A's (%s is better): %s.", row.Metric, 100*math.Abs(row.Change), dir, better, row.Verdict)
	if row.Why != "" {
		m.Sentence += " " + strings.ToUpper(row.Why[:1]) + row.Why[1:] + "."
	}
	id := fmt.Sprintf("m%d", i)
	values, err := valuesChart(row, id)
	if err != nil {
		return nil, err
	}
	m.Charts = append(m.Charts, values)
	if row.Paired {
		ratios, err := ratiosChart(row, cfg, id)
		if err != nil {
			return nil, err
		}
		m.Charts = append(m.Charts, ratios)
	}
	return m, nil
}

// points are values by their 1-based run number.
func points(vs []float64) plotter.XYs {
	pts := make(plotter.XYs, len(vs))
	for i, v := range vs {
		pts[i] = plotter.XY{X: float64(i + 1), Y: v}
	}
	return pts
}

// valuesChart draws A's and B's values run by run.
func valuesChart(row gating.Row, id string) (*chart, error) {
	what := "run"
	if row.Paired {
		what = "round"
	}
	p := newPlot(row.Metric+" in each "+what, what+" (in the order run)", row.Metric)
	top := 0.0
	for i, s := range []struct {
		name string
		vs   []float64
	}{{"A", row.AValues}, {"B", row.BValues}} {
		l, pts, err := plotter.NewLinePoints(points(s.vs))
		if err != nil {
			return nil, err
		}
		l.Color, pts.Color = palette[i], palette[i]
		l.Width = vg.Points(1.5)
		pts.Shape = draw.CircleGlyph{}
		if i == 1 {
			pts.Shape = draw.BoxGlyph{}
		}
		pts.Radius = vg.Points(3)
		p.Add(l, pts)
		p.Legend.Add(s.name, l, pts)
		top = math.Max(top, maxY(points(s.vs)))
	}
	headroom(p, top)
	svg, err := render(p, 18*vg.Centimeter, 8*vg.Centimeter)
	caption := "A's and B's value in each run. Two bands apart: a real difference; interleaved lines: none."
	if row.Paired {
		caption = "A's and B's value in each round, in the order they ran (A and B alternate which goes first). B's line under or over A's in most rounds is what the verdict counts; a round where both dip is the machine, not B."
	}
	return &chart{ID: id + "-values", Title: row.Metric + ", A and B", SVG: svg, Series: 2,
		Points: len(row.AValues) + len(row.BValues), Caption: caption}, err
}

// ratiosChart draws each round's B/A change with the median's interval
// and the threshold either way.
func ratiosChart(row gating.Row, cfg gating.Config, id string) (*chart, error) {
	p := newPlot(row.Metric+": B against A, round by round", "round", "B / A − 1 (%)")
	var pts plotter.XYs
	for i := range row.AValues {
		if row.AValues[i] == 0 {
			continue
		}
		pts = append(pts, plotter.XY{X: float64(i + 1), Y: 100 * (row.BValues[i]/row.AValues[i] - 1)})
	}
	n := float64(len(row.AValues))
	hline := func(y float64, c color.Color, dashes []vg.Length, name string) error {
		if math.IsInf(y, 0) || math.IsNaN(y) {
			return nil
		}
		l, err := plotter.NewLine(plotter.XYs{{X: 0.5, Y: y}, {X: n + 0.5, Y: y}})
		if err != nil {
			return err
		}
		l.Color, l.Dashes, l.Width = c, dashes, vg.Points(1.5)
		p.Add(l)
		if name != "" {
			p.Legend.Add(name, l)
		}
		return nil
	}
	grey := color.RGBA{120, 120, 120, 255}
	dotted := []vg.Length{vg.Points(2), vg.Points(2)}
	dashed := []vg.Length{vg.Points(5), vg.Points(3)}
	th := 100 * cfg.Threshold
	if err := hline(th, grey, dotted, fmt.Sprintf("±%g %% threshold", th)); err != nil {
		return nil, err
	}
	if err := hline(-th, grey, dotted, ""); err != nil {
		return nil, err
	}
	if err := hline(100*row.Change, palette[1], nil, fmt.Sprintf("median %s", pct(row.Change))); err != nil {
		return nil, err
	}
	if err := hline(100*row.Lo, palette[1], dashed, "its 95 % interval"); err != nil {
		return nil, err
	}
	if err := hline(100*row.Hi, palette[1], dashed, ""); err != nil {
		return nil, err
	}
	sc, err := plotter.NewScatter(pts)
	if err != nil {
		return nil, err
	}
	sc.Color = palette[0]
	sc.Shape = draw.CircleGlyph{}
	sc.Radius = vg.Points(3.5)
	p.Add(sc)
	p.Legend.Add("a round", sc)
	p.Legend.Top = true
	lo, hi := -th, th
	for _, pt := range pts {
		lo, hi = math.Min(lo, pt.Y), math.Max(hi, pt.Y)
	}
	for _, y := range []float64{100 * row.Lo, 100 * row.Hi} {
		if !math.IsInf(y, 0) && !math.IsNaN(y) {
			lo, hi = math.Min(lo, y), math.Max(hi, y)
		}
	}
	span := hi - lo
	p.Y.Min, p.Y.Max = lo-0.1*span, hi+0.6*span // room for the legend
	p.X.Min, p.X.Max = 0.5, n+0.5
	p.X.Tick.Marker = plot.DefaultTicks{}
	svg, err := render(p, 18*vg.Centimeter, 8*vg.Centimeter)
	return &chart{ID: id + "-ratios", Title: row.Metric + ", B against A", SVG: svg, Series: 1, Points: len(pts),
		Caption: "Each round's B over A, less 1. The verdict comes from their median and its 95 % interval: an interval wholly past the threshold is a change, one inside it no change, one across it undecided."}, err
}
