package gating

import (
	"bytes"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"gotest.tools/v3/assert"
)

// The reference values below were computed apart from this code, with
// Python's exact integer arithmetic: the U test's p by enumerating every
// split of the pooled values (C(12,6) and C(14,7) of them), the sign
// test's from binomial coefficients, the median's interval as the widest
// symmetric pair of order statistics covering at least 95 %.

func TestUTestReference(t *testing.T) {
	tests := []struct {
		a, b []float64
		p    float64
	}{
		{[]float64{10, 12, 14, 16, 18, 20}, []float64{13, 15, 17, 19, 21, 23}, 0.24025974025974026},
		{[]float64{1, 2, 3, 4, 5, 6}, []float64{7, 8, 9, 10, 11, 12}, 0.0021645021645021645},
		{[]float64{100, 101, 99, 102, 98, 103, 97}, []float64{90, 91, 89, 92, 88, 93, 87}, 0.0005827505827505828},
	}
	for _, tc := range tests {
		r := Compare("B", "trans/s", tc.a, tc.b, DefaultConfig)
		assert.Assert(t, math.Abs(r.P-tc.p) < 1e-9, "p=%v, want %v", r.P, tc.p)
	}
}

func TestSignTestReference(t *testing.T) {
	tests := []struct {
		up, n int
		p     float64
	}{
		{9, 10, 0.021484375}, {8, 10, 0.109375}, {10, 10, 0.001953125},
		{5, 10, 1}, {6, 6, 0.03125}, {0, 7, 0.015625}, {12, 20, 0.5034446716308594},
	}
	for _, tc := range tests {
		ratios := make([]float64, 0, tc.n+2)
		for i := 0; i < tc.n; i++ {
			if i < tc.up {
				ratios = append(ratios, 1.1)
			} else {
				ratios = append(ratios, 0.9)
			}
		}
		ratios = append(ratios, 1, 1) // ties carry no sign
		assert.Assert(t, math.Abs(signTest(ratios)-tc.p) < 1e-12, "%d of %d up: p=%v, want %v", tc.up, tc.n, signTest(ratios), tc.p)
	}
}

// TestPairedIntervalReference: the median ratio's 95 % interval is the
// 2nd and 9th of 10 ordered ratios, the 6th and 15th of 20.
func TestPairedIntervalReference(t *testing.T) {
	for _, tc := range []struct{ n, lo, hi int }{{10, 2, 9}, {20, 6, 15}} {
		a, b := make([]float64, tc.n), make([]float64, tc.n)
		for i := range a {
			a[i], b[i] = 100, 100+float64(i+1) // ratio i: 1 + (i+1)/100
		}
		r, err := ComparePaired("B", "trans/s", a, b, DefaultConfig)
		assert.NilError(t, err)
		assert.Assert(t, math.Abs(r.Lo-float64(tc.lo)/100) < 1e-12 && math.Abs(r.Hi-float64(tc.hi)/100) < 1e-12,
			"n=%d: interval [%v, %v], want the %dth and %dth ratios", tc.n, r.Lo, r.Hi, tc.lo, tc.hi)
	}
}

// noisy returns n values around center with ±spread uniform noise.
func noisy(rng *rand.Rand, n int, center, spread float64) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = center * (1 + spread*(2*rng.Float64()-1))
	}
	return v
}

// TestVerdicts: the gate can fail and can pass. A 20 % shift for the
// worse is a regression, for the better an improvement; identical runs are
// no change; two runs a side, or an interval wider than the threshold,
// are inconclusive; a significant 1 % shift is below the threshold.
func TestVerdicts(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	base := noisy(rng, 10, 1000, 0.02)
	scaled := func(f float64) []float64 {
		v := make([]float64, len(base))
		for i, x := range base {
			v[i] = x * f * (1 + 0.01*(2*rng.Float64()-1))
		}
		return v
	}
	tests := []struct {
		name   string
		metric string
		a, b   []float64
		want   Verdict
	}{
		{"throughput down 20%", "trans/s", base, scaled(0.8), Regression},
		{"throughput up 20%", "trans/s", base, scaled(1.2), Improvement},
		{"latency up 20%", "lat-p99-ns", base, scaled(1.2), Regression},
		{"latency down 20%", "lat-p99-ns", base, scaled(0.8), Improvement},
		{"CPU per transaction up 20%", "cpu-us/trans", base, scaled(1.2), Regression},
		{"identical", "trans/s", base, base, NoChange},
		{"1% down, significant", "trans/s", base, scaled(0.99), NoChange},
		{"two runs a side", "trans/s", base[:2], scaled(0.5)[:2], Inconclusive},
		{"noise wider than the threshold", "trans/s",
			[]float64{500, 1500, 800, 1200, 1000, 900}, []float64{1400, 600, 1100, 850, 1300, 700}, Inconclusive},
	}
	for _, tc := range tests {
		t.Run("unpaired/"+tc.name, func(t *testing.T) {
			r := Compare("B", tc.metric, tc.a, tc.b, DefaultConfig)
			assert.Equal(t, r.Verdict, tc.want, "%+v", r)
		})
		t.Run("paired/"+tc.name, func(t *testing.T) {
			r, err := ComparePaired("B", tc.metric, tc.a, tc.b, DefaultConfig)
			assert.NilError(t, err)
			assert.Equal(t, r.Verdict, tc.want, "%+v", r)
		})
	}
}

func TestGate(t *testing.T) {
	rows := func(vs ...Verdict) []Row {
		var r []Row
		for _, v := range vs {
			r = append(r, Row{Verdict: v})
		}
		return r
	}
	assert.Equal(t, Gate(rows(NoChange, Improvement)), Improvement)
	assert.Equal(t, Gate(rows(NoChange, Inconclusive, Improvement)), Inconclusive)
	assert.Equal(t, Gate(rows(Inconclusive, Regression)), Regression)
	assert.Equal(t, Gate(rows(NoChange)), NoChange)
}

func TestZeroRetransmits(t *testing.T) {
	zeros := []float64{0, 0, 0, 0, 0, 0}
	r := Compare("B", "retrans", zeros, zeros, DefaultConfig)
	assert.Equal(t, r.Change, 0.0)
	assert.Equal(t, r.Verdict, NoChange, "%+v", r)
	p, err := ComparePaired("B", "retrans", zeros, zeros, DefaultConfig)
	assert.NilError(t, err)
	assert.Equal(t, p.Verdict, NoChange, "%+v", p)
}

func TestPairedNeedsRounds(t *testing.T) {
	_, err := ComparePaired("B", "trans/s", []float64{1, 2}, []float64{1}, DefaultConfig)
	assert.ErrorContains(t, err, "2 rounds of A but 1 of B")
}

// TestErrorRates: on synthetic runs with ±5 % noise, 10 runs a side, the
// gate calls an A/A comparison a regression in at most 5 % of trials and
// finds a 20 % regression in at least 95 %, paired and unpaired.
func TestErrorRates(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const trials = 500
	for _, paired := range []bool{false, true} {
		falseAlarms, found := 0, 0
		for i := 0; i < trials; i++ {
			a, aa, b := noisy(rng, 10, 1000, 0.05), noisy(rng, 10, 1000, 0.05), noisy(rng, 10, 800, 0.05)
			compare := func(x, y []float64) Verdict {
				if paired {
					r, err := ComparePaired("B", "trans/s", x, y, DefaultConfig)
					assert.NilError(t, err)
					return r.Verdict
				}
				return Compare("B", "trans/s", x, y, DefaultConfig).Verdict
			}
			if compare(a, aa) == Regression {
				falseAlarms++
			}
			if compare(a, b) == Regression {
				found++
			}
		}
		assert.Assert(t, falseAlarms <= trials*5/100, "paired=%v: %d of %d A/A trials called a regression", paired, falseAlarms, trials)
		assert.Assert(t, found >= trials*95/100, "paired=%v: a 20%% regression found in %d of %d trials", paired, found, trials)
	}
}

// TestFewRuns: five runs a side bound the change through the ratios
// (identical sets are no change, a 20 % shift a regression), but where
// ratios mean nothing (zeros) the medians' own intervals need 6 runs, and
// the verdict says so.
func TestFewRuns(t *testing.T) {
	a := []float64{100, 101, 99, 102, 98}
	same := Compare("B", "trans/s", a, a, DefaultConfig)
	assert.Equal(t, same.Verdict, NoChange, "%+v", same)
	shifted := Compare("B", "trans/s", a, []float64{80, 81, 79, 82, 78}, DefaultConfig)
	assert.Equal(t, shifted.Verdict, Regression, "%+v", shifted)
	zeros := []float64{0, 1, 0, 2, 1}
	z := Compare("B", "retrans", zeros, zeros, DefaultConfig)
	assert.Equal(t, z.Verdict, Inconclusive)
	assert.Equal(t, z.Why, "not significant, and 5 and 5 runs are too few to bound the medians (6 a side at least): more runs")
}

// TestShiftIntervalReference: the Hodges–Lehmann estimate and Moses
// interval of the ratio B/A, against values computed apart from this code
// (Python: the U distribution by counting every split of the ranks, the
// order statistics of the log ratios).
func TestShiftIntervalReference(t *testing.T) {
	for _, tc := range []struct {
		a, b           []float64
		change, lo, hi float64
	}{
		{[]float64{10, 12, 14, 16, 18, 20}, []float64{13, 15, 17, 19, 21, 23}, 0.20081817346103067, -0.1499999999999998, 0.6999999999999997},
		{[]float64{100, 101, 99, 102, 98, 103, 97}, []float64{90, 91, 89, 92, 88, 93, 87}, -0.10000000000000044, -0.1274509803921567, -0.07142857142857206},
		{[]float64{100, 101, 99, 102, 98}, []float64{80, 81, 79, 82, 78}, -0.20000000000000068, -0.22549019607843104, -0.17346938775510207},
		{[]float64{5.0, 5.2, 4.9, 5.1}, []float64{5.0, 5.3, 4.8, 5.05}, -0.004914034652597206, -0.07692307692307689, 0.0816326530612243},
	} {
		change, lo, hi, ok := shiftInterval(tc.a, tc.b, confidence)
		assert.Assert(t, ok)
		for _, x := range [][2]float64{{change, tc.change}, {lo, tc.lo}, {hi, tc.hi}} {
			assert.Assert(t, math.Abs(x[0]-x[1]) < 1e-9, "%v vs %v: got %v, %v, %v; want %v, %v, %v", tc.a, tc.b, change, lo, hi, tc.change, tc.lo, tc.hi)
		}
	}
	// Three runs a side cannot reach 95 %, and a zero has no ratio.
	_, _, _, ok := shiftInterval([]float64{1, 2, 3}, []float64{1, 2, 3}, confidence)
	assert.Assert(t, !ok)
	_, _, _, ok = shiftInterval([]float64{0, 1, 2, 3, 4, 5}, []float64{1, 2, 3, 4, 5, 6}, confidence)
	assert.Assert(t, !ok)
	// Large samples take the normal approximation and still cover.
	a, b := make([]float64, 60), make([]float64, 60)
	for i := range a {
		a[i], b[i] = 100+float64(i%7), 90+float64(i%7)*0.9
	}
	change, lo, hi, ok := shiftInterval(a, b, confidence)
	assert.Assert(t, ok && lo <= change && change <= hi && lo < -0.09 && hi > -0.11, "%v [%v, %v]", change, lo, hi)
}

// TestReadJSON: a report read back from its JSON is the report, the
// runs' values and infinite interval bounds (null in JSON) included.
func TestReadJSON(t *testing.T) {
	paired, err := ComparePaired("BenchmarkTCPRR", "trans/s", []float64{10, 11, 12, 10, 11, 12}, []float64{8, 9, 10, 8, 9, 10}, DefaultConfig)
	if err != nil {
		t.Fatal(err)
	}
	few := Compare("BenchmarkTCPRR", "lat-p99-ns", []float64{5, 6, 7}, []float64{5, 6, 7}, DefaultConfig) // intervals ±Inf
	want := NewReport([]Row{paired, few}, DefaultConfig, "a note")
	var buf bytes.Buffer
	if err := want.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	got, err := ReadJSON(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateNaNs()); diff != "" {
		t.Errorf("read back (-want +got):\n%s", diff)
	}
	if _, err := ReadJSON(strings.NewReader(`{"options": {}}`)); err == nil || !strings.Contains(err.Error(), "not a hookperf verdict") {
		t.Errorf("a run's JSON read as a verdict: %v", err)
	}
}
