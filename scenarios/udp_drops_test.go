package scenarios

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"gotest.tools/v3/assert"

	"github.com/hookperf/hookperf/hooktest"
	"github.com/hookperf/hookperf/kit"
	"github.com/hookperf/hookperf/netns"
	"github.com/hookperf/hookperf/netns/nstest"
)

// dropsCounts is what udp-drops.lua collected on the server, summed over
// its workers.
type dropsCounts struct {
	Received   float64 // datagrams the workload read through the hook
	Drops      float64 // the last SO_RXQ_OVFL count each worker saw
	Unread     float64 // datagrams still queued when the socket closed
	FinalDrops float64 // SO_MEMINFO's drop count at close
}

func dropsTotals(tb testing.TB, res *hooktest.Result) dropsCounts {
	tb.Helper()
	// Stricter than hooktest.Sum: every worker must have every field.
	var c dropsCounts
	stats := res.Server.Collected["stats"]
	assert.Assert(tb, len(stats) > 0, "the server collected no stats (collected: %v)", res.Server.Collected)
	for i, s := range stats {
		m, ok := s.(map[string]any)
		assert.Assert(tb, ok, "server worker %d's stats are a %T: %v", i+1, s, s)
		for _, f := range []struct {
			name string
			sum  *float64
		}{{"received", &c.Received}, {"drops", &c.Drops}, {"unread", &c.Unread}, {"final_drops", &c.FinalDrops}} {
			v, ok := m[f.name].(float64)
			assert.Assert(tb, ok, "server worker %d's stats have no number %q: %v", i+1, f.name, m)
			*f.sum += v
		}
	}
	return c
}

// dropsConfig is one udp-drops.lua run: a client of Flows flows in
// Threads workers sends Size-byte datagrams, Delay apart (0: as fast as it
// can), for Length to a server of Threads workers whose sockets have
// SO_RCVBUF RcvBuf ("": the kernel's).
type dropsConfig struct {
	Length         time.Duration
	Threads, Flows int
	Size           int
	Delay          time.Duration
	RcvBuf         string
}

func (c dropsConfig) String() string {
	rcvbuf := "the kernel's receive buffer"
	if c.RcvBuf != "" {
		rcvbuf = "SO_RCVBUF " + c.RcvBuf
	}
	return fmt.Sprintf("%s, %d flows of %d-byte datagrams %v apart", rcvbuf, c.Flows, c.Size, c.Delay)
}

// dropsTiny is the scenario where drops must happen; dropsSlow the one
// where none may.
var (
	dropsTiny = dropsConfig{Length: time.Second, Threads: 2, Flows: 4, Size: 64, RcvBuf: "2048"}
	dropsSlow = dropsConfig{Length: 500 * time.Millisecond, Threads: 1, Flows: 1, Size: 64, Delay: time.Millisecond}
)

func dropsRun(tb testing.TB, topo *nstest.Topology, c dropsConfig) *hooktest.Result {
	tb.Helper()
	args := map[string]string{}
	if c.RcvBuf != "" {
		args["rcvbuf"] = c.RcvBuf
	}
	return hooktest.Run(tb, topo, hooktest.Config{
		Script:   "testdata/udp-drops.lua",
		Workload: kit.UDPStream,
		Args:     args,
		Options: func(o *kit.Options) {
			o.TestLength = c.Length
			o.NumThreads, o.NumFlows = c.Threads, c.Flows
			o.BufferSize = c.Size
			o.Delay = c.Delay
		},
	})
}

// dropsUDPCounters reads the Udp counters of /proc/net/snmp in the
// server's namespace (InDatagrams, NoPorts, RcvbufErrors...): the
// kernel's own count of what reached its UDP sockets, or found none.
func dropsUDPCounters(t *testing.T, topo *nstest.Topology) map[string]uint64 {
	t.Helper()
	return procCounters(t, topo.Server, "snmp", "Udp")
}

// dropsLinkDrops is what the veth link itself dropped: both ends, both
// directions.
func dropsLinkDrops(t *testing.T, topo *nstest.Topology) uint64 {
	t.Helper()
	var n uint64
	for _, l := range []*netns.Link{topo.ServerLink, topo.ClientLink} {
		h, err := l.NS.Handle()
		assert.NilError(t, err)
		nl, err := h.LinkByIndex(l.Index)
		assert.NilError(t, err, "%s in %s", l.Name, l.NS)
		s := nl.Attrs().Statistics
		n += s.RxDropped + s.TxDropped
	}
	return n
}

// TestUDPDrops: with the server's receive buffer made tiny and four fast
// senders, the socket must drop datagrams, and SO_RXQ_OVFL reports it;
// every datagram the client wrote is accounted for, exactly. With the
// kernel's buffer and one slow flow, nothing is dropped.
func TestUDPDrops(t *testing.T) {
	t.Run("tiny buffer, fast senders", func(t *testing.T) {
		topo := nstest.Pair(t, nstest.PairConfig{}) // fresh: its counters are this run's
		res := dropsRun(t, topo, dropsTiny)
		got := dropsTotals(t, res)
		written := res.Client.Kit.PacketsWritten
		t.Logf("%v: client wrote %d; server: %+v", dropsTiny, written, got)

		assert.Assert(t, got.Drops > 0, "no drops reported by SO_RXQ_OVFL with %v (%+v, client wrote %d)", dropsTiny, got, written)
		assert.Assert(t, got.Received > 0, "the server received nothing (%+v)", got)
		assert.Equal(t, got.Received, float64(res.Server.Kit.PacketsRead), "datagrams counted by the hook vs read by the kit")
		// A datagram's count is the socket's so far: each worker's last
		// one cannot exceed the socket's count at close.
		for i, s := range res.Server.Collected["stats"] {
			m := s.(map[string]any)
			assert.Assert(t, m["drops"].(float64) <= m["final_drops"].(float64), "server worker %d: SO_RXQ_OVFL said %v drops, SO_MEMINFO at close %v", i+1, m["drops"], m["final_drops"])
		}

		// The kernel's namespace-wide counters agree with the sockets'.
		udp := dropsUDPCounters(t, topo)
		assert.Equal(t, float64(udp["RcvbufErrors"]), got.FinalDrops, "UDP RcvbufErrors in the server namespace vs the sockets' drop counts at close")
		assert.Equal(t, float64(udp["InDatagrams"]), got.Received+got.Unread, "UDP InDatagrams in the server namespace vs datagrams read (by the workload and at close)")

		// Every datagram the client wrote was read, left queued, dropped
		// at the socket, dropped by the link, or came after the socket
		// closed (port unreachable): no other way out.
		link := dropsLinkDrops(t, topo)
		accounted := got.Received + got.Unread + got.FinalDrops + float64(link) + float64(udp["NoPorts"])
		assert.Equal(t, accounted, float64(written),
			"received %v + unread %v + dropped %v + link drops %d + no port %d vs written by the client",
			got.Received, got.Unread, got.FinalDrops, link, udp["NoPorts"])
	})

	t.Run("kernel's buffer, one slow flow", func(t *testing.T) {
		topo := nstest.Pair(t, nstest.PairConfig{})
		res := dropsRun(t, topo, dropsSlow)
		got := dropsTotals(t, res)
		written := res.Client.Kit.PacketsWritten
		t.Logf("%v: client wrote %d; server: %+v", dropsSlow, written, got)
		assert.Assert(t, written > 0, "the slow client wrote nothing")
		assert.Equal(t, got.Drops, 0.0, "SO_RXQ_OVFL drops with %v (%+v, client wrote %d)", dropsSlow, got, written)
		assert.Equal(t, got.FinalDrops, 0.0, "socket drops at close (%+v)", got)
		assert.Equal(t, got.Received+got.Unread, float64(written), "datagrams read (%v by the workload + %v at close) vs written", got.Received, got.Unread)
	})
}

// BenchmarkUDPDrops runs the tiny-buffer scenario: the datagrams the
// server's sockets dropped in a run of one second (the kernel's count at
// close, which SO_RXQ_OVFL reports up to the last read) and the server's
// received Mbit/s, for benchstat.
func BenchmarkUDPDrops(b *testing.B) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0)) // a run raises it
	topo := nstest.Pair(b, nstest.PairConfig{})
	var drops, mbps float64
	for i := 0; i < b.N; i++ {
		res := dropsRun(b, topo, dropsTiny)
		drops += dropsTotals(b, res).FinalDrops
		mbps += res.Server.Kit.ThroughputMbps
	}
	b.ReportMetric(drops/float64(b.N), "drops")
	b.ReportMetric(mbps/float64(b.N), "Mbit/s")
}
