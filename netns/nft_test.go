package netns_test

import (
	"testing"
	"time"

	"gotest.tools/v3/assert"

	"github.com/hookperf/hookperf/hooktest"
	"github.com/hookperf/hookperf/kit"
	"github.com/hookperf/hookperf/netns/nstest"
)

// TestNftCost: rules that match nothing on the client's output path cost
// throughput in proportion to their number, and removing them restores it.
func TestNftCost(t *testing.T) {
	topo := nstest.Pair(t, nstest.PairConfig{})
	rr := hooktest.Config{Workload: kit.TCPRR, Options: func(o *kit.Options) { o.TestLength = 500 * time.Millisecond }}
	run := func() float64 {
		t.Helper()
		return hooktest.Run(t, topo, rr).Client.Kit.Throughput
	}
	before := run()
	remove, err := topo.Client.AddNftCost(20000)
	assert.NilError(t, err)
	with := run()
	assert.NilError(t, remove())
	after := run()
	t.Logf("tcp_rr: %.0f trans/s, with 20000 rules %.0f, after removing them %.0f", before, with, after)
	// 20000 rules a packet cost far more than noise; a busy machine (the
	// other packages' tests) may slow one of the runs without them, so
	// the better of the two is the baseline.
	assert.Assert(t, with < max(before, after)/2, "before %v, with 20000 rules %v, after removing them %v", before, with, after)
	assert.Assert(t, after > with, "removing the rules did not restore anything: with %v, after %v", with, after)
}
