package scenarios

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gotest.tools/v3/assert"

	"github.com/hookperf/hookperf/hooktest"
	"github.com/hookperf/hookperf/kit"
	"github.com/hookperf/hookperf/luahooks"
	"github.com/hookperf/hookperf/netns/nstest"
)

// perWorkerCounts is one worker's entry of per-worker.lua's counts.
type perWorkerCounts struct {
	Transactions, Bytes, Sockets float64
}

func perWorkerEntries(t testing.TB, r *luahooks.Result) []perWorkerCounts {
	t.Helper()
	var out []perWorkerCounts
	for i, v := range r.Collected["counts"] {
		m, ok := v.(map[string]any)
		assert.Assert(t, ok, "worker %d's counts are a %T: %v", i+1, v, v)
		var c perWorkerCounts
		for _, f := range []struct {
			name string
			v    *float64
		}{{"transactions", &c.Transactions}, {"bytes", &c.Bytes}, {"sockets", &c.Sockets}} {
			*f.v, ok = m[f.name].(float64)
			assert.Assert(t, ok, "worker %d's counts have no number %q: %v", i+1, f.name, m)
		}
		out = append(out, c)
	}
	return out
}

// perWorkerLastSamples is the kit's own final count of each worker: the
// transactions of its last sample.
func perWorkerLastSamples(r *kit.Result, workers int) []float64 {
	last := make([]float64, workers)
	for _, s := range r.WorkerSamples {
		if s.Worker >= 0 && s.Worker < workers {
			last[s.Worker] = float64(s.Transactions)
		}
	}
	return last
}

const (
	perWorkerThreads = 4
	perWorkerFlows   = 8
	perWorkerPerFlow = 100 // transactions per flow: -l -N splits N evenly
)

func perWorkerRun(tb testing.TB, topo *nstest.Topology, transactions int64) *hooktest.Result {
	tb.Helper()
	return hooktest.Run(tb, topo, hooktest.Config{
		Script:   "testdata/per-worker.lua",
		Workload: kit.TCPRR,
		Options: func(o *kit.Options) {
			o.TestLength, o.Transactions = 0, transactions
			o.NumThreads, o.NumFlows = perWorkerThreads, perWorkerFlows
		},
	})
}

// TestPerWorker: values collected from several threads. tcp_rr with -T 4
// -F 8 -l -800 on both sides: each worker counts its transactions, bytes
// and sockets in its own hooks; each side gets 4 entries, one per worker,
// whose sums are the kit's totals exactly. A client worker owns 2 flows of
// 100 transactions; a server worker serves the connections the kernel's
// reuseport hash gave it, 100 transactions each.
func TestPerWorker(t *testing.T) {
	topo := nstest.Pair(t, nstest.PairConfig{})
	const n = perWorkerFlows * perWorkerPerFlow
	res := perWorkerRun(t, topo, n)

	// Client: the same share for every worker.
	client := perWorkerEntries(t, res.Client)
	want := make([]perWorkerCounts, perWorkerThreads)
	for i := range want {
		want[i] = perWorkerCounts{2 * perWorkerPerFlow, 2 * perWorkerPerFlow, 2}
	}
	if diff := cmp.Diff(want, client); diff != "" {
		t.Errorf("client workers' counts (-want +got):\n%s", diff)
	}

	// Server: per worker, 100 transactions (of one byte) per connection it
	// served; every connection landed somewhere.
	server := perWorkerEntries(t, res.Server)
	assert.Equal(t, len(server), perWorkerThreads, "server entries: %+v", server)
	var conns float64
	for i, c := range server {
		want := perWorkerCounts{c.Sockets * perWorkerPerFlow, c.Sockets * perWorkerPerFlow, c.Sockets}
		assert.Equal(t, c, want, "server worker %d served %v connections", i+1, c.Sockets)
		conns += c.Sockets
	}
	assert.Equal(t, conns, float64(perWorkerFlows), "connections served by the server's workers: %+v", server)

	for _, side := range []struct {
		name    string
		r       *luahooks.Result
		entries []perWorkerCounts
	}{{"client", res.Client, client}, {"server", res.Server, server}} {
		var tx, bytes float64
		for _, c := range side.entries {
			tx, bytes = tx+c.Transactions, bytes+c.Bytes
		}
		// The sums are the kit's totals, exactly.
		assert.Equal(t, tx, float64(side.r.Kit.Transactions), "%s: the workers' transactions summed vs the kit's total", side.name)
		assert.Equal(t, bytes, float64(side.r.Kit.BytesRead), "%s: the workers' bytes summed vs the kit's bytes read", side.name)
		assert.Equal(t, tx, float64(n), "%s: transactions summed vs -l -%d", side.name, n)
		// And each worker's count is the kit's count of that worker.
		var hooks []float64
		for _, c := range side.entries {
			hooks = append(hooks, c.Transactions)
		}
		if diff := cmp.Diff(perWorkerLastSamples(side.r.Kit, perWorkerThreads), hooks); diff != "" {
			t.Errorf("%s: transactions per worker, the kit's last samples (-) vs the hooks' (+):\n%s", side.name, diff)
		}
	}

	// After run(), each side printed one line per worker, in worker order.
	assert.Equal(t, res.ClientOut, perWorkerOut("client", client))
	assert.Equal(t, res.ServerOut, perWorkerOut("server", server))
}

// perWorkerOut is what per-worker.lua prints after run().
func perWorkerOut(side string, entries []perWorkerCounts) string {
	var b strings.Builder
	for i, c := range entries {
		fmt.Fprintf(&b, "%s worker %d: %d transactions, %d bytes, %d sockets\n", side, i+1, int(c.Transactions), int(c.Bytes), int(c.Sockets))
	}
	return b.String()
}

// BenchmarkPerWorker runs the scenario with more transactions (1000 per
// flow) and reports the client's transactions per second.
func BenchmarkPerWorker(b *testing.B) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0)) // a run raises it
	topo := nstest.Pair(b, nstest.PairConfig{})
	var tx, secs float64
	for i := 0; i < b.N; i++ {
		res := perWorkerRun(b, topo, perWorkerFlows*1000)
		tx += float64(res.Client.Kit.Transactions)
		secs += res.Client.Kit.TotalRunTime.Seconds()
	}
	b.ReportMetric(tx/secs, "trans/s")
}
