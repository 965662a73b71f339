package kit

import (
	"time"

	"golang.org/x/sys/unix"

	"github.com/hookperf/hookperf/kit/internal/stats"
)

// Sample is one worker's cumulative counters at the end of an interval,
// or the sum over workers in Result.Samples (Worker is then -1).
type Sample struct {
	Time         time.Duration // since the start of measurement
	Worker       int
	Transactions uint64
	BytesRead    uint64
	BytesWritten uint64
	Packets      uint64 // datagrams received
	Warmup       bool   // the interval ends within --warmup

	// Latency of the transactions completed in this interval (rr clients).
	LatencyCount  uint64
	LatencyMin    time.Duration
	LatencyMean   time.Duration
	LatencyMax    time.Duration
	LatencyStddev time.Duration
	// LatencyPercentiles are the requested percentiles (-p) of this
	// interval's latencies (a worker's samples of an rr client; nil in
	// merged samples).
	LatencyPercentiles []Percentile

	// The worker thread's resource use so far (zero in merged samples);
	// MaxRSS is the process's.
	Utime, Stime   time.Duration
	MaxRSS         int64 // KiB
	MinFlt, MajFlt int64
	Nvcsw, Nivcsw  int64
}

// Rusage is the process's resource use at one moment.
type Rusage struct {
	Utime, Stime   time.Duration
	MaxRSS         int64 // KiB
	MinFlt, MajFlt int64
	Nvcsw, Nivcsw  int64
}

func getRusage(who int) Rusage {
	var ru unix.Rusage
	_ = unix.Getrusage(who, &ru)
	return Rusage{
		Utime:  time.Duration(ru.Utime.Nano()),
		Stime:  time.Duration(ru.Stime.Nano()),
		MaxRSS: ru.Maxrss, MinFlt: ru.Minflt, MajFlt: ru.Majflt,
		Nvcsw: ru.Nvcsw, Nivcsw: ru.Nivcsw,
	}
}

// Latency summarises the transactions' latencies of an rr run.
type Latency struct {
	Count       uint64
	Min         time.Duration
	Mean        time.Duration
	Max         time.Duration
	Stddev      time.Duration
	Percentiles []Percentile
}

// Percentile is one requested latency percentile.
type Percentile struct {
	P     float64 // e.g. 99.9
	Value time.Duration
}

// Result is one side's measurement.
type Result struct {
	Side    Side
	Options Options // as the side ran (a server's carry the client's values)

	InvalidSecretCount uint64
	TimeStart          time.Time
	TimeEnd            time.Time
	TotalRunTime       time.Duration
	RusageStart        Rusage
	RusageEnd          Rusage

	// Totals over the whole run.
	Transactions   uint64
	BytesRead      uint64
	BytesWritten   uint64
	PacketsRead    uint64
	PacketsWritten uint64
	Connections    uint64 // connections opened (client) or accepted (server)

	// A udp_rr client's requests resent after --udp-timeout, and the
	// responses it did not count as transactions: to a request already
	// answered (duplicates) or to one since resent (stale). A server
	// cannot tell these apart: its Result holds its client's counts.
	UDPResends    uint64
	UDPDuplicates uint64
	UDPStale      uint64

	// TCP_INFO of this side's connections as they ended (tcp_rr and
	// tcp_stream): how many were read, the segments they retransmitted,
	// and the mean of their smoothed RTTs.
	TCPConnections uint64
	TCPRetransmits uint64
	TCPRTT         time.Duration

	// The measured window: Samples[StartIndex] to Samples[EndIndex].
	StartIndex  int
	EndIndex    int
	NumSamples  int
	Seconds     float64 // the window's length
	Correlation float64 // of the cumulative headline count with time

	// Throughput is transactions/s (rr) over the window.
	Throughput float64
	// ThroughputMbps is, in a stream, what the receiving side counted
	// (Mbit/s); SenderThroughputMbps what the sending side wrote.
	ThroughputMbps       float64
	SenderThroughputMbps float64
	// LocalThroughput and RemoteThroughput are each side's payload rate in
	// bit/s, as neper prints them.
	LocalThroughput  float64
	RemoteThroughput float64

	Latency *Latency // rr client only

	Samples       []Sample // summed over workers, one per interval
	WorkerSamples []Sample // one per worker per interval
	Remote        *Figures // the peer's figures (nil if it sent none)
}

// collect merges the workers' counters and samples into r.
func (s *sideRun) collect(r *Result) {
	var c counters
	var tcp tcpTotals
	var lat stats.Histogram
	for _, w := range s.list {
		c.add(&w.c)
		tcp.add(&w.tcp)
		lat.Merge(&w.lat)
		r.WorkerSamples = append(r.WorkerSamples, w.samples...)
	}
	r.Transactions, r.BytesRead, r.BytesWritten = c.transactions, c.bytesRead, c.bytesWritten
	r.PacketsRead, r.PacketsWritten, r.Connections = c.packetsRead, c.packetsWritten, c.connections
	r.UDPResends, r.UDPDuplicates, r.UDPStale = c.udpResends, c.udpDuplicates, c.udpStale
	r.TCPConnections, r.TCPRetransmits = tcp.conns, tcp.retrans
	if tcp.conns > 0 {
		r.TCPRTT = tcp.rttSum / time.Duration(tcp.conns)
	}
	r.Samples = mergeSamples(s.list)
	warm := 0
	if s.opts.Warmup > 0 {
		warm = int((s.opts.Warmup + s.opts.Interval - 1) / s.opts.Interval)
	}
	for i := range r.Samples {
		r.Samples[i].Warmup = i > 0 && i <= warm
	}
	r.NumSamples = len(r.Samples)
	r.StartIndex, r.EndIndex = stats.Window(make([]stats.Sample, len(r.Samples)), warm)
	head := headline(s.opts, s.side)
	series := make([]stats.Sample, len(r.Samples))
	bytesIn := make([]stats.Sample, len(r.Samples))
	bytesOut := make([]stats.Sample, len(r.Samples))
	for i, sm := range r.Samples {
		series[i] = stats.Sample{Time: sm.Time, Count: head(sm)}
		bytesIn[i] = stats.Sample{Time: sm.Time, Count: sm.BytesRead}
		bytesOut[i] = stats.Sample{Time: sm.Time, Count: sm.BytesWritten}
	}
	if r.EndIndex > r.StartIndex {
		r.Seconds = (r.Samples[r.EndIndex].Time - r.Samples[r.StartIndex].Time).Seconds()
	}
	r.Correlation = stats.CorrelationOf(series, r.StartIndex, r.EndIndex)
	readBits := 8 * stats.Rate(bytesIn, r.StartIndex, r.EndIndex)
	writeBits := 8 * stats.Rate(bytesOut, r.StartIndex, r.EndIndex)
	r.LocalThroughput = readBits + writeBits
	if s.opts.Workload.IsRR() {
		r.Throughput = stats.Rate(series, r.StartIndex, r.EndIndex)
	} else {
		r.ThroughputMbps = readBits / 1e6
		r.SenderThroughputMbps = writeBits / 1e6
	}
	if lat.Count() > 0 {
		l := &Latency{
			Count:  lat.Count(),
			Min:    time.Duration(lat.Min()),
			Mean:   time.Duration(lat.Mean()),
			Max:    time.Duration(lat.Max()),
			Stddev: time.Duration(lat.Stddev()),
		}
		for _, p := range s.opts.Percentiles {
			l.Percentiles = append(l.Percentiles, Percentile{P: p, Value: time.Duration(lat.Percentile(p))})
		}
		r.Latency = l
	}
}

// headline picks the count whose rate is the run's headline figure.
func headline(o *Options, side Side) func(Sample) uint64 {
	if o.Workload.IsRR() {
		return func(s Sample) uint64 { return s.Transactions }
	}
	return func(s Sample) uint64 { return s.BytesRead + s.BytesWritten }
}

// mergeSamples sums the workers' samples interval by interval. Workers
// sample at the same nominal times; a worker with fewer samples (its last
// one came earlier) contributes its last counters.
func mergeSamples(ws []*worker) []Sample {
	n := 0
	for _, w := range ws {
		n = max(n, len(w.samples))
	}
	out := make([]Sample, n)
	for i := range out {
		m := &out[i]
		m.Worker = -1
		var lat stats.Moments
		for _, w := range ws {
			if len(w.samples) == 0 {
				continue
			}
			sm := w.samples[min(i, len(w.samples)-1)]
			m.Time = max(m.Time, sm.Time)
			m.Transactions += sm.Transactions
			m.BytesRead += sm.BytesRead
			m.BytesWritten += sm.BytesWritten
			m.Packets += sm.Packets
			if i < len(w.samples) {
				lat.Merge(&w.lats[i])
			}
		}
		m.setLatency(&lat)
	}
	return out
}

func (sm *Sample) setLatency(m *stats.Moments) {
	sm.LatencyCount = m.Count()
	if m.Count() == 0 {
		return
	}
	sm.LatencyMin = time.Duration(m.Min())
	sm.LatencyMean = time.Duration(m.Mean())
	sm.LatencyMax = time.Duration(m.Max())
	sm.LatencyStddev = time.Duration(m.Stddev())
}

// figures is what this side tells its peer.
func (r *Result) figures() *Figures {
	f := &Figures{
		Transactions: r.Transactions, BytesRead: r.BytesRead, BytesWritten: r.BytesWritten,
		PacketsRead: r.PacketsRead, PacketsWritten: r.PacketsWritten,
		Throughput: r.Throughput, LocalBitrate: r.LocalThroughput, Seconds: r.Seconds,
		ReadBitrate: r.ThroughputMbps * 1e6, WriteBitrate: r.SenderThroughputMbps * 1e6,
		TCPConnections: r.TCPConnections, TCPRetransmits: r.TCPRetransmits, TCPRTT: r.TCPRTT.Nanoseconds(),
		UDPResends: r.UDPResends, UDPDuplicates: r.UDPDuplicates, UDPStale: r.UDPStale,
	}
	return f
}

// addRemote folds the peer's figures into r: both sides print the
// other's rate, and a stream's headline is what its receiver counted.
func (r *Result) addRemote(f *Figures) {
	r.Remote = f
	r.RemoteThroughput = f.LocalBitrate
	if r.Side == ServerSide && r.Options.Workload == UDPRR {
		// Only the client can match responses to its requests.
		r.UDPResends, r.UDPDuplicates, r.UDPStale = f.UDPResends, f.UDPDuplicates, f.UDPStale
	}
	if r.Options.Workload.IsStream() && r.ThroughputMbps == 0 && f.ReadBitrate > 0 {
		// This side only wrote: the receiver's count is the headline.
		r.ThroughputMbps = f.ReadBitrate / 1e6
	}
}
