package hooktest

import (
	"context"
	"testing"

	"github.com/hookperf/hookperf/gating"
	"github.com/hookperf/hookperf/kit"
	"github.com/hookperf/hookperf/netns/nstest"
)

// AB runs a and b between the namespaces of topo in interleaved rounds
// (ab.Rounds, ABBA order) and returns their paired comparison, failing
// the test if a run fails: a scenario asserts on the verdict, e.g.
//
//	report := hooktest.AB(t, topo, cubic, bbr, gating.AB{Units: []string{"Mbit/s"}})
//	assert.Assert(t, report.Verdict != gating.Regression, "bbr is slower than cubic here")
//
// ab.Run is set by AB; the client's figures are compared.
func AB(t testing.TB, topo *nstest.Topology, a, b Config, ab gating.AB) *gating.Report {
	t.Helper()
	ab.Run = func(ctx context.Context, side string) (*kit.Result, error) {
		cfg := a
		if side == "B" {
			cfg = b
		}
		res, err := Try(t, topo, cfg)
		if err != nil {
			return nil, err
		}
		return res.Client.Kit, nil
	}
	report, err := ab.Do(context.Background())
	if err != nil {
		t.Fatalf("hooktest: A/B: %v", err)
	}
	return report
}
