package kit

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/hookperf/hookperf/kit/internal/stats"
)

// KV is one key=value pair of a report.
type KV struct {
	Key   string
	Value string
}

// OptionPairs lists every option as neper prints it before its results,
// so that a run can be reproduced from its output.
func (o *Options) OptionPairs() []KV {
	b := func(v bool) string { return strconv.FormatBool(v) }
	i := strconv.Itoa
	length := strconv.FormatFloat(o.TestLength.Seconds(), 'f', -1, 64)
	if o.Transactions > 0 {
		length = strconv.FormatInt(-o.Transactions, 10)
	}
	pct := ""
	for k, p := range o.Percentiles {
		if k > 0 {
			pct += ","
		}
		pct += strconv.FormatFloat(p, 'f', -1, 64)
	}
	return []KV{
		{"workload", string(o.Workload)},
		{"client", b(o.Client)},
		{"host", o.Host},
		{"local_host", o.LocalHost},
		{"source_port", i(o.SourcePort)},
		{"control_port", i(o.ControlPort)},
		{"port", i(o.DataPort)},
		{"num_ports", i(o.numPorts())},
		{"ipv4", b(o.Family == IPv4)},
		{"ipv6", b(o.Family == IPv6)},
		{"magic", strconv.FormatUint(uint64(o.Magic), 10)},
		{"reuseport", b(o.ReusePort)},
		{"reuseaddr", b(o.ReuseAddr)},
		{"num_flows", i(o.NumFlows)},
		{"num_threads", i(o.NumThreads)},
		{"num_clients", i(o.NumClients)},
		{"test_length", length},
		{"suicide_length", seconds(o.SuicideLength)},
		{"buffer_size", i(o.BufferSize)},
		{"request_size", i(o.RequestSize)},
		{"response_size", i(o.ResponseSize)},
		{"enable_read", b(o.EnableRead)},
		{"enable_write", b(o.EnableWrite)},
		{"edge_trigger", b(o.EdgeTrigger)},
		{"delay", strconv.FormatInt(o.Delay.Nanoseconds(), 10)},
		{"noburst", strconv.FormatInt(o.NoBurst.Nanoseconds(), 10)},
		{"maxevents", i(o.MaxEvents)},
		{"nonblocking", b(o.Nonblocking)},
		{"async_connect", "true"}, // hookperf's connects never block (--async-connect)
		{"pin_cpu", b(o.PinCPU)},
		{"pin_numa", b(o.PinNUMA)},
		{"dry_run", b(o.DryRun)},
		{"listen_backlog", i(o.ListenBacklog)},
		{"mark", strconv.FormatUint(uint64(o.Mark), 10)},
		{"spin", i(o.Spin)},
		{"udp_timeout", seconds(o.UDPTimeout)},
		{"max_pacing_rate", strconv.FormatUint(o.MaxPacingRate, 10)},
		{"min_rto", strconv.FormatInt(o.MinRTO.Milliseconds(), 10)},
		{"congestion_control", o.CongestionControl},
		{"no_delay", b(o.NoDelay)},
		{"no_cork", b(o.NoCork)},
		{"split_bidir", b(o.SplitBidir)},
		{"zerocopy", b(o.ZeroCopy)},
		{"skip_rx_copy", b(o.SkipRxCopy)},
		{"rx_zerocopy", b(o.RxZeroCopy)},
		{"tcp_fastopen", b(o.TCPFastOpen)},
		{"tcp_tx_delay", strconv.FormatInt(o.TCPTxDelay.Microseconds(), 10)},
		{"time_wait", b(o.TimeWait)},
		{"debug", b(o.Debug)},
		{"freebind", b(o.FreeBind)},
		{"wait_start", seconds(o.WaitStart)},
		{"iostat_ms", strconv.FormatInt(o.IOStatEvery.Milliseconds(), 10)},
		{"stime_use_proc", b(o.StimeUseProc)},
		{"nolog", b(o.NoLog)},
		{"throughput_opt", o.ThroughputUnit},
		{"interval", seconds(o.Interval)},
		{"all_samples", o.AllSamples},
		{"worker_samples", b(o.WorkerSamples)},
		{"report", o.Report},
		{"histogram", b(o.Histogram)},
		{"percentiles", pct},
		{"log_rtt", o.LogRTT},
		{"logrtt_entries_per_flow", i(o.logRTTPerFlow())},
		{"warmup", seconds(o.Warmup)},
	}
}

// seconds formats d in seconds, exactly, from its whole nanoseconds
// (1.256938, where a float's sum of seconds and fraction would print
// 1.2569379999999999).
func seconds(d time.Duration) string {
	ns := uint64(d)
	sign := ""
	if d < 0 {
		ns, sign = -ns, "-"
	}
	s := fmt.Sprintf("%s%d.%09d", sign, ns/1e9, ns%1e9)
	return strings.TrimSuffix(strings.TrimRight(s, "0"), ".")
}

func float(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "0"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

func unixTime(t time.Time) string {
	if t.IsZero() {
		return "0"
	}
	return fmt.Sprintf("%d.%09d", t.Unix(), t.Nanosecond())
}

// ResultPairs lists the result keys of SPEC.md, in a stable order.
func (r *Result) ResultPairs() []KV {
	u := func(v uint64) string { return strconv.FormatUint(v, 10) }
	d := func(v int64) string { return strconv.FormatInt(v, 10) }
	kv := []KV{
		{"total_run_time", seconds(r.TotalRunTime)},
		{"invalid_secret_count", u(r.InvalidSecretCount)},
		{"time_start", unixTime(r.TimeStart)},
		{"utime_start", seconds(r.RusageStart.Utime)},
		{"utime_end", seconds(r.RusageEnd.Utime)},
		{"stime_start", seconds(r.RusageStart.Stime)},
		{"stime_end", seconds(r.RusageEnd.Stime)},
		{"maxrss_start", d(r.RusageStart.MaxRSS)},
		{"maxrss_end", d(r.RusageEnd.MaxRSS)},
		{"minflt_start", d(r.RusageStart.MinFlt)},
		{"minflt_end", d(r.RusageEnd.MinFlt)},
		{"majflt_start", d(r.RusageStart.MajFlt)},
		{"majflt_end", d(r.RusageEnd.MajFlt)},
		{"nvcsw_start", d(r.RusageStart.Nvcsw)},
		{"nvcsw_end", d(r.RusageEnd.Nvcsw)},
		{"nivcsw_start", d(r.RusageStart.Nivcsw)},
		{"nivcsw_end", d(r.RusageEnd.Nivcsw)},
		{"num_transactions", u(r.Transactions)},
		{"bytes_read", u(r.BytesRead)},
		{"bytes_written", u(r.BytesWritten)},
	}
	if r.Interrupted != "" {
		kv = append(kv, KV{"interrupted", r.Interrupted})
	}
	if r.Options.Workload == UDPStream || r.Options.Workload == UDPRR {
		kv = append(kv, KV{"packets_read", u(r.PacketsRead)}, KV{"packets_written", u(r.PacketsWritten)})
	}
	if r.Options.Workload == UDPRR {
		// The client's counts, on either side (see Result.UDPResends).
		kv = append(kv, KV{"udp_resends", u(r.UDPResends)}, KV{"udp_duplicates", u(r.UDPDuplicates)}, KV{"udp_stale", u(r.UDPStale)})
	}
	if r.Options.Workload == TCPCRR {
		kv = append(kv, KV{"num_connections", u(r.Connections)})
	}
	if r.Options.ZeroCopy {
		kv = append(kv, KV{"zerocopy_sends", u(r.ZerocopySends)}, KV{"zerocopy_completions", u(r.ZerocopyCompletions)},
			KV{"zerocopy_copied", u(r.ZerocopyCopied)})
	}
	if r.Options.LogRTT != "" && r.Side == ClientSide && r.Options.Workload.IsRR() {
		kv = append(kv, KV{"rtt_transactions_logged", strconv.Itoa(len(r.RTTLog))})
	}
	if r.Options.RxZeroCopy {
		kv = append(kv, KV{"rx_zerocopy_bytes", u(r.RxZerocopyBytes)})
	}
	if r.Options.Workload == TCPRR || r.Options.Workload == TCPStream {
		// From TCP_INFO as each connection ended: segments this side
		// retransmitted, and the mean smoothed RTT (seconds).
		kv = append(kv, KV{"tcp_retransmits", u(r.TCPRetransmits)}, KV{"tcp_rtt", seconds(r.TCPRTT)})
		if r.Remote != nil {
			// The peer's, so that either side's report tells who resent.
			kv = append(kv, KV{"remote_tcp_retransmits", u(r.Remote.TCPRetransmits)}, KV{"remote_tcp_rtt", seconds(time.Duration(r.Remote.TCPRTT))})
		}
	}
	kv = append(kv,
		KV{"start_index", strconv.Itoa(r.StartIndex)},
		KV{"end_index", strconv.Itoa(r.EndIndex)},
		KV{"num_samples", strconv.Itoa(r.NumSamples)},
	)
	if r.Options.Workload.IsRR() {
		kv = append(kv, KV{"throughput", float(r.Throughput)})
	} else {
		kv = append(kv, KV{"throughput_Mbps", float(r.ThroughputMbps)})
		kv = append(kv, KV{"sender_throughput_Mbps", float(r.senderMbps())})
		if r.Options.ThroughputUnit != "" {
			// neper's keys, when asked for with its flag: the rate in the
			// --throughput-opt unit, and the unit.
			v, unit := ThroughputIn(r.Options.ThroughputUnit, r.ThroughputMbps*1e6/8)
			kv = append(kv, KV{"throughput", float(v)}, KV{"throughput_units", unit})
		}
	}
	if fr := r.FlowFairness(); fr != nil {
		// hookperf's: the slowest and the fastest flow, and Jain's index.
		kv = append(kv, KV{"flow_throughput_min", float(fr.Min)}, KV{"flow_throughput_max", float(fr.Max)},
			KV{"flow_fairness", float(fr.Jain)})
	}
	kv = append(kv,
		KV{"local_throughput", float(r.LocalThroughput)},
		KV{"remote_throughput", float(r.RemoteThroughput)},
		KV{"correlation_coefficient", float(r.Correlation)},
		KV{"time_end", unixTime(r.TimeEnd)},
	)
	if r.Latency != nil {
		l := r.Latency
		kv = append(kv,
			KV{"latency_min", seconds(l.Min)},
			KV{"latency_mean", seconds(l.Mean)},
			KV{"latency_max", seconds(l.Max)},
			KV{"latency_stddev", seconds(l.Stddev)},
		)
		for _, p := range l.Percentiles {
			kv = append(kv, KV{stats.PercentileKey(p.P), seconds(p.Value)})
		}
	}
	return kv
}

// senderMbps is the writer's rate in a stream: this side's if it wrote,
// else the peer's.
func (r *Result) senderMbps() float64 {
	if r.SenderThroughputMbps > 0 || r.Remote == nil {
		return r.SenderThroughputMbps
	}
	return r.Remote.WriteBitrate / 1e6
}

// WriteKeyValues writes the options and the results of r as neper's
// key=value lines.
func WriteKeyValues(w io.Writer, r *Result) error {
	for _, kv := range append(r.Options.OptionPairs(), r.ResultPairs()...) {
		if _, err := fmt.Fprintf(w, "%s=%s\n", kv.Key, kv.Value); err != nil {
			return err
		}
	}
	return nil
}

// WriteJSON writes the same facts as one JSON object: "options" and
// "results" (numbers as numbers), "samples" per interval (the side's
// totals so far, "cpu" its workers' CPU seconds), "remote_samples" (the
// peer's, as it sent them), "flow_samples" per flow per interval (as -A's
// rows; latencies in seconds, on an rr client), "latency_histogram" (an
// rr client's non-empty buckets: "low" and "high" in seconds, "count"),
// and "environment" (hostname, kernel, machine, cpus, version, go).
func WriteJSON(w io.Writer, r *Result) error {
	doc := map[string]any{
		"options": pairsToMap(r.Options.OptionPairs()),
		"results": pairsToMap(r.ResultPairs()),
		"side":    r.Side.String(),
		// The run as a Go benchmark line, which hookperf compare reads.
		"gobench": GoBenchLine(r),
	}
	samples := []map[string]any{}
	for _, s := range r.Samples {
		samples = append(samples, map[string]any{
			"time": s.Time.Seconds(), "transactions": s.Transactions,
			"bytes_read": s.BytesRead, "bytes_written": s.BytesWritten,
			"warmup": s.Warmup, "cpu": (s.Utime + s.Stime).Seconds(),
		})
	}
	doc["samples"] = samples
	if r.Remote != nil && len(r.Remote.Samples) > 0 {
		doc["remote_samples"] = r.Remote.Samples
	}
	doc["environment"] = map[string]any{
		"hostname": r.Env.Hostname, "kernel": r.Env.Kernel, "machine": r.Env.Machine,
		"cpus": r.Env.CPUs, "version": r.Env.Version, "go": r.Env.Go,
	}
	if r.Latency != nil && len(r.Latency.Histogram) > 0 {
		hist := make([]map[string]any, len(r.Latency.Histogram))
		for i, b := range r.Latency.Histogram {
			hist[i] = map[string]any{"low": b.Low.Seconds(), "high": b.High.Seconds(), "count": b.Count}
		}
		doc["latency_histogram"] = hist
	}
	flows := []map[string]any{}
	for _, s := range r.FlowSamples {
		m := map[string]any{
			"time": s.Time.Seconds(), "worker": s.Worker, "flow_id": s.Flow,
			"transactions": s.Transactions, "bytes_read": s.BytesRead, "bytes_written": s.BytesWritten,
		}
		if s.LatencyCount > 0 {
			m["latency_count"] = s.LatencyCount
			m["latency_min"], m["latency_mean"] = s.LatencyMin.Seconds(), s.LatencyMean.Seconds()
			m["latency_max"], m["latency_stddev"] = s.LatencyMax.Seconds(), s.LatencyStddev.Seconds()
		}
		flows = append(flows, m)
	}
	doc["flow_samples"] = flows
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

// textKeys are the keys whose values are text whatever they look like.
var textKeys = map[string]bool{
	"workload": true, "host": true, "local_host": true, "congestion_control": true,
	"all_samples": true, "report": true, "percentiles": true, "interrupted": true, "throughput_opt": true, "throughput_units": true, "log_rtt": true,
}

// pairsToMap gives each key a fixed JSON type: text keys are strings,
// true/false are booleans, the rest numbers (time_start and time_end, in
// seconds, keep microseconds as JSON numbers).
func pairsToMap(kvs []KV) map[string]any {
	m := make(map[string]any, len(kvs))
	for _, kv := range kvs {
		if textKeys[kv.Key] {
			m[kv.Key] = kv.Value
		} else if kv.Value == "true" || kv.Value == "false" {
			m[kv.Key] = kv.Value == "true"
		} else if v, err := strconv.ParseFloat(kv.Value, 64); err == nil && !math.IsNaN(v) && !math.IsInf(v, 0) {
			m[kv.Key] = v
		} else {
			m[kv.Key] = kv.Value
		}
	}
	return m
}

// SampleColumns returns the CSV columns of -A, one row per flow (or per
// worker) per interval: neper's, in neper's order (a latency_pNN column per requested
// percentile, then the worker thread's rusage), and hookperf's additions
// last.
func SampleColumns(percentiles []float64) []string {
	cols := []string{
		"time", "tid", "flow_id", "bytes_read", "transactions",
		"latency_min", "latency_mean", "latency_max", "latency_stddev",
	}
	for _, p := range percentiles {
		cols = append(cols, stats.PercentileKey(p))
	}
	return append(cols,
		"utime", "stime", "maxrss", "minflt", "majflt", "nvcsw", "nivcsw",
		"bytes_written", "latency_count")
}

// WriteSamplesCSV writes the samples as CSV: a row per flow per interval
// (r.FlowSamples), or a row per worker per interval (flow_id -1) with
// --worker-samples or where a side has no per-flow samples (a tcp_crr or
// UDP server). A flow's row has its worker's thread rusage, as neper's.
// Percentile columns are empty in samples that have none (a server, a
// stream).
func WriteSamplesCSV(w io.Writer, r *Result) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(SampleColumns(r.Options.Percentiles)); err != nil {
		return err
	}
	u := func(v uint64) string { return strconv.FormatUint(v, 10) }
	d := func(v int64) string { return strconv.FormatInt(v, 10) }
	rows := r.FlowSamples
	if r.Options.WorkerSamples || len(rows) == 0 {
		rows = r.WorkerSamples
	}
	for _, s := range rows {
		row := []string{
			seconds(r.TimeStart.Add(s.Time).Sub(time.Unix(0, 0))), strconv.Itoa(s.Worker), strconv.Itoa(s.Flow),
			u(s.BytesRead), u(s.Transactions),
			seconds(s.LatencyMin), seconds(s.LatencyMean), seconds(s.LatencyMax), seconds(s.LatencyStddev),
		}
		for i := range r.Options.Percentiles {
			v := ""
			if i < len(s.LatencyPercentiles) {
				v = seconds(s.LatencyPercentiles[i].Value)
			}
			row = append(row, v)
		}
		row = append(row,
			seconds(s.Utime), seconds(s.Stime), d(s.MaxRSS), d(s.MinFlt), d(s.MajFlt), d(s.Nvcsw), d(s.Nivcsw),
			u(s.BytesWritten), u(s.LatencyCount))
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteGoBench writes r as one line of Go's benchmark format, so that
// benchstat can compare two sets of runs (two kernels, two sysctls):
//
//	BenchmarkTCPRR/flows=1/threads=1/req=1/resp=1  18126  18126 trans/s  53900 lat-mean-ns  51200 lat-p50-ns  0 retrans  29.1 cpu-%
//
// The name holds the workload and the options that shape it; the count
// is the transactions (rr) or 1 (stream). rr runs report trans/s and the
// latency mean and percentiles in ns; streams the received Mbit/s (and
// the sent Mbit/s for udp_stream); tcp_rr and tcp_stream the segments
// this side retransmitted; all this process's CPU use over the run, in %
// of one CPU.
func WriteGoBench(w io.Writer, r *Result) error {
	_, err := fmt.Fprintln(w, GoBenchLine(r))
	return err
}

// GoBenchLine is the result as one line in Go's benchmark format (see
// WriteGoBench), without its newline.
func GoBenchLine(r *Result) string {
	o := &r.Options
	name := "Benchmark" + goBenchNames[o.Workload] + fmt.Sprintf("/flows=%d/threads=%d", o.NumFlows, o.NumThreads)
	n := uint64(1)
	var metrics []string
	metric := func(v float64, unit string) {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			v = 0
		}
		metrics = append(metrics, strconv.FormatFloat(v, 'g', 6, 64)+" "+unit)
	}
	if o.Workload.IsStream() {
		name += fmt.Sprintf("/size=%d", o.BufferSize)
		metric(r.ThroughputMbps, "Mbit/s")
		if o.Workload == UDPStream {
			sent := r.senderMbps()
			metric(sent, "sent-Mbit/s")
			if sent > 0 {
				// What the network or the receiver dropped.
				metric(100*max(0, 1-r.ThroughputMbps/sent), "loss-%")
			}
		}
	} else {
		name += fmt.Sprintf("/req=%d/resp=%d", o.RequestSize, o.ResponseSize)
		n = max(r.Transactions, 1)
		metric(r.Throughput, "trans/s")
		if o.Workload == UDPRR && r.Transactions > 0 {
			// Requests sent again after --udp-timeout: datagrams lost.
			metric(100*float64(r.UDPResends)/float64(r.Transactions), "resend-%")
		}
		if l := r.Latency; l != nil {
			metric(float64(l.Mean.Nanoseconds()), "lat-mean-ns")
			for _, p := range l.Percentiles {
				metric(float64(p.Value.Nanoseconds()), "lat-p"+strconv.FormatFloat(p.P, 'f', -1, 64)+"-ns")
			}
		}
	}
	if o.Workload == TCPRR || o.Workload == TCPStream {
		metric(float64(r.TCPRetransmits), "retrans")
	}
	if r.TotalRunTime > 0 {
		cpu := (r.RusageEnd.Utime + r.RusageEnd.Stime) - (r.RusageStart.Utime + r.RusageStart.Stime)
		metric(100*cpu.Seconds()/r.TotalRunTime.Seconds(), "cpu-%")
	}
	return fmt.Sprintf("%s\t%d\t%s", name, n, strings.Join(metrics, "\t"))
}

// goBenchNames are the workloads as Go benchmark names.
var goBenchNames = map[Workload]string{
	TCPRR: "TCPRR", TCPCRR: "TCPCRR", TCPStream: "TCPStream", UDPRR: "UDPRR", UDPStream: "UDPStream", DummyTest: "DummyTest",
}
