package kit

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gotest.tools/v3/assert"
)

// localOpts are short options for a loopback run of workload w.
func localOpts(w Workload) Options {
	o := DefaultOptions(w)
	o.TestLength = 500 * time.Millisecond
	o.Interval = 100 * time.Millisecond
	o.Percentiles = []float64{50, 99}
	return o
}

// runLocal runs both sides in this process and fails the test on error.
func runLocal(t *testing.T, o Options) *LocalResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := RunLocal(ctx, o, SideConfig{}, SideConfig{})
	assert.NilError(t, err)
	return r
}

func TestWorkloadsCountAgree(t *testing.T) {
	tests := []struct {
		name  string
		opts  func() Options
		check func(t *testing.T, o Options, c, s *Result)
	}{
		{"tcp_rr", func() Options { return localOpts(TCPRR) }, checkRR},
		{"tcp_rr 8 flows 2 threads", func() Options {
			o := localOpts(TCPRR)
			o.NumFlows, o.NumThreads = 8, 2
			return o
		}, checkRR},
		{"tcp_rr edge-triggered 100x1000 bytes", func() Options {
			o := localOpts(TCPRR)
			o.EdgeTrigger, o.RequestSize, o.ResponseSize = true, 100, 1000
			return o
		}, checkRR},
		{"tcp_rr busy polling (--spin 64)", func() Options {
			o := localOpts(TCPRR)
			o.Spin = 64
			return o
		}, checkRR},
		{"tcp_rr ipv6", func() Options {
			o := localOpts(TCPRR)
			o.Family = IPv6
			return o
		}, checkRR},
		{"tcp_crr", func() Options { return localOpts(TCPCRR) }, checkCRR},
		{"tcp_crr 4 flows 2 threads", func() Options {
			o := localOpts(TCPCRR)
			o.NumFlows, o.NumThreads = 4, 2
			return o
		}, checkCRR},
		{"udp_rr", func() Options { return localOpts(UDPRR) }, checkUDPRR},
		{"udp_rr reuseport 4 flows 2 threads", func() Options {
			o := localOpts(UDPRR)
			o.NumFlows, o.NumThreads, o.ReusePort = 4, 2, true
			return o
		}, checkUDPRR},
		{"tcp_stream", func() Options { return localOpts(TCPStream) }, checkStream},
		{"tcp_stream 4 flows edge-triggered", func() Options {
			o := localOpts(TCPStream)
			o.NumFlows, o.NumThreads, o.EdgeTrigger = 4, 2, true
			return o
		}, checkStream},
		{"tcp_stream reversed (-r)", func() Options {
			o := localOpts(TCPStream)
			o.EnableRead = true
			return o
		}, checkStream},
		{"tcp_stream bidirectional (-r -w)", func() Options {
			o := localOpts(TCPStream)
			o.EnableRead, o.EnableWrite = true, true
			return o
		}, checkStream},
		{"udp_stream", func() Options {
			o := localOpts(UDPStream)
			o.BufferSize = 1400
			return o
		}, checkUDPStream},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.opts()
			r := runLocal(t, o)
			tc.check(t, o, r.Client, r.Server)
			checkWorkerTotals(t, o, r.Client)
			checkWorkerTotals(t, o, r.Server)
			assert.Equal(t, r.Client.RemoteThroughput, r.Server.LocalThroughput)
			assert.Equal(t, r.Server.RemoteThroughput, r.Client.LocalThroughput)
		})
	}
}

// checkWorkerTotals: one WorkerFigures per worker, in worker order, that
// add up to the side's totals; no hook, no hook call.
func checkWorkerTotals(t *testing.T, o Options, r *Result) {
	t.Helper()
	assert.Equal(t, len(r.Workers), o.NumThreads, "%s: per-worker figures", r.Side)
	var sum WorkerFigures
	for i, w := range r.Workers {
		assert.Equal(t, w.Worker, i, "%s: Workers[%d]", r.Side, i)
		sum.Transactions += w.Transactions
		sum.BytesRead += w.BytesRead
		sum.BytesWritten += w.BytesWritten
		sum.PacketsRead += w.PacketsRead
		sum.PacketsWritten += w.PacketsWritten
		sum.Connections += w.Connections
		sum.PacketHookCalls += w.PacketHookCalls
	}
	want := WorkerFigures{
		Transactions: r.Transactions, BytesRead: r.BytesRead, BytesWritten: r.BytesWritten,
		PacketsRead: r.PacketsRead, PacketsWritten: r.PacketsWritten, Connections: r.Connections,
	}
	if diff := cmp.Diff(want, sum); diff != "" {
		t.Errorf("%s: per-worker figures summed against the totals (-want +got):\n%s", r.Side, diff)
	}
}

func checkRR(t *testing.T, o Options, c, s *Result) {
	t.Helper()
	assert.Assert(t, c.Transactions > 100, "client transactions: %d", c.Transactions)
	// The server may have answered requests the client stopped waiting for.
	assert.Assert(t, s.Transactions >= c.Transactions && s.Transactions <= c.Transactions+uint64(o.NumFlows),
		"server %d, client %d transactions", s.Transactions, c.Transactions)
	assert.Equal(t, c.BytesWritten, s.BytesRead, "request bytes")
	assert.Equal(t, c.BytesRead, c.Transactions*uint64(o.ResponseSize), "response bytes")
	assert.Assert(t, c.Throughput > 0)
	assert.Assert(t, c.Latency != nil)
	assert.Equal(t, c.Latency.Count, c.Transactions)
	assert.Assert(t, c.Latency.Min > 0 && c.Latency.Min <= c.Latency.Mean && c.Latency.Mean <= c.Latency.Max)
	assert.Equal(t, len(c.Latency.Percentiles), 2)
	assert.Assert(t, c.Latency.Percentiles[0].Value <= c.Latency.Percentiles[1].Value)
	assert.Equal(t, c.Samples[c.EndIndex].Transactions, c.Transactions)
	assert.Equal(t, c.NumSamples, len(c.Samples))
	checkSampleLatencies(t, o, c, s)
	if o.Workload == TCPRR {
		checkTCPInfo(t, o, c, s)
	}
}

// checkTCPInfo: TCP_INFO was read once for every connection on each
// side, and gave a smoothed RTT.
func checkTCPInfo(t *testing.T, o Options, c, s *Result) {
	t.Helper()
	for _, r := range []*Result{c, s} {
		assert.Equal(t, r.TCPConnections, uint64(o.NumFlows), "%s: connections whose TCP_INFO was read", r.Side)
		assert.Assert(t, r.TCPRTT > 0 && r.TCPRTT < time.Second, "%s: mean smoothed RTT %v", r.Side, r.TCPRTT)
	}
	// Each side learns the other's.
	assert.Equal(t, c.Remote.TCPRetransmits, s.TCPRetransmits)
	assert.Equal(t, c.Remote.TCPRTT, s.TCPRTT.Nanoseconds())
	assert.Equal(t, s.Remote.TCPRetransmits, c.TCPRetransmits)
	assert.Equal(t, s.Remote.TCPRTT, c.TCPRTT.Nanoseconds())
}

// checkSampleLatencies: every transaction's latency is in one client
// sample, whose percentiles lie within its min and max, in order; a
// server measures no latency.
func checkSampleLatencies(t *testing.T, o Options, c, s *Result) {
	t.Helper()
	var count uint64
	for _, sm := range c.WorkerSamples {
		count += sm.LatencyCount
		if sm.LatencyCount == 0 {
			continue
		}
		assert.Equal(t, len(sm.LatencyPercentiles), len(o.Percentiles), "sample %+v", sm)
		last := sm.LatencyMin
		for i, p := range sm.LatencyPercentiles {
			assert.Equal(t, p.P, o.Percentiles[i])
			assert.Assert(t, p.Value >= last && p.Value <= sm.LatencyMax, "sample's p%v %v, want it in [%v, %v]", p.P, p.Value, last, sm.LatencyMax)
			last = p.Value
		}
	}
	assert.Equal(t, count, c.Transactions, "latencies in the client's samples")
	for _, sm := range s.WorkerSamples {
		assert.Assert(t, sm.LatencyCount == 0 && sm.LatencyPercentiles == nil, "server sample %+v", sm)
	}
}

func checkCRR(t *testing.T, o Options, c, s *Result) {
	t.Helper()
	checkRR(t, o, c, s)
	// One connection per transaction, plus those cut short at the end.
	assert.Assert(t, c.Connections >= c.Transactions && c.Connections <= c.Transactions+uint64(o.NumFlows),
		"client opened %d connections for %d transactions", c.Connections, c.Transactions)
	assert.Equal(t, s.Connections, c.Connections, "connections accepted")
	// Not read per transaction.
	assert.Equal(t, c.TCPConnections+s.TCPConnections, uint64(0))
}

func checkUDPRR(t *testing.T, o Options, c, s *Result) {
	t.Helper()
	assert.Assert(t, c.Transactions > 100, "client transactions: %d", c.Transactions)
	assert.Equal(t, c.PacketsRead, s.PacketsWritten-(s.PacketsWritten-c.PacketsRead), "responses")
	assert.Assert(t, s.PacketsRead <= c.PacketsWritten)
	assert.Assert(t, c.Latency != nil && c.Latency.Count == c.Transactions)
	checkSampleLatencies(t, o, c, s)
}

func checkStream(t *testing.T, o Options, c, s *Result) {
	t.Helper()
	// The server reads to the EOF of every flow, so what the client wrote
	// arrives whole. The client stops reading at its deadline: what the
	// server wrote after that is never read.
	assert.Equal(t, c.BytesWritten, s.BytesRead, "client to server bytes")
	assert.Assert(t, c.BytesRead <= s.BytesWritten, "server to client: read %d of %d bytes", c.BytesRead, s.BytesWritten)
	cw, sw := o.EnableWrite || !o.EnableRead, o.EnableRead
	assert.Equal(t, c.BytesWritten > 0, cw)
	assert.Equal(t, s.BytesWritten > 0, sw)
	assert.Assert(t, c.ThroughputMbps > 0 && s.ThroughputMbps > 0)
	assert.Assert(t, c.Latency == nil)
	checkTCPInfo(t, o, c, s)
}

func checkUDPStream(t *testing.T, o Options, c, s *Result) {
	t.Helper()
	assert.Assert(t, c.PacketsWritten > 100)
	assert.Assert(t, s.PacketsRead > 0 && s.PacketsRead <= c.PacketsWritten, "received %d of %d", s.PacketsRead, c.PacketsWritten)
	assert.Equal(t, s.BytesRead, s.PacketsRead*uint64(o.BufferSize))
	// Both sides report the receiver's figure as the headline, and the sender's beside it.
	assert.Equal(t, c.ThroughputMbps, s.ThroughputMbps)
	assert.Assert(t, c.SenderThroughputMbps >= s.ThroughputMbps*0.99)
}

func TestTransactionCountIsExact(t *testing.T) {
	for _, w := range []Workload{TCPRR, TCPCRR, UDPRR} {
		for _, flows := range []int{1, 3, 7} {
			o := localOpts(w)
			o.TestLength, o.Transactions = 0, 500
			o.NumFlows, o.NumThreads = flows, min(flows, 2)
			t.Run(string(w)+"/flows="+string(rune('0'+flows)), func(t *testing.T) {
				r := runLocal(t, o)
				assert.Equal(t, r.Client.Transactions, uint64(500))
				assert.Equal(t, r.Server.Transactions, uint64(500))
				assert.Equal(t, r.Client.Latency.Count, uint64(500))
			})
		}
	}
}

func TestWarmupLeavesFirstIntervalsOut(t *testing.T) {
	o := localOpts(TCPRR)
	o.TestLength, o.Warmup = 600*time.Millisecond, 200*time.Millisecond
	r := runLocal(t, o)
	c := r.Client
	assert.Equal(t, c.StartIndex, 2)
	assert.Assert(t, c.Samples[1].Warmup && c.Samples[2].Warmup && !c.Samples[3].Warmup)
	assert.Assert(t, c.Latency.Count < c.Transactions, "warm-up transactions are left out of the histogram")
	// The totals cover the whole run, warm-up included; the rate only
	// the window.
	assert.Assert(t, c.Samples[c.StartIndex].Transactions > 0, "no transaction in the warm-up")
	assert.Equal(t, c.Transactions, c.Samples[c.EndIndex].Transactions)
	inWindow := c.Samples[c.EndIndex].Transactions - c.Samples[c.StartIndex].Transactions
	assert.Assert(t, math.Abs(c.Throughput*c.Seconds-float64(inWindow)) < 1e-6*float64(inWindow),
		"throughput %v over %vs, want the window's %d transactions", c.Throughput, c.Seconds, inWindow)
	// A server's drain is in its totals, not in its samples.
	s := r.Server
	assert.Assert(t, s.Transactions >= s.Samples[s.EndIndex].Transactions)
}

func TestDelaySlowsFlows(t *testing.T) {
	o := localOpts(TCPRR)
	o.Delay = 5 * time.Millisecond
	r := runLocal(t, o)
	// At most one transaction per 5 ms in 500 ms, however fast the machine.
	assert.Assert(t, r.Client.Transactions <= 101, "transactions: %d", r.Client.Transactions)
	assert.Assert(t, r.Client.Transactions >= 10, "transactions: %d", r.Client.Transactions)
}

// TestReportData: what a report draws comes with the result: the peer's
// samples (the last its final counts), the side's CPU over time, and the
// latency histogram, whose buckets hold every latency.
func TestReportData(t *testing.T) {
	o := localOpts(TCPRR)
	r := runLocal(t, o)
	c, s := r.Client, r.Server
	assert.Assert(t, c.Remote != nil && len(c.Remote.Samples) == len(s.Samples), "remote samples %v, server's %d", c.Remote, len(s.Samples))
	last := c.Remote.Samples[len(c.Remote.Samples)-1]
	assert.Equal(t, last.Transactions, s.Samples[len(s.Samples)-1].Transactions)
	cpu := c.Samples[len(c.Samples)-1].Utime + c.Samples[len(c.Samples)-1].Stime
	assert.Assert(t, cpu > 0, "the client's CPU time over the run: %v", cpu)
	assert.Assert(t, c.Latency != nil && len(c.Latency.Histogram) > 0)
	var n uint64
	for _, b := range c.Latency.Histogram {
		assert.Assert(t, b.Low <= b.High && b.Low >= c.Latency.Min && b.High <= c.Latency.Max, "%+v", b)
		n += b.Count
	}
	assert.Equal(t, n, c.Latency.Count)
	assert.Assert(t, c.Env.CPUs > 0 && c.Env.Kernel != "" && c.Env.Version != "", "%+v", c.Env)
}

func TestRemoteSamplesAreBounded(t *testing.T) {
	ss := make([]Sample, 2*maxRemoteSamples+1)
	for i := range ss {
		ss[i] = Sample{Time: time.Duration(i) * time.Second, Transactions: uint64(i)}
	}
	got := remoteSamples(ss)
	assert.Assert(t, len(got) <= maxRemoteSamples, "%d samples", len(got))
	assert.Equal(t, got[len(got)-1].Transactions, uint64(len(ss)-1))
	assert.Equal(t, got[0].Transactions, uint64(0))
	assert.Equal(t, len(remoteSamples(ss[:3])), 3)
}
