package stats

import (
	"math"
	"time"
)

// Correlation returns the Pearson correlation coefficient of the pairs
// (xs[i], ys[i]); if the slices differ in length the extra elements of
// the longer one are ignored. It never returns NaN: with fewer than two
// pairs, or when either series has zero variance, it returns 0.
func Correlation(xs, ys []float64) float64 {
	n := min(len(xs), len(ys))
	if n < 2 {
		return 0
	}
	xs, ys = xs[:n], ys[:n]
	var mx, my float64
	for i := range n {
		mx += xs[i]
		my += ys[i]
	}
	mx /= float64(n)
	my /= float64(n)
	var sxy, sxx, syy float64
	for i := range n {
		dx, dy := xs[i]-mx, ys[i]-my
		sxy += dx * dy
		sxx += dx * dx
		syy += dy * dy
	}
	if sxx == 0 || syy == 0 {
		return 0
	}
	r := sxy / math.Sqrt(sxx*syy)
	return max(-1, min(1, r)) // guard against rounding just past ±1
}

// Sample is one point of a throughput time series.
type Sample struct {
	Time  time.Duration // since the start of the run
	Count uint64        // cumulative transactions or bytes at Time
}

// Window returns neper-style start and end indices of the samples to
// report on: start is warmup clamped to [0, end] and end is len(samples)-1.
// For no samples it returns (0, -1).
func Window(samples []Sample, warmup int) (start, end int) {
	end = len(samples) - 1
	return min(max(warmup, 0), max(end, 0)), end
}

// valid reports whether start..end is a usable interval of samples.
func valid(samples []Sample, start, end int) bool {
	return start >= 0 && end < len(samples) && start < end
}

// Rate returns the throughput per second between samples[start] and
// samples[end]: the change in Count divided by the change in Time. It
// returns 0 if the indices are out of range, start >= end, or no time
// passed.
func Rate(samples []Sample, start, end int) float64 {
	if !valid(samples, start, end) {
		return 0
	}
	a, b := samples[start], samples[end]
	dt := (b.Time - a.Time).Seconds()
	if dt <= 0 {
		return 0
	}
	if b.Count >= a.Count {
		return float64(b.Count-a.Count) / dt
	}
	return -float64(a.Count-b.Count) / dt
}

// CorrelationOf returns the Correlation of time in seconds against
// cumulative Count over samples[start..end] inclusive; a value near 1
// means steady throughput. It returns 0 if the indices are out of range
// or start >= end.
func CorrelationOf(samples []Sample, start, end int) float64 {
	if !valid(samples, start, end) {
		return 0
	}
	s := samples[start : end+1]
	xs := make([]float64, len(s))
	ys := make([]float64, len(s))
	for i, v := range s {
		xs[i] = v.Time.Seconds()
		ys[i] = float64(v.Count)
	}
	return Correlation(xs, ys)
}
