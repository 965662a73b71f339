package gating

import (
	"context"
	"math/rand/v2"
	"testing"

	"gotest.tools/v3/assert"

	"github.com/hookperf/hookperf/kit"
)

// fakeRuns is an AB.Run that makes no traffic: A's throughput is about
// 1000 trans/s and B's that times bRatio, each with relative noise of
// ±noise; it counts the runs.
func fakeRuns(bRatio, noise float64, runs *int) func(context.Context, string) (*kit.Result, error) {
	rng := rand.New(rand.NewPCG(1, 2))
	return func(_ context.Context, side string) (*kit.Result, error) {
		*runs++
		r := &kit.Result{Options: kit.DefaultOptions(kit.UDPRR)}
		v := 1000 * (1 + noise*(2*rng.Float64()-1))
		if side == "B" {
			v *= bRatio
		}
		r.Throughput, r.Transactions = v, uint64(v)
		return r, nil
	}
}

// TestEarlyStop: with EarlyStop, a plain regression and a plain no change
// stop at the first look (12 of 20 rounds) with the verdict the full
// rounds give; a change near the threshold, or noise, runs every round;
// and without EarlyStop every round runs.
func TestEarlyStop(t *testing.T) {
	for _, tc := range []struct {
		name         string
		ratio, noise float64
		early        bool
		rounds       int
		verdict      Verdict
		stoppedEarly bool
	}{
		{"20 % slower", 0.8, 0.01, true, 12, Regression, true},
		{"the same", 1, 0.005, true, 12, NoChange, true},
		{"20 % faster", 1.2, 0.01, true, 12, Improvement, true},
		{"5.5 % slower, noisy", 0.945, 0.05, true, 20, -1, false},
		{"20 % slower, no early stop", 0.8, 0.01, false, 20, Regression, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			runs := 0
			ab := AB{Rounds: 20, Units: []string{"trans/s"}, EarlyStop: tc.early, Run: fakeRuns(tc.ratio, tc.noise, &runs)}
			report, err := ab.Do(context.Background())
			assert.NilError(t, err)
			assert.Equal(t, runs, 2*tc.rounds)
			assert.Equal(t, report.Rows[0].A.N, tc.rounds)
			if tc.verdict >= 0 {
				assert.Equal(t, report.Verdict, tc.verdict, "%+v", report.Rows[0])
			}
			assert.Equal(t, report.Note != "", tc.stoppedEarly, "note %q", report.Note)
		})
	}
}

func TestIsLook(t *testing.T) {
	var looks []int
	for n := 1; n <= 30; n++ {
		if isLook(n, 30) {
			looks = append(looks, n)
		}
	}
	assert.DeepEqual(t, looks, []int{12, 16, 20, 24, 28})
	assert.Assert(t, !isLook(12, 12), "the last round is no interim look")
}

// TestEarlyStopErrorRates: the early stop keeps the gate's error rates
// (A/A called a regression in at most 5 % of trials, a 10 % loss found in
// at least 95 %) while saving rounds.
func TestEarlyStopErrorRates(t *testing.T) {
	const trials = 300
	rate := func(ratio float64) (regressions, rounds int) {
		t.Helper()
		for i := 0; i < trials; i++ {
			runs := 0
			run := fakeRuns(ratio, 0.05, &runs)
			seeded := rand.New(rand.NewPCG(uint64(i), 7))
			ab := AB{Rounds: 20, Units: []string{"trans/s"}, EarlyStop: true, Run: func(ctx context.Context, side string) (*kit.Result, error) {
				r, err := run(ctx, side)
				r.Throughput *= 1 + 0.05*(2*seeded.Float64()-1) // each trial its own noise
				return r, err
			}}
			report, err := ab.Do(context.Background())
			assert.NilError(t, err)
			if report.Verdict == Regression {
				regressions++
			}
			rounds += report.Rows[0].A.N
		}
		return regressions, rounds
	}
	falseAlarms, aaRounds := rate(1)
	found, abRounds := rate(0.9)
	t.Logf("A/A: %d of %d called a regression, %.1f rounds a trial; 10 %% loss: found %d of %d, %.1f rounds a trial",
		falseAlarms, trials, float64(aaRounds)/trials, found, trials, float64(abRounds)/trials)
	assert.Assert(t, falseAlarms <= trials*5/100, "%d of %d A/A trials called a regression", falseAlarms, trials)
	assert.Assert(t, found >= trials*95/100, "a 10 %% loss found in %d of %d trials", found, trials)
	assert.Assert(t, abRounds < 20*trials*3/4, "a 10 %% loss took %d rounds in %d trials: the early stop saved little", abRounds, trials)
}
