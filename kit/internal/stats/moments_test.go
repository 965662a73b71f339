package stats

import (
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// summary is what the accessors of Moments and Histogram report.
type summary struct {
	Count        uint64
	Min, Max     int64
	Mean, Stddev float64
}

type summarizer interface {
	Count() uint64
	Min() int64
	Max() int64
	Mean() float64
	Stddev() float64
}

func summarize(s summarizer) summary {
	return summary{s.Count(), s.Min(), s.Max(), s.Mean(), s.Stddev()}
}

// x32 squared is just below 2^64.
const x32 = 1<<32 - 1

var approx = cmpopts.EquateApprox(0, 1e-12)

func TestMoments(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []int64
		want summary
	}{
		{"empty", nil, summary{}},
		{"single", []int64{5}, summary{1, 5, 5, 5, 0}},
		{"classic", []int64{2, 4, 4, 4, 5, 5, 7, 9}, summary{8, 2, 9, 5, 2}},
		{"negative as zero", []int64{-3, 3}, summary{2, 0, 3, 1.5, 1.5}},
		// Float sums of squares would lose these to cancellation.
		{"large close", []int64{1e12, 1e12 + 2}, summary{2, 1e12, 1e12 + 2, 1e12 + 1, 1}},
		{"squares past 2^64", []int64{1 << 40, 1<<40 + 2}, summary{2, 1 << 40, 1<<40 + 2, 1<<40 + 1, 1}},
		// (2^32-1)^2 is just under 2^64, so adding two carries.
		{"carry", []int64{x32, x32, x32 + 3}, summary{3, x32, x32 + 3, x32 + 1, math.Sqrt2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var m Moments
			for _, v := range tc.in {
				m.Add(v)
			}
			if diff := cmp.Diff(tc.want, summarize(&m), approx); diff != "" {
				t.Errorf("summary (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMomentsMerge(t *testing.T) {
	for _, tc := range []struct {
		name string
		a, b []int64
		want summary
	}{
		{"both empty", nil, nil, summary{}},
		{"into empty", nil, []int64{3, 7}, summary{2, 3, 7, 5, 2}},
		{"from empty", []int64{3, 7}, nil, summary{2, 3, 7, 5, 2}},
		{"split", []int64{4, 9, 2}, []int64{5, 4, 7, 4, 5}, summary{8, 2, 9, 5, 2}},
		{"carry", []int64{x32}, []int64{x32, x32 + 3}, summary{3, x32, x32 + 3, x32 + 1, math.Sqrt2}},
		{"min from other", []int64{10}, []int64{1}, summary{2, 1, 10, 5.5, 4.5}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var a, b Moments
			for _, v := range tc.a {
				a.Add(v)
			}
			for _, v := range tc.b {
				b.Add(v)
			}
			a.Merge(&b)
			if diff := cmp.Diff(tc.want, summarize(&a), approx); diff != "" {
				t.Errorf("summary (-want +got):\n%s", diff)
			}
		})
	}
}
