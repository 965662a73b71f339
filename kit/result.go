package kit

import (
	"time"

	"golang.org/x/sys/unix"

	"github.com/hookperf/hookperf/kit/internal/stats"
)

// Sample is one worker's or one flow's cumulative counters at the end of
// an interval, or the sum over workers in Result.Samples (Worker is then
// -1).
type Sample struct {
	Time   time.Duration // since the start of measurement
	Worker int
	// Flow is the flow's id (the client's index) in a flow's sample, -1
	// in a worker's or the side's.
	Flow         int
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

	// The worker thread's resource use so far; in merged samples, Utime
	// and Stime are the workers' sum and the rest zero. MaxRSS is the
	// process's.
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
	// Histogram is every latency's bucket (the non-empty ones, in order):
	// a bucket spans at most 1/128 of its values.
	Histogram []LatencyBucket
}

// LatencyBucket is one bucket of the latency histogram: Count latencies
// from Low to High.
type LatencyBucket struct {
	Low, High time.Duration
	Count     uint64
}

// Percentile is one requested latency percentile.
type Percentile struct {
	P     float64 // e.g. 99.9
	Value time.Duration
}

// Result is one side's measurement. Its figures cover one of two spans
// (the README's "The Go API" gives the same as a table):
//
//   - the whole run: from the start (the client's start message) until the
//     side's workers stopped, warm-up included, and on a server the drain
//     after the client's stop included (what the client sent before it
//     stopped, read to the EOF, so that both sides' byte counts agree);
//   - the measured window: Samples[StartIndex] to Samples[EndIndex], from
//     the first sample at or after --warmup to the client's end or the
//     server's stop (a server's drain is not in it).
type Result struct {
	Side    Side
	Options Options // as the side ran (a server's carry the client's values)

	// InvalidSecretCount is how many clients a server turned away for a
	// wrong --magic before its test.
	InvalidSecretCount uint64
	// TimeStart is when measurement started: the client sent its start,
	// the server heard it from every client.
	TimeStart time.Time
	// TimeEnd is when the side's workers were done: a client's once each
	// finished its test, a server's after its drain.
	TimeEnd time.Time
	// TotalRunTime is TimeEnd - TimeStart.
	TotalRunTime time.Duration
	// RusageStart and RusageEnd are the process's resource use at
	// TimeStart and TimeEnd.
	RusageStart Rusage
	RusageEnd   Rusage

	// Transactions is the count over the whole run (warm-up and a server's
	// drain included) of what the workload calls a transaction: a request
	// and its response (rr: a client's completed, a server's answered); in
	// a stream a read that returned data (tcp_stream) or a datagram
	// received (udp_stream), so a side that only sends counts none.
	// Workers[i] has each worker's share.
	Transactions uint64
	// BytesRead and BytesWritten are the payload bytes moved over the
	// whole run (warm-up and a server's drain included).
	BytesRead    uint64
	BytesWritten uint64
	// PacketsRead and PacketsWritten are the datagrams received and sent
	// over the whole run (UDP workloads; 0 in TCP ones).
	PacketsRead    uint64
	PacketsWritten uint64
	// Connections counts, over the whole run, the connections a server
	// accepted (its flows' connections, made before the start, included)
	// or a tcp_crr client opened (one per transaction); a client of any
	// other workload leaves it 0.
	Connections uint64

	// A udp_rr client's requests resent after --udp-timeout, and the
	// responses it did not count as transactions: to a request already
	// answered (duplicates) or to one since resent (stale); over the whole
	// run. A server cannot tell these apart: its Result holds its
	// client's counts.
	UDPResends    uint64
	UDPDuplicates uint64
	UDPStale      uint64

	// With -Z, this side's sends made with MSG_ZEROCOPY, the completions
	// the kernel reported for them, and how many of those it had to copy
	// after all (SO_EE_CODE_ZEROCOPY_COPIED), over the whole run.
	ZerocopySends, ZerocopyCompletions, ZerocopyCopied uint64
	// With -z, the bytes this side received mapped rather than copied
	// (the rest came through the copy buffer or a plain read).
	RxZerocopyBytes uint64

	// Interrupted names the interrupt (SIGINT) that ended the test early,
	// on this side or its peer; "" when the test ran its course. The
	// figures then cover the test up to the interrupt.
	Interrupted string

	// TCP_INFO of this side's connections as they ended (tcp_rr and
	// tcp_stream), over the whole run: how many were read, the segments
	// they retransmitted, and the mean of their smoothed RTTs.
	TCPConnections uint64
	TCPRetransmits uint64
	TCPRTT         time.Duration

	// The measured window: Samples[StartIndex] to Samples[EndIndex];
	// StartIndex is the first sample at or after --warmup (0 without it),
	// EndIndex the last sample. NumSamples is len(Samples).
	StartIndex int
	EndIndex   int
	NumSamples int
	// Seconds is the window's length.
	Seconds float64
	// Correlation is that of the cumulative headline count with time over
	// the window (near 1: a steady rate).
	Correlation float64

	// Throughput is transactions/s (rr) over the window.
	Throughput float64
	// ThroughputMbps is, in a stream, what the receiving side counted
	// (Mbit/s) over its window; SenderThroughputMbps what this side wrote
	// over its window. A side that only wrote takes ThroughputMbps from
	// its peer's figures.
	ThroughputMbps       float64
	SenderThroughputMbps float64
	// LocalThroughput is this side's payload rate, read and written, in
	// bit/s over the window, as neper prints it; RemoteThroughput is the
	// peer's LocalThroughput, over the peer's window.
	LocalThroughput  float64
	RemoteThroughput float64

	// Latency summarises the transactions that ended at or after
	// --warmup, to the end of the run (rr client only; nil otherwise).
	Latency *Latency

	// Samples are the workers' cumulative counters summed, one per
	// interval: Samples[0] at the start (time 0), the last at the client's
	// end or the server's stop, so a server's last sample does not count
	// its drain and may be below its totals.
	Samples []Sample
	// Flows are a client's flows and what each moved over the whole run
	// (nil on a server); FlowFairness says how evenly.
	Flows []FlowFigures
	// RTTLog is an rr client's --log-rtt log: every transaction's round
	// trip, up to --logrtt-entries-per-flow a flow.
	RTTLog []RTTEntry
	// WorkerSamples are the same, one per worker per interval.
	WorkerSamples []Sample
	// FlowSamples are the same, one per flow per interval (by time, then
	// flow id), a flow's Flow its id on both sides. They add up to the
	// worker's samples; a flow that closed keeps its last counts. A
	// tcp_crr or UDP server has none (see the README's "-A").
	FlowSamples []Sample
	// Workers are each worker's totals over the whole run, in worker
	// order (Workers[i].Worker == i); the totals above are their sums.
	Workers []WorkerFigures
	// Remote is the peer's figures (nil if it sent none).
	Remote *Figures
	// Env is the machine and the binary the side ran on.
	Env Environment
}

// WorkerFigures are one worker's totals over the whole run (warm-up and a
// server's drain included), as Result's totals are for the side. They
// tell a worker that did nothing (a server worker no flow came to: all
// zero) from one that did.
type WorkerFigures struct {
	// Worker is the worker's 0-based index (WorkerInfo.Index; a script's
	// collected values list it as entry Worker+1).
	Worker int
	// Transactions, BytesRead, BytesWritten, PacketsRead, PacketsWritten
	// and Connections are the worker's shares of Result's fields of the
	// same names.
	Transactions   uint64
	BytesRead      uint64
	BytesWritten   uint64
	PacketsRead    uint64
	PacketsWritten uint64
	Connections    uint64
	// PacketHookCalls counts the calls of the worker's packet hooks
	// (sendmsg, recvmsg and recverr; socket hooks not included); 0 without
	// hooks.
	PacketHookCalls uint64
}

// collect merges the workers' counters and samples into r.
func (s *sideRun) collect(r *Result) {
	var c counters
	var tcp tcpTotals
	var lat stats.Histogram
	r.Workers = make([]WorkerFigures, 0, len(s.list))
	for _, w := range s.list {
		c.add(&w.c)
		tcp.add(&w.tcp)
		lat.Merge(&w.lat)
		r.WorkerSamples = append(r.WorkerSamples, w.samples...)
		if w.rtts != nil {
			r.RTTLog = append(r.RTTLog, w.rtts.entries...)
		}
		r.Workers = append(r.Workers, WorkerFigures{
			Worker: w.id, Transactions: w.c.transactions,
			BytesRead: w.c.bytesRead, BytesWritten: w.c.bytesWritten,
			PacketsRead: w.c.packetsRead, PacketsWritten: w.c.packetsWritten,
			Connections: w.c.connections, PacketHookCalls: w.packetHookCalls,
		})
	}
	r.Transactions, r.BytesRead, r.BytesWritten = c.transactions, c.bytesRead, c.bytesWritten
	r.PacketsRead, r.PacketsWritten, r.Connections = c.packetsRead, c.packetsWritten, c.connections
	r.UDPResends, r.UDPDuplicates, r.UDPStale = c.udpResends, c.udpDuplicates, c.udpStale
	r.ZerocopySends, r.ZerocopyCompletions, r.ZerocopyCopied = c.zcSends, c.zcDone, c.zcCopied
	r.RxZerocopyBytes = c.zcMapped
	r.TCPConnections, r.TCPRetransmits = tcp.conns, tcp.retrans
	if tcp.conns > 0 {
		r.TCPRTT = tcp.rttSum / time.Duration(tcp.conns)
	}
	if s.side == ClientSide {
		r.Flows = s.flowFigures()
	} else {
		s.nameFlows(s.clientFlows)
	}
	r.FlowSamples = s.flowSamples()
	r.Env = currentEnvironment()
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
		lat.Buckets(func(lo, hi int64, n uint64) {
			l.Histogram = append(l.Histogram, LatencyBucket{Low: time.Duration(lo), High: time.Duration(hi), Count: n})
		})
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
		m.Worker, m.Flow = -1, -1
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
			m.Utime += sm.Utime
			m.Stime += sm.Stime
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
		Samples: remoteSamples(r.Samples),
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

// maxRemoteSamples bounds the samples a side sends its peer, so that a
// long run sampled often still fits a control message.
const maxRemoteSamples = 2000

// remoteSamples are the side's samples as its peer sees them: every
// k-th, so that at most maxRemoteSamples go, the last always.
func remoteSamples(ss []Sample) []RemoteSample {
	if len(ss) == 0 {
		return nil
	}
	step := (len(ss) + maxRemoteSamples - 1) / maxRemoteSamples
	var out []RemoteSample
	for i := 0; i < len(ss); i += step {
		if i+step >= len(ss) {
			i = len(ss) - 1
		}
		s := ss[i]
		out = append(out, RemoteSample{
			Time: s.Time.Seconds(), Transactions: s.Transactions,
			BytesRead: s.BytesRead, BytesWritten: s.BytesWritten, CPU: (s.Utime + s.Stime).Seconds(),
		})
	}
	return out
}
