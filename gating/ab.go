package gating

import (
	"context"
	"errors"
	"fmt"

	"github.com/hookperf/hookperf/kit"
)

// AB runs two configurations, A and B, in interleaved rounds and compares
// them paired (ComparePaired): what `hookperf ab` does, for Go code such
// as a scenario that asserts "B is not slower than A by more than 5 %".
type AB struct {
	// Rounds is how many rounds of one A run and one B run (default 20).
	// They alternate ABBA: A,B then B,A, so drift hits both alike.
	Rounds int
	// Config is the gate (zero: DefaultConfig).
	Config Config
	// Units, if set, limits the metrics compared (e.g. "trans/s").
	Units []string
	// Run runs side "A" or "B" once and returns its result.
	Run func(ctx context.Context, side string) (*kit.Result, error)
	// Progress, if set, is told each round's figures as it ends.
	Progress func(round int, a, b map[string]float64)
	// EarlyStop makes Rounds the most rounds: at each interim look (after
	// round 12, 16, 20, … before the last) the rounds stop if every
	// metric is settled at a strict level (see settled).
	EarlyStop bool
}

// The early stop is a Haybittle–Peto design: an interim look settles a
// metric only at p < earlyAlpha (a regression or an improvement) or with
// a (1 − earlyAlpha) interval inside the threshold (no change), so that
// each look spends at most earlyAlpha of the error rates and the last
// look keeps its level to within that (three looks of 20 rounds: 0.003).
// The sign test first reaches p < 0.001 at 11 rounds all one way, so the
// first look is at 12, the next every 4 rounds.
const (
	earlyAlpha     = 0.001
	earlyFirstLook = 12
	earlyLookEvery = 4
)

// settled reports whether the rounds so far settle every metric at the
// interim looks' strict level.
func (ab *AB) settled(a, b *Set) bool {
	cfg := ab.Config.withDefaults()
	strict := Config{Alpha: earlyAlpha, Threshold: cfg.Threshold}
	rows, err := compareRoundsAt(Rounds{A: a, B: b}, ab.Units, strict, 1-earlyAlpha)
	if err != nil {
		return false
	}
	for _, r := range rows {
		if r.Verdict == Inconclusive || (r.Verdict == NoChange && r.Why != "") {
			// "significant, but smaller than the threshold" is a close
			// call: it gets all the rounds.
			return false
		}
	}
	return true
}

// isLook reports whether an early stop may happen after round n of max.
func isLook(n, max int) bool {
	return n < max && n >= earlyFirstLook && (n-earlyFirstLook)%earlyLookEvery == 0
}

// Do runs the rounds and returns the comparison. A run that fails ends
// it with an error naming the round and side; the report of the whole
// rounds before it is returned with the error when there is one.
func (ab *AB) Do(ctx context.Context) (*Report, error) {
	if ab.Run == nil {
		return nil, errors.New("gating: AB.Run is not set")
	}
	rounds := ab.Rounds
	if rounds <= 0 {
		rounds = 20
	}
	a, b := &Set{}, &Set{}
	var runErr error
	for i := 0; i < rounds && runErr == nil; i++ {
		order := []string{"A", "B"}
		if i%2 == 1 {
			order = []string{"B", "A"}
		}
		got := map[string]map[string]float64{}
		var bench = map[string]string{}
		for _, side := range order {
			res, err := ab.Run(ctx, side)
			if err == nil && res == nil {
				err = errors.New("the run returned no result")
			}
			if err != nil {
				runErr = fmt.Errorf("round %d, %s: %w", i+1, side, err)
				break
			}
			name, metrics, err := ParseLine(kit.GoBenchLine(res))
			if err != nil {
				runErr = err
				break
			}
			bench[side], got[side] = name, metrics
		}
		if runErr != nil {
			break // a round only one side finished is left out
		}
		a.Add(bench["A"], got["A"])
		b.Add(bench["B"], got["B"])
		if ab.Progress != nil {
			ab.Progress(i+1, got["A"], got["B"])
		}
		if ab.EarlyStop && isLook(i+1, rounds) && ab.settled(a, b) {
			// The table is the usual one (95 % intervals, α): a metric
			// settled at the strict level has the same verdict at it.
			rows, err := CompareRounds(Rounds{A: a, B: b}, ab.Units, ab.Config)
			if err != nil {
				return nil, err
			}
			note := fmt.Sprintf("stopped early after %d of %d rounds: every metric was settled at p < %g or within a %g %% interval", i+1, rounds, earlyAlpha, 100*(1-earlyAlpha))
			return NewReport(rows, ab.Config, note), nil
		}
	}
	if len(a.Benches) == 0 {
		return nil, runErr
	}
	rows, err := CompareRounds(Rounds{A: a, B: b}, ab.Units, ab.Config)
	if err != nil {
		return nil, errors.Join(runErr, err)
	}
	return NewReport(rows, ab.Config, ""), runErr
}
