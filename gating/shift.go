package gating

import (
	"math"
	"slices"
	"sort"

	"github.com/aclements/go-moremath/stats"
)

// exactUMax is the largest n1·n2 for which shiftInterval computes the U
// distribution exactly (go-moremath's UDist); above it the normal
// approximation of the U statistic is as good, as R's wilcox.test does.
const exactUMax = 2500

// shiftInterval is the change of B against A for unpaired runs as the U
// test sees it: the Hodges–Lehmann estimate of the ratio B/A (the median
// of the ratios of every B run to every A run) and its distribution-free
// confidence interval (Moses: order statistics of those ratios, picked by
// the U statistic's distribution), the interval that goes with the U
// test's p-value, as R's wilcox.test(conf.int = TRUE) gives it on the
// logs. It assumes B's runs are A's scaled by a constant, which is what a
// change of speed does. ok is false when a value is not positive (a ratio
// means nothing) or there are too few runs for the interval to reach the
// confidence level.
func shiftInterval(a, b []float64, level float64) (change, lo, hi float64, ok bool) {
	n1, n2 := len(a), len(b)
	if n1 == 0 || n2 == 0 || slices.ContainsFunc(a, nonPositive) || slices.ContainsFunc(b, nonPositive) {
		return 0, 0, 0, false
	}
	d := make([]float64, 0, n1*n2)
	for _, x := range a {
		for _, y := range b {
			d = append(d, math.Log(y)-math.Log(x))
		}
	}
	slices.Sort(d)
	k := uQuantile(n1, n2, (1-level)/2)
	if k < 1 {
		return 0, 0, 0, false // even the widest interval falls short of level
	}
	n := len(d)
	est := (d[(n-1)/2] + d[n/2]) / 2
	return math.Expm1(est), math.Expm1(d[k-1]), math.Expm1(d[n-k]), true
}

func nonPositive(x float64) bool { return !(x > 0) }

// uQuantile is the smallest u with P(U ≤ u) ≥ p for the Mann-Whitney U
// statistic of n1 and n2 runs without ties (R's qwilcox): the interval
// [d(u), d(n1·n2+1−u)] (1-based) of the sorted differences then covers
// the shift with probability 1 − 2·P(U ≤ u−1) ≥ 1 − 2p.
func uQuantile(n1, n2 int, p float64) int {
	m := n1 * n2
	if m > exactUMax {
		mu := float64(m) / 2
		sigma := math.Sqrt(float64(m) * float64(n1+n2+1) / 12)
		z := stats.StdNormal.InvCDF(p)
		return int(math.Floor(mu + z*sigma + 0.5))
	}
	dist := stats.UDist{N1: n1, N2: n2}
	return sort.Search(m+1, func(u int) bool { return dist.CDF(float64(u)) >= p })
}
