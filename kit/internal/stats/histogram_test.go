package stats

import (
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestBucket(t *testing.T) {
	for _, tc := range []struct {
		name      string
		v         uint64
		wantIndex int
		wantMid   int64
	}{
		{"zero", 0, 0, 0},
		{"last exact", 127, 127, 127},
		{"first octave", 128, 128, 128},
		{"end of first octave", 255, 255, 255},
		{"width 2 low", 256, 256, 256},
		{"width 2 high", 257, 256, 256},
		{"next width 2", 258, 257, 258},
		{"end of width 2", 511, 383, 510},
		{"width 4", 999, 505, 997},
		{"top of range", 1<<38 - 1, 4095, 255<<30 + (1<<30-1)/2},
		{"above range", 1 << 38, 4095, 255<<30 + (1<<30-1)/2},
		{"max int64", math.MaxInt64, 4095, 255<<30 + (1<<30-1)/2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			i := bucketIndex(tc.v)
			if diff := cmp.Diff(tc.wantIndex, i); diff != "" {
				t.Errorf("bucketIndex(%d) (-want +got):\n%s", tc.v, diff)
			}
			if diff := cmp.Diff(tc.wantMid, bucketMid(i)); diff != "" {
				t.Errorf("bucketMid(%d) (-want +got):\n%s", i, diff)
			}
		})
	}
}

func TestBucketLayout(t *testing.T) {
	if numBuckets != 4096 {
		t.Fatalf("numBuckets = %d, want 4096", numBuckets)
	}
	// Every bucket's midpoint maps back to it, so buckets are contiguous.
	for i := range numBuckets {
		if got := bucketIndex(uint64(bucketMid(i))); got != i {
			t.Fatalf("bucketIndex(bucketMid(%d)) = %d", i, got)
		}
	}
	// The midpoint is within 1% (in fact 1/256) of any value from 1 ns to
	// 200 s.
	for v := 1.0; v < 200e9; v = v*1.001 + 1 {
		mid := float64(bucketMid(bucketIndex(uint64(v))))
		if e := math.Abs(mid-float64(uint64(v))) / float64(uint64(v)); e > 1.0/256 {
			t.Fatalf("value %d: midpoint %v off by %.4f%%", uint64(v), mid, 100*e)
		}
	}
}

func record(vs ...int64) *Histogram {
	var h Histogram
	for _, v := range vs {
		h.Record(v)
	}
	return &h
}

func seq(lo, hi int64) []int64 {
	var vs []int64
	for v := lo; v <= hi; v++ {
		vs = append(vs, v)
	}
	return vs
}

func TestHistogramPercentile(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []int64
		p    float64
		want int64
	}{
		{"empty", nil, 50, 0},
		{"empty p100", nil, 100, 0},
		{"1..100 p50", seq(1, 100), 50, 50},
		{"1..100 p90", seq(1, 100), 90, 90},
		{"1..100 p99", seq(1, 100), 99, 99},
		{"1..100 p99.9", seq(1, 100), 99.9, 100},
		{"1..100 p0.5", seq(1, 100), 0.5, 1},
		{"1..100 p100", seq(1, 100), 100, 100},
		{"1..100 p0 gives min", seq(1, 100), 0, 1},
		{"1..100 NaN gives min", seq(1, 100), math.NaN(), 1},
		{"1..100 p101 gives max", seq(1, 100), 101, 100},
		{"1..1000 p50", seq(1, 1000), 50, 500},
		{"1..1000 p90", seq(1, 1000), 90, 901},     // bucket 900..903
		{"1..1000 p99.9", seq(1, 1000), 99.9, 997}, // bucket 996..999
		{"1..1000 p100", seq(1, 1000), 100, 1000},
		{"clamped to min", []int64{5e9}, 1, 5e9},
		{"clamped to max", []int64{5e9}, 99, 5e9},
		{"above range p50", []int64{1, 1e12}, 50, 1},
		{"above range p99", []int64{1, 1e12}, 99, 255<<30 + (1<<30-1)/2},
		{"above range p100", []int64{1, 1e12}, 100, 1e12},
		{"negative as zero", []int64{-5, 10}, 50, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := record(tc.in...).Percentile(tc.p)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Percentile(%v) (-want +got):\n%s", tc.p, diff)
			}
		})
	}
}

func TestHistogramSummary(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []int64
		want summary
	}{
		{"empty", nil, summary{}},
		{"classic", []int64{2, 4, 4, 4, 5, 5, 7, 9}, summary{8, 2, 9, 5, 2}},
		{"exact above range", []int64{1e12, 3e12}, summary{2, 1e12, 3e12, 2e12, 1e12}},
		{"negative as zero", []int64{-1, 4}, summary{2, 0, 4, 2, 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, summarize(record(tc.in...)), approx); diff != "" {
				t.Errorf("summary (-want +got):\n%s", diff)
			}
		})
	}
}

func TestHistogramMergeReset(t *testing.T) {
	allow := cmp.AllowUnexported(Histogram{}, Moments{})
	for _, tc := range []struct {
		name string
		a, b []int64
	}{
		{"split", seq(1, 500), seq(501, 1000)},
		{"interleaved", []int64{7, 3e9, 300}, []int64{1, 2e12, 300}},
		{"into empty", nil, seq(1, 10)},
		{"from empty", seq(1, 10), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := record(tc.a...)
			got.Merge(record(tc.b...))
			want := record(append(append([]int64{}, tc.a...), tc.b...)...)
			if diff := cmp.Diff(want, got, allow); diff != "" {
				t.Errorf("merged (-want +got):\n%s", diff)
			}
			got.Reset()
			if diff := cmp.Diff(&Histogram{}, got, allow); diff != "" {
				t.Errorf("after Reset (-want +got):\n%s", diff)
			}
		})
	}
}

func TestHistogramRecordAllocs(t *testing.T) {
	var h Histogram
	if n := testing.AllocsPerRun(100, func() { h.Record(123456) }); n != 0 {
		t.Errorf("Record allocates %v times per call, want 0", n)
	}
}

func BenchmarkHistogramRecord(b *testing.B) {
	var h Histogram
	b.ReportAllocs()
	v := int64(1)
	for b.Loop() {
		h.Record(v)
		v = (v*7 + 13) & (1<<34 - 1) // vary the bucket
	}
}

// TestBuckets: the buckets cover every value once, in order, each range
// holding the values recorded into it.
func TestBuckets(t *testing.T) {
	var h Histogram
	values := []int64{3, 3, 100, 1000, 1001, 123456, 5e9}
	for _, v := range values {
		h.Record(v)
	}
	var total uint64
	last := int64(-1)
	h.Buckets(func(lo, hi int64, count uint64) {
		if lo <= last || hi < lo {
			t.Errorf("bucket [%d, %d] after %d", lo, hi, last)
		}
		n := uint64(0)
		for _, v := range values {
			if v >= lo && v <= hi {
				n++
			}
		}
		if n != count {
			t.Errorf("bucket [%d, %d] counts %d, holds %d of the values", lo, hi, count, n)
		}
		last = hi
		total += count
	})
	if total != uint64(len(values)) {
		t.Errorf("buckets count %d values, want %d", total, len(values))
	}
}
