package stats

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestCorrelation(t *testing.T) {
	for _, tc := range []struct {
		name   string
		xs, ys []float64
		want   float64
	}{
		{"perfect", []float64{1, 2, 3}, []float64{2, 4, 6}, 1},
		{"inverse", []float64{1, 2, 3}, []float64{3, 2, 1}, -1},
		// Σdx·dy = 4 and Σdx² = Σdy² = 5, so r = 4/5.
		{"partial", []float64{1, 2, 3, 4}, []float64{1, 3, 2, 4}, 0.8},
		{"uncorrelated", []float64{1, 2, 3}, []float64{1, 3, 1}, 0},
		{"empty", nil, nil, 0},
		{"one point", []float64{1}, []float64{5}, 0},
		{"constant ys", []float64{1, 2, 3}, []float64{4, 4, 4}, 0},
		{"constant xs", []float64{2, 2, 2}, []float64{1, 2, 3}, 0},
		{"longer xs ignored", []float64{1, 2, 3, 99}, []float64{2, 4, 6}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, Correlation(tc.xs, tc.ys), approx); diff != "" {
				t.Errorf("Correlation (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWindow(t *testing.T) {
	type window struct{ Start, End int }
	for _, tc := range []struct {
		name   string
		n      int
		warmup int
		want   window
	}{
		{"no samples", 0, 2, window{0, -1}},
		{"one sample", 1, 0, window{0, 0}},
		{"warmup", 5, 2, window{2, 4}},
		{"no warmup", 5, 0, window{0, 4}},
		{"negative warmup", 5, -1, window{0, 4}},
		{"warmup too long", 5, 10, window{4, 4}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, e := Window(make([]Sample, tc.n), tc.warmup)
			if diff := cmp.Diff(tc.want, window{s, e}); diff != "" {
				t.Errorf("Window (-want +got):\n%s", diff)
			}
		})
	}
}

func samples(pairs ...int64) []Sample {
	var s []Sample
	for i := 0; i < len(pairs); i += 2 {
		s = append(s, Sample{time.Duration(pairs[i]) * time.Millisecond, uint64(pairs[i+1])})
	}
	return s
}

func TestRate(t *testing.T) {
	steady := samples(0, 0, 1000, 100, 2000, 300, 4000, 700)
	for _, tc := range []struct {
		name       string
		s          []Sample
		start, end int
		want       float64
	}{
		{"whole run", steady, 0, 3, 175},
		{"middle", steady, 1, 2, 200},
		{"last two", steady, 2, 3, 200},
		{"sub-second", samples(0, 0, 500, 50), 0, 1, 100},
		{"same index", steady, 2, 2, 0},
		{"reversed", steady, 2, 1, 0},
		{"negative start", steady, -1, 2, 0},
		{"end out of range", steady, 0, 4, 0},
		{"no time passed", samples(1000, 0, 1000, 50), 0, 1, 0},
		{"count went down", samples(1000, 100, 2000, 50), 0, 1, -50},
		{"empty", nil, 0, -1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, Rate(tc.s, tc.start, tc.end), approx); diff != "" {
				t.Errorf("Rate (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCorrelationOf(t *testing.T) {
	for _, tc := range []struct {
		name       string
		s          []Sample
		start, end int
		want       float64
	}{
		{"steady", samples(0, 0, 1000, 100, 2000, 200), 0, 2, 1},
		// Same points as Correlation's "partial" case.
		{"partial", samples(1000, 1, 2000, 3, 3000, 2, 4000, 4), 0, 3, 0.8},
		{"window excludes burst", samples(0, 0, 1000, 900, 2000, 1000, 3000, 1100), 1, 3, 1},
		{"stalled", samples(0, 5, 1000, 5, 2000, 5), 0, 2, 0},
		{"single point", samples(0, 0, 1000, 100), 1, 1, 0},
		{"out of range", samples(0, 0, 1000, 100), 0, 2, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, CorrelationOf(tc.s, tc.start, tc.end), approx); diff != "" {
				t.Errorf("CorrelationOf (-want +got):\n%s", diff)
			}
		})
	}
}
