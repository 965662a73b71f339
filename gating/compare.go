package gating

import (
	"fmt"
	"math"
	"slices"

	"github.com/aclements/go-moremath/stats"
	"golang.org/x/perf/benchmath"
)

// confidence is the level of every interval: 95 %.
const confidence = 0.95

// Side summarizes one configuration's runs of a metric.
type Side struct {
	N      int
	Median float64
	// Lo and Hi bound the 95 % interval of the median; ±Inf when there
	// are too few runs for one (fewer than 6).
	Lo, Hi float64
}

// Row is the comparison of one metric of one benchmark.
type Row struct {
	Bench  string // the configuration, e.g. "BenchmarkTCPRR/flows=1/threads=1/req=1/resp=1"
	Metric string // its unit, e.g. "trans/s"
	// HigherIsBetter is the metric's direction (see HigherIsBetter).
	HigherIsBetter bool
	Paired         bool // rounds of A and B interleaved (ComparePaired)
	A, B           Side
	// Change is B against A as a fraction (+0.10: B is 10 % larger): the
	// median per-round ratio less 1 when paired, else the ratio of the
	// medians less 1. Lo and Hi bound its 95 % interval.
	Change, Lo, Hi float64
	// P is the p-value of "A and B do not differ": a Mann-Whitney U test,
	// or a sign test of the per-round ratios when paired.
	P       float64
	Verdict Verdict
	// Why explains a verdict of no change or inconclusive that is not
	// plain ("too few runs", …).
	Why string
	// AValues and BValues are the runs' values in the order they came
	// (when paired, round i's are AValues[i] and BValues[i]).
	AValues, BValues []float64
}

// minRuns is the fewest runs a side needs for any verdict: with fewer the
// U test cannot reach p < 0.05 whatever the values.
const minRuns = 4

// Compare compares two sets of runs taken apart in time (unpaired): the
// medians and their intervals, and a Mann-Whitney U test, from benchmath.
func Compare(bench, metric string, a, b []float64, cfg Config) Row {
	cfg = cfg.withDefaults()
	th := &benchmath.Thresholds{CompareAlpha: cfg.Alpha}
	sa := benchmath.NewSample(slices.Clone(a), th) // NewSample sorts in place
	sb := benchmath.NewSample(slices.Clone(b), th)
	r := Row{Bench: bench, Metric: metric, HigherIsBetter: HigherIsBetter(metric), AValues: slices.Clone(a), BValues: slices.Clone(b)}
	r.A, r.B = summary(sa), summary(sb)
	// The change and its interval as the U test sees them (Hodges–Lehmann
	// and Moses, on the ratios); where those mean nothing (a zero value),
	// the ratio of the medians, with an interval from theirs: wide (it
	// ignores how the two errors offset), so a verdict it allows is safe.
	var ok bool
	if r.Change, r.Lo, r.Hi, ok = shiftInterval(a, b, confidence); !ok {
		r.Change = rel(r.B.Median, r.A.Median)
		r.Lo, r.Hi = math.Inf(-1), math.Inf(1)
		if finite(r.A.Lo, r.A.Hi, r.B.Lo, r.B.Hi) {
			r.Lo, r.Hi = rel(r.B.Lo, r.A.Hi), rel(r.B.Hi, r.A.Lo)
		}
	}
	r.P = benchmath.AssumeNothing.Compare(sa, sb).P
	r.Verdict, r.Why = cfg.decide(r.Change, r.Lo, r.Hi, r.P, r.HigherIsBetter)
	if r.Verdict == Inconclusive && !finite(r.Lo, r.Hi) {
		// benchmath gives no 95 % interval of a median of fewer than 6
		// values: a large change can still be found, no change cannot.
		r.Why = fmt.Sprintf("not significant, and %d and %d runs are too few to bound the medians (6 a side at least): more runs", len(a), len(b))
	}
	if len(a) < minRuns || len(b) < minRuns {
		r.Verdict, r.Why = Inconclusive, fmt.Sprintf("too few runs (%d and %d; a verdict needs at least %d a side)", len(a), len(b), minRuns)
	}
	return r
}

// ComparePaired compares rounds of A and B run interleaved in one
// sitting: a[i] and b[i] come from round i. It works on the per-round
// ratios b[i]/a[i], which cancel the drift a round shares: their median,
// the distribution-free interval of that median (order statistics of the
// binomial, as benchmath's median intervals), and an exact two-sided sign
// test of "the ratio's median is 1". The sign test assumes nothing of the
// ratios' distribution (a signed-rank test would assume it symmetric,
// which a noisy machine's ratios need not be).
func ComparePaired(bench, metric string, a, b []float64, cfg Config) (Row, error) {
	return comparePairedAt(bench, metric, a, b, cfg, confidence)
}

// comparePairedAt is ComparePaired with the interval at the given level.
func comparePairedAt(bench, metric string, a, b []float64, cfg Config, level float64) (Row, error) {
	if len(a) != len(b) {
		return Row{}, fmt.Errorf("%s %s: %d rounds of A but %d of B", bench, metric, len(a), len(b))
	}
	cfg = cfg.withDefaults()
	r := Row{Bench: bench, Metric: metric, HigherIsBetter: HigherIsBetter(metric), Paired: true, AValues: slices.Clone(a), BValues: slices.Clone(b)}
	th := &benchmath.Thresholds{CompareAlpha: cfg.Alpha}
	r.A = summary(benchmath.NewSample(slices.Clone(a), th))
	r.B = summary(benchmath.NewSample(slices.Clone(b), th))
	ratios := make([]float64, len(a))
	for i := range a {
		if a[i] < 0 || b[i] < 0 {
			return Row{}, fmt.Errorf("%s %s: round %d has A=%v, B=%v: ratios need values of 0 or more", bench, metric, i+1, a[i], b[i])
		}
		ratios[i] = rel(b[i], a[i]) + 1 // 0/0 is 1: no retransmits either way
	}
	slices.Sort(ratios)
	s := stats.Sample{Xs: ratios, Sorted: true}
	if len(ratios) > 0 {
		med, lo, hi := stats.QuantileCI(len(ratios), 0.5, level).SampleCI(s)
		r.Change, r.Lo, r.Hi = med-1, lo-1, hi-1
	}
	r.P = signTest(ratios)
	r.Verdict, r.Why = cfg.decide(r.Change, r.Lo, r.Hi, r.P, r.HigherIsBetter)
	if len(a) < minRuns+2 {
		// The sign test needs 6 rounds to reach p < 0.05 at all.
		r.Verdict, r.Why = Inconclusive, fmt.Sprintf("too few rounds (%d; a verdict needs at least %d)", len(a), minRuns+2)
	}
	return r, nil
}

// signTest is the exact two-sided sign test of "the median ratio is 1":
// rounds whose ratio is exactly 1 carry no sign and are left out.
func signTest(ratios []float64) float64 {
	up, n := 0, 0
	for _, x := range ratios {
		if x != 1 {
			n++
			if x > 1 {
				up++
			}
		}
	}
	if n == 0 {
		return 1
	}
	d := stats.BinomialDist{N: n, P: 0.5}
	k := float64(up)
	tail := math.Min(d.CDF(k), 1-d.CDF(k-1))
	return math.Min(1, 2*tail)
}

func summary(s *benchmath.Sample) Side {
	if len(s.Values) == 0 {
		return Side{Lo: math.Inf(-1), Hi: math.Inf(1), Median: math.NaN()}
	}
	sum := benchmath.AssumeNothing.Summary(s, confidence)
	return Side{N: len(s.Values), Median: sum.Center, Lo: sum.Lo, Hi: sum.Hi}
}

// rel is x against y as a fraction (x/y - 1): 0 when both are 0 (no
// retransmits either way), +Inf when only y is.
func rel(x, y float64) float64 {
	switch {
	case y == 0 && x == 0:
		return 0
	case y == 0:
		return math.Inf(1)
	}
	return x/y - 1
}

func finite(xs ...float64) bool {
	for _, x := range xs {
		if math.IsInf(x, 0) || math.IsNaN(x) {
			return false
		}
	}
	return true
}

// Gate is the verdict of a whole comparison: a regression if any metric
// regressed, else inconclusive if any could not be decided, else an
// improvement if any improved, else no change.
func Gate(rows []Row) Verdict {
	v := NoChange
	for _, r := range rows {
		v = max(v, r.Verdict)
	}
	return v
}
