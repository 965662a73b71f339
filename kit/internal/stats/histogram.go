package stats

import (
	"math"
	"math/bits"
)

const (
	// subBits is log2 of the sub-buckets per power of two. Values below
	// 2^subBits get one bucket each; above that a bucket spans at most
	// 1/2^subBits of its value, so a bucket midpoint is within 0.4%.
	subBits  = 7
	subCount = 1 << subBits
	// maxBits bounds the tracked range to [0, 2^maxBits) ns (about 275 s).
	maxBits    = 38
	maxShift   = maxBits - subBits - 1
	numBuckets = (maxShift + 2) << subBits
)

// Histogram is a fixed-size log-linear (HDR-style) histogram of latencies
// in nanoseconds. Values below 128 ns are counted exactly; larger values
// fall into 128 sub-buckets per power of two, so any percentile is within
// 0.4% of the true nearest-rank value up to about 275 s. Larger values go
// to the last bucket, while Min, Max, Mean and Stddev stay exact. Negative
// values are recorded as 0.
//
// It holds no pointers or slices: the zero value is empty and ready to
// use, and it can be embedded by value in a per-worker struct (it is about
// 32 KiB). It is not safe for concurrent use.
type Histogram struct {
	m      Moments
	counts [numBuckets]uint64
}

// bucketIndex maps a value to its bucket without loops or float maths.
func bucketIndex(v uint64) int {
	// OR-ing in subCount makes values below subCount use shift 0, which
	// maps them to themselves.
	shift := bits.Len64(v|subCount) - subBits - 1
	if shift > maxShift {
		return numBuckets - 1
	}
	return shift<<subBits + int(v>>shift)
}

// bucketMid returns the middle value of bucket i.
func bucketMid(i int) int64 {
	if i < subCount {
		return int64(i)
	}
	shift := i>>subBits - 1
	lo := int64(i-shift<<subBits) << shift
	return lo + (int64(1)<<shift-1)/2
}

// Record adds one latency in nanoseconds. It does not allocate.
func (h *Histogram) Record(ns int64) {
	h.m.Add(ns)
	if ns < 0 {
		ns = 0
	}
	h.counts[bucketIndex(uint64(ns))]++
}

// Merge adds everything recorded in o to h.
func (h *Histogram) Merge(o *Histogram) {
	if o.m.count == 0 {
		return
	}
	h.m.Merge(&o.m)
	for i, c := range o.counts {
		h.counts[i] += c
	}
}

// Count returns the number of values recorded.
func (h *Histogram) Count() uint64 { return h.m.Count() }

// Min returns the exact smallest value recorded, or 0 if none.
func (h *Histogram) Min() int64 { return h.m.Min() }

// Max returns the exact largest value recorded, or 0 if none.
func (h *Histogram) Max() int64 { return h.m.Max() }

// Mean returns the exact mean, or 0 if none.
func (h *Histogram) Mean() float64 { return h.m.Mean() }

// Stddev returns the exact population standard deviation, or 0 for fewer
// than two values.
func (h *Histogram) Stddev() float64 { return h.m.Stddev() }

// Percentile returns the nearest-rank p-th percentile, p in (0, 100]: the
// midpoint of the bucket holding the ceil(p/100*Count)-th smallest value,
// clamped to [Min, Max]. p >= 100 returns Max and p <= 0 (or NaN) returns
// Min. An empty histogram returns 0.
func (h *Histogram) Percentile(p float64) int64 {
	n := h.m.count
	switch {
	case n == 0:
		return 0
	case !(p > 0):
		return h.m.min
	case p >= 100:
		return h.m.max
	}
	rank := n
	if r := math.Ceil(p * float64(n) / 100); r < float64(n) {
		rank = max(uint64(r), 1)
	}
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return min(max(bucketMid(i), h.m.min), h.m.max)
		}
	}
	return h.m.max
}

// Buckets calls fn for every bucket that holds values, in order: its
// range [lo, hi] in ns (clamped to Min and Max) and its count.
func (h *Histogram) Buckets(fn func(lo, hi int64, count uint64)) {
	for i, c := range h.counts {
		if c == 0 {
			continue
		}
		lo, hi := bucketLow(i), bucketLow(i+1)-1
		if i == numBuckets-1 {
			hi = h.m.max
		}
		fn(max(lo, h.m.min), min(hi, h.m.max), c)
	}
}

// bucketLow returns the smallest value of bucket i.
func bucketLow(i int) int64 {
	if i < subCount {
		return int64(i)
	}
	shift := i>>subBits - 1
	return int64(i-shift<<subBits) << shift
}

// Reset empties h.
func (h *Histogram) Reset() { *h = Histogram{} }
