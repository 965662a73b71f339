package kit

import (
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"gotest.tools/v3/assert"
)

// checkFlowRowsAddUp: at every interval a worker's flows' samples add up
// to the worker's own sample, and each flow has one sample an interval.
func checkFlowRowsAddUp(t *testing.T, side string, r *Result) {
	t.Helper()
	type key struct {
		worker, index int
	}
	type sums struct{ transactions, read, written, latencies uint64 }
	got := map[key]sums{}
	seen := map[int]int{} // samples per flow
	for _, s := range r.FlowSamples {
		k := key{s.Worker, seen[s.Flow]}
		seen[s.Flow]++
		g := got[k]
		g.transactions += s.Transactions
		g.read += s.BytesRead
		g.written += s.BytesWritten
		g.latencies += s.LatencyCount
		got[k] = g
	}
	index := map[int]int{}
	for _, s := range r.WorkerSamples {
		k := key{s.Worker, index[s.Worker]}
		index[s.Worker]++
		want := sums{s.Transactions, s.BytesRead, s.BytesWritten, s.LatencyCount}
		assert.Equal(t, got[k], want, "%s worker %d sample %d: flows' sums", side, s.Worker, k.index)
	}
	for flow, n := range seen {
		assert.Equal(t, n, index[0], "%s flow %d: samples", side, flow)
	}
}

// flowTotals is each flow's last sample, by flow id.
func flowTotals(r *Result) map[int]Sample {
	out := map[int]Sample{}
	for _, s := range r.FlowSamples {
		out[s.Flow] = s
	}
	return out
}

// TestFlowSamples: both sides sample every flow every interval, and the
// flows' rows add up to their worker's.
func TestFlowSamples(t *testing.T) {
	for _, w := range []Workload{TCPRR, TCPCRR, UDPRR, TCPStream, UDPStream} {
		t.Run(string(w), func(t *testing.T) {
			t.Parallel()
			o := localOpts(w)
			o.TestLength = 400 * time.Millisecond
			o.NumFlows, o.NumThreads = 5, 2
			r := runLocal(t, o)
			c, s := r.Client, r.Server
			checkFlowRowsAddUp(t, "client", c)
			assert.DeepEqual(t, slices.Sorted(maps.Keys(flowTotals(c))), []int{0, 1, 2, 3, 4})
			if w == TCPCRR || w.IsUDP() {
				// A connection per transaction, or one socket for every
				// flow: the server has no per-flow samples.
				assert.Equal(t, len(s.FlowSamples), 0)
				return
			}
			checkFlowRowsAddUp(t, "server", s)
			assert.DeepEqual(t, slices.Sorted(maps.Keys(flowTotals(s))), []int{0, 1, 2, 3, 4})
		})
	}
}

// TestServerNamesFlowsAsClient: a server's flow samples carry the
// client's flow ids: flows made to move different amounts show the same
// amounts under the same id on both sides.
func TestServerNamesFlowsAsClient(t *testing.T) {
	t.Run("tcp_rr", func(t *testing.T) {
		t.Parallel()
		// 3 transactions over 2 flows: flow 0 makes 2, flow 1 makes 1.
		o := localOpts(TCPRR)
		o.TestLength, o.Transactions = 0, 3
		o.NumFlows, o.NumThreads = 2, 2
		r := runLocal(t, o)
		for side, res := range map[string]*Result{"client": r.Client, "server": r.Server} {
			ft := flowTotals(res)
			assert.Equal(t, ft[0].Transactions, uint64(2), "%s flow 0: %+v %+v", side, res.FlowSamples, res.WorkerSamples)
			assert.Equal(t, ft[1].Transactions, uint64(1), "%s flow 1", side)
		}
	})
	t.Run("tcp_stream --split-bidir", func(t *testing.T) {
		t.Parallel()
		// Odd flows carry the client's data, even ones the server's.
		o := localOpts(TCPStream)
		o.TestLength = 300 * time.Millisecond
		o.SplitBidir, o.NumFlows, o.NumThreads = true, 4, 2
		o.EnableRead, o.EnableWrite = true, true // as the CLI makes them
		r := runLocal(t, o)
		ct, st := flowTotals(r.Client), flowTotals(r.Server)
		assert.Equal(t, len(st), 4, "server flows %v", st)
		for id := 0; id < 4; id++ {
			c, s := ct[id], st[id]
			if id%2 == 1 {
				// The server writes on every socket until the client's
				// data arrives on it: it may have written a little here.
				assert.Assert(t, c.BytesWritten > 0 && c.BytesRead == 0 && s.BytesRead > 0,
					"flow %d: client read %d wrote %d, server read %d wrote %d", id, c.BytesRead, c.BytesWritten, s.BytesRead, s.BytesWritten)
			} else {
				assert.Assert(t, c.BytesRead > 0 && c.BytesWritten == 0 && s.BytesWritten > 0 && s.BytesRead == 0,
					"flow %d: client read %d wrote %d, server read %d wrote %d", id, c.BytesRead, c.BytesWritten, s.BytesRead, s.BytesWritten)
			}
		}
	})
}

// TestFlowSamplesLatency: an rr client's flow samples carry their own
// latencies, and per-interval percentiles when -A asks for them.
func TestFlowSamplesLatency(t *testing.T) {
	o := localOpts(TCPRR)
	o.NumFlows, o.NumThreads = 2, 1
	o.AllSamples = "samples.csv"
	r := runLocal(t, o)
	n := 0
	for _, s := range r.Client.FlowSamples {
		if s.LatencyCount == 0 {
			continue
		}
		n++
		assert.Equal(t, len(s.LatencyPercentiles), 2, fmt.Sprintf("%+v", s))
		assert.Assert(t, s.LatencyMin <= s.LatencyPercentiles[0].Value && s.LatencyPercentiles[1].Value <= s.LatencyMax+s.LatencyMax/100, "%+v", s)
	}
	assert.Assert(t, n >= 2, "flow samples with latencies: %d", n)
}

// TestLateFlowHasEveryRow: a flow tracked after its worker's first
// samples gets a row, at zero, at each of them.
func TestLateFlowHasEveryRow(t *testing.T) {
	w := &worker{s: &sideRun{opts: &Options{}}, samples: []Sample{
		{Time: 0, Worker: 1, Flow: -1, Transactions: 5},
		{Time: time.Second, Worker: 1, Flow: -1, Transactions: 9, Utime: time.Millisecond},
	}}
	st := &flowStats{id: -1}
	w.trackFlow(st)
	assert.Equal(t, len(st.samples), 2)
	for i, s := range st.samples {
		assert.Equal(t, s.Time, w.samples[i].Time)
		assert.Equal(t, s.Worker, 1)
		assert.Equal(t, s.Transactions, uint64(0))
		assert.Equal(t, s.Utime, w.samples[i].Utime)
	}
}
