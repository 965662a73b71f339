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
