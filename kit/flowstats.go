package kit

import (
	"cmp"
	"net/netip"
	"slices"
	"time"

	"golang.org/x/sys/unix"

	"github.com/hookperf/hookperf/kit/internal/stats"
)

// Per-flow samples. Each flow counts what it moves beside its worker's
// counters, and its worker samples those counts at every interval, so
// that -A has a row per flow per interval (neper's rows) that add up to
// the worker's. A flow's id is the client's index: a client knows it, a
// server learns it from the start message, which names every flow's
// client address (see flowPorts). A tcp_crr server (a connection per
// transaction) and a UDP server (one socket for every flow) have no
// per-flow rows.

// flowStats is one flow's counts and samples.
type flowStats struct {
	id int // the client's index of the flow; -1 on a server until named
	// addr is the flow's client address: a client's own end, a server's
	// peer (zero where it is unknown).
	addr                                  netip.AddrPort
	transactions, bytesRead, bytesWritten uint64
	interval, last                        stats.Moments // latencies of this and the last interval (rr client)
	hist, lastHist                        *stats.Histogram
	samples                               []Sample
}

// trackFlow starts sampling a flow; its stats stay sampled after the
// flow closes, at its final counts, so that the flows' rows add up to
// the worker's at every interval.
func (w *worker) trackFlow(st *flowStats) {
	if w.intervalHist != nil && w.s.opts.AllSamples != "" {
		st.hist, st.lastHist = new(stats.Histogram), new(stats.Histogram)
	}
	// A flow that comes after the worker's first samples (a server's
	// accept, late under load) had moved nothing at those: it gets a row
	// at each, so that every flow has one at every interval.
	for i := range w.samples {
		st.record(&w.samples[i], nil) // its counts are still 0
	}
	w.flowStats = append(w.flowStats, st)
}

// newClientStats makes the stats of client flow id on socket fd.
func newClientStats(id, fd int) flowStats {
	return flowStats{id: id, addr: socketAddr(unix.Getsockname, fd)}
}

// newServerStats makes the stats of a server flow on socket fd, named
// once the client's start message has come.
func newServerStats(fd int) flowStats {
	return flowStats{id: -1, addr: socketAddr(unix.Getpeername, fd)}
}

// socketAddr is one end of fd's connection (zero if it cannot be read).
func socketAddr(get func(int) (unix.Sockaddr, error), fd int) netip.AddrPort {
	sa, err := get(fd)
	if err != nil {
		return netip.AddrPort{}
	}
	switch sa := sa.(type) {
	case *unix.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(sa.Port))
	case *unix.SockaddrInet6:
		return netip.AddrPortFrom(netip.AddrFrom16(sa.Addr).Unmap(), uint16(sa.Port))
	}
	return netip.AddrPort{}
}

// latency adds one transaction's latency.
func (st *flowStats) latency(d time.Duration) {
	st.interval.Add(int64(d))
	if st.hist != nil {
		st.hist.Record(int64(d))
	}
}

// record appends the flow's sample at the end of an interval; base is
// the worker's sample at the same time (its time and thread rusage).
func (st *flowStats) record(base *Sample, percentiles []float64) {
	sm := *base
	sm.Flow = st.id
	sm.Transactions, sm.BytesRead, sm.BytesWritten, sm.Packets = st.transactions, st.bytesRead, st.bytesWritten, 0
	sm.LatencyPercentiles = nil
	sm.LatencyCount, sm.LatencyMin, sm.LatencyMean, sm.LatencyMax, sm.LatencyStddev = 0, 0, 0, 0, 0
	sm.setLatency(&st.interval)
	if h := st.hist; h != nil {
		sm.LatencyPercentiles = percentilesOf(h, percentiles)
		st.hist, st.lastHist = st.lastHist, h
		st.hist.Reset()
	}
	st.samples = append(st.samples, sm)
	st.last, st.interval = st.interval, stats.Moments{}
}

// unrecord takes back the last sample, its latencies going back into
// the current interval (the run ended on that sample's time).
func (st *flowStats) unrecord() {
	st.interval.Merge(&st.last)
	if st.hist != nil {
		st.hist.Merge(st.lastHist)
	}
	st.samples = st.samples[:len(st.samples)-1]
}

// percentilesOf reads the requested percentiles of h.
func percentilesOf(h *stats.Histogram, ps []float64) []Percentile {
	out := make([]Percentile, len(ps))
	for i, p := range ps {
		out[i] = Percentile{P: p, Value: time.Duration(h.Percentile(p))}
	}
	return out
}

// flowPorts names a client's flows to its server: for each client
// address, the port of every flow by id (0 where the flow has none of
// its own, as a tcp_crr flow). A start message carries it.
type flowPorts map[netip.Addr][]uint16

// flowPorts lists the client's flows by their address.
func (s *sideRun) flowPorts() flowPorts {
	out := flowPorts{}
	for _, w := range s.list {
		for _, st := range w.flowStats {
			if !st.addr.IsValid() || st.id < 0 {
				continue
			}
			a := st.addr.Addr()
			ports := out[a]
			if len(ports) <= st.id {
				ports = append(ports, make([]uint16, st.id+1-len(ports))...)
			}
			ports[st.id] = st.addr.Port()
			out[a] = ports
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// nameFlows gives the server's flows the ids their clients told: by the
// client's address and port, or by the port alone where the address
// differs (the client is behind a NAT).
func (s *sideRun) nameFlows(names []flowPorts) {
	byAddr := map[netip.AddrPort]int{}
	byPort := map[uint16]int{}
	for _, n := range names {
		for a, ports := range n {
			for id, p := range ports {
				if p != 0 {
					byAddr[netip.AddrPortFrom(a.Unmap(), p)] = id
					byPort[p] = id
				}
			}
		}
	}
	for _, w := range s.list {
		for _, st := range w.flowStats {
			if st.id >= 0 {
				continue
			}
			id, ok := byAddr[st.addr]
			if !ok {
				id, ok = byPort[st.addr.Port()]
			}
			if !ok {
				continue
			}
			st.id = id
			for i := range st.samples {
				st.samples[i].Flow = id
			}
		}
	}
}

// flowSamples gathers the flows' samples interval by interval, each
// interval's by flow id.
func (s *sideRun) flowSamples() []Sample {
	var all []*flowStats
	n := 0
	for _, w := range s.list {
		all = append(all, w.flowStats...)
		for _, st := range w.flowStats {
			n = max(n, len(st.samples))
		}
	}
	slices.SortStableFunc(all, func(a, b *flowStats) int { return cmp.Compare(a.id, b.id) })
	var out []Sample
	for i := 0; i < n; i++ {
		for _, st := range all {
			if i < len(st.samples) {
				out = append(out, st.samples[i])
			}
		}
	}
	return out
}
