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
// ab.Run is set by AB; the client's figures are compared. When A and B
// differ by the network rather than by options, use ABSides.
func AB(t testing.TB, topo *nstest.Topology, a, b Config, ab gating.AB) *gating.Report {
	t.Helper()
	return ABSides(t, Side{topo, a}, Side{topo, b}, ab)
}

// Side is one configuration of an A/B run: what runs, and the namespaces
// it runs between.
type Side struct {
	Topology *nstest.Topology
	Config   Config
}

// ABSides is AB with A and B each between namespaces of its own, so that
// they may differ by network settings (a sysctl, a qdisc, an MTU, an
// nftables ruleset) as well as by options:
//
//	a, b := nstest.Pair(t, nstest.PairConfig{}), nstest.Pair(t, nstest.PairConfig{})
//	err := b.Apply(netns.Settings{Sysctls: []netns.HostSysctl{{Name: "net.ipv4.tcp_congestion_control", Value: "bbr"}}})
//	report := hooktest.ABSides(t, hooktest.Side{a, stream}, hooktest.Side{b, stream}, gating.AB{Units: []string{"Mbit/s"}})
func ABSides(t testing.TB, a, b Side, ab gating.AB) *gating.Report {
	t.Helper()
	ab.Run = func(ctx context.Context, name string) (*kit.Result, error) {
		side := a
		if name == "B" {
			side = b
		}
		res, err := Try(t, side.Topology, side.Config)
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
