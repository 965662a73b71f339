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
	// 20000 rules a packet cost far more than noise.
	assert.Assert(t, with < before/2 && with < after/2, "before %v, with 20000 rules %v, after removing them %v", before, with, after)
}
