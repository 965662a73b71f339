package kit

import (
	"math"
	"testing"
	"time"

	"gotest.tools/v3/assert"
)

// TestFairness: Jain's index of equal shares is 1, of one flow taking
// all 1/n; the slowest and fastest rates split the headline in the
// flows' proportions.
func TestFairness(t *testing.T) {
	for _, tt := range []struct {
		name           string
		moved          []uint64
		headline       float64
		min, max, jain float64
	}{
		{"equal", []uint64{5, 5, 5, 5}, 100, 25, 25, 1},
		{"one takes all", []uint64{0, 0, 0, 8}, 80, 0, 80, 0.25},
		{"two to one", []uint64{2, 1}, 30, 10, 20, 0.9},
		{"one flow", []uint64{7}, 3.5, 3.5, 3.5, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var flows []FlowFigures
			for i, m := range tt.moved {
				flows = append(flows, FlowFigures{Flow: i, Moved: m})
			}
			fr := fairness(flows, tt.headline)
			assert.Equal(t, fr.Flows, len(tt.moved))
			near := func(got, want float64) bool { return math.Abs(got-want) < 1e-9 }
			assert.Assert(t, near(fr.Min, tt.min) && near(fr.Max, tt.max) && near(fr.Jain, tt.jain), "%+v", fr)
		})
	}
	assert.Assert(t, fairness(nil, 1) == nil)
}

// TestFlowFigures: a client's flows, by id, add up to its whole-run
// counts, on every workload; the report carries the fairness figures.
func TestFlowFigures(t *testing.T) {
	for _, w := range []Workload{TCPRR, TCPCRR, UDPRR, TCPStream, UDPStream} {
		t.Run(string(w), func(t *testing.T) {
			t.Parallel()
			o := localOpts(w)
			o.TestLength = 300 * time.Millisecond
			o.NumFlows, o.NumThreads = 4, 2
			r := runLocal(t, o)
			c := r.Client
			assert.Equal(t, len(c.Flows), 4)
			var sum uint64
			for i, f := range c.Flows {
				assert.Equal(t, f.Flow, i)
				sum += f.Moved
			}
			want := c.Transactions
			if w.IsStream() {
				want = c.BytesRead + c.BytesWritten
			}
			assert.Equal(t, sum, want)
			fr := c.FlowFairness()
			assert.Assert(t, fr.Jain > 0.25 && fr.Jain <= 1+1e-9 && fr.Min <= fr.Max, "%+v", fr)
			assert.Assert(t, r.Server.Flows == nil)
		})
	}
}
