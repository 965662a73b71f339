package kit

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gotest.tools/v3/assert"
)

// reportTestOptionKeys are the keys of OptionPairs: every option of
// SPEC.md's "Options" the kit knows (the CLI-only ones, --script, --local,
// --json, -V, are not the kit's).
var reportTestOptionKeys = []string{
	"workload", "client", "host", "local_host", "source_port", "control_port", "port", "num_ports", "ipv4", "ipv6",
	"magic", "reuseport", "reuseaddr", "num_flows", "num_threads", "num_clients",
	"test_length", "suicide_length", "buffer_size", "request_size", "response_size",
	"enable_read", "enable_write", "edge_trigger", "delay", "noburst", "maxevents", "nonblocking", "async_connect",
	"pin_cpu", "pin_numa", "dry_run", "listen_backlog", "mark", "spin", "udp_timeout", "max_pacing_rate", "min_rto",
	"congestion_control", "no_delay", "no_cork", "split_bidir", "zerocopy", "skip_rx_copy", "rx_zerocopy", "tcp_fastopen", "tcp_tx_delay", "time_wait", "debug", "freebind",
	"wait_start", "iostat_ms", "stime_use_proc", "nolog", "throughput_opt",
	"interval", "all_samples", "worker_samples", "report", "histogram", "percentiles", "log_rtt", "logrtt_entries_per_flow", "warmup",
}

// reportTestSpecKeys are the result keys SPEC.md's "Output" lists for
// every workload.
var reportTestSpecKeys = []string{
	"total_run_time", "invalid_secret_count", "time_start",
	"utime_start", "utime_end", "stime_start", "stime_end",
	"maxrss_start", "maxrss_end", "minflt_start", "minflt_end",
	"majflt_start", "majflt_end", "nvcsw_start", "nvcsw_end",
	"nivcsw_start", "nivcsw_end", "num_transactions", "start_index",
	"end_index", "num_samples", "correlation_coefficient", "time_end",
	"local_throughput", "remote_throughput",
}

// reportTestExtraKeys are keys the kit prints beyond SPEC.md's list:
// both byte counts always, datagram counts in UDP, connections in
// tcp_crr, and the sender's rate in a stream (SPEC.md asks for it in
// udp_stream).
var reportTestExtraKeys = []string{"bytes_read", "bytes_written"}

// reportTestParseKV parses key=value lines, failing t on a malformed or
// repeated key.
func reportTestParseKV(t *testing.T, out string) map[string]string {
	t.Helper()
	kv := map[string]string{}
	if !strings.HasSuffix(out, "\n") {
		t.Errorf("output does not end with a newline: %q", out)
	}
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		k, v, ok := strings.Cut(line, "=")
		if !ok || k == "" {
			t.Errorf("line %q is not key=value", line)
			continue
		}
		if _, dup := kv[k]; dup {
			t.Errorf("key %q printed more than once", k)
		}
		kv[k] = v
	}
	return kv
}

func reportTestKeys(m map[string]string) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// reportTestRR is a hand-built tcp_rr client result.
func reportTestRR() *Result {
	o := DefaultOptions(TCPRR)
	o.Client = true
	o.Host = "192.0.2.1"
	o.Family = IPv4
	o.Percentiles = []float64{50, 99.9}
	o.Delay = 1500 * time.Nanosecond
	o.MinRTO = 5 * time.Millisecond
	o.MaxPacingRate = 1_000_000
	o.CongestionControl = "cubic"
	o.Warmup = 2 * time.Second
	o.SuicideLength = 30 * time.Second
	o.Interval = 500 * time.Millisecond
	o.AllSamples = "samples.csv"
	return &Result{
		Side:               ClientSide,
		Options:            o,
		InvalidSecretCount: 2,
		TimeStart:          time.Unix(1700000000, 5000),
		TimeEnd:            time.Unix(1700000010, 500000000),
		TotalRunTime:       10500 * time.Millisecond,
		RusageStart:        Rusage{Utime: 1250 * time.Millisecond, Stime: 250 * time.Millisecond, MaxRSS: 1024, MinFlt: 10, MajFlt: 1, Nvcsw: 100, Nivcsw: 3},
		RusageEnd:          Rusage{Utime: 3 * time.Second, Stime: time.Second, MaxRSS: 2048, MinFlt: 20, MajFlt: 2, Nvcsw: 200, Nivcsw: 6},
		Transactions:       1000,
		BytesRead:          1001,
		BytesWritten:       1002,
		StartIndex:         4,
		EndIndex:           20,
		NumSamples:         21,
		Seconds:            8,
		Correlation:        0.999,
		Throughput:         100.5,
		TCPConnections:     1,
		TCPRetransmits:     3,
		TCPRTT:             21 * time.Microsecond,
		LocalThroughput:    1600,
		RemoteThroughput:   1600.25,
		Latency: &Latency{
			Count: 1000, Min: 10 * time.Microsecond, Mean: 50 * time.Microsecond,
			Max: time.Millisecond, Stddev: 7 * time.Microsecond,
			Percentiles: []Percentile{{P: 50, Value: 45 * time.Microsecond}, {P: 99.9, Value: 123 * time.Microsecond}},
			Histogram: []LatencyBucket{
				{Low: 10 * time.Microsecond, High: 11 * time.Microsecond, Count: 999},
				{Low: 990 * time.Microsecond, High: time.Millisecond, Count: 1},
			},
		},
		Env: Environment{Hostname: "h1", Kernel: "6.1.0 #1 SMP", Machine: "x86_64", CPUs: 2, Version: "v1.2.3", Go: "go1.26.8"},
		Samples: []Sample{
			{Time: 500 * time.Millisecond, Worker: -1, Transactions: 50, BytesRead: 50, BytesWritten: 50, Warmup: true, Utime: 200 * time.Millisecond, Stime: 50 * time.Millisecond},
			{Time: time.Second, Worker: -1, Transactions: 100, BytesRead: 100, BytesWritten: 100},
		},
	}
}

func TestWriteKeyValuesRR(t *testing.T) {
	var out bytes.Buffer
	if err := WriteKeyValues(&out, reportTestRR()); err != nil {
		t.Fatalf("WriteKeyValues: %v", err)
	}
	want := map[string]string{
		// Options.
		"workload": "tcp_rr", "client": "true", "host": "192.0.2.1", "local_host": "", "source_port": "0",
		"control_port": "12866", "port": "12867", "num_ports": "1", "ipv4": "true", "ipv6": "false",
		"magic": "42", "reuseport": "false", "reuseaddr": "false",
		"num_flows": "1", "num_threads": "1", "num_clients": "1",
		"test_length": "10", "suicide_length": "30", "buffer_size": "16384",
		"request_size": "1", "response_size": "1", "enable_read": "false", "enable_write": "false",
		"edge_trigger": "false", "delay": "1500", "noburst": "0", "maxevents": "1000", "nonblocking": "false", "async_connect": "true",
		"pin_cpu": "false", "pin_numa": "false", "dry_run": "false", "listen_backlog": "4096", "mark": "0", "spin": "-1", "udp_timeout": "0.2",
		"max_pacing_rate": "1000000", "min_rto": "5", "congestion_control": "cubic",
		"no_delay": "false", "no_cork": "false", "split_bidir": "false", "zerocopy": "false", "skip_rx_copy": "false", "rx_zerocopy": "false", "tcp_fastopen": "false", "tcp_tx_delay": "0", "time_wait": "false", "debug": "false", "freebind": "false",
		"wait_start": "0", "iostat_ms": "0", "stime_use_proc": "false", "nolog": "false", "throughput_opt": "",
		"interval": "0.5", "all_samples": "samples.csv", "worker_samples": "false", "report": "", "histogram": "false", "percentiles": "50,99.9", "log_rtt": "", "logrtt_entries_per_flow": "10000", "warmup": "2",
		// Results.
		"total_run_time": "10.5", "invalid_secret_count": "2",
		"time_start": "1700000000.000005000", "time_end": "1700000010.500000000",
		"utime_start": "1.25", "utime_end": "3", "stime_start": "0.25", "stime_end": "1",
		"maxrss_start": "1024", "maxrss_end": "2048", "minflt_start": "10", "minflt_end": "20",
		"majflt_start": "1", "majflt_end": "2", "nvcsw_start": "100", "nvcsw_end": "200",
		"nivcsw_start": "3", "nivcsw_end": "6",
		"num_transactions": "1000", "bytes_read": "1001", "bytes_written": "1002",
		"start_index": "4", "end_index": "20", "num_samples": "21",
		"throughput": "100.5", "local_throughput": "1600", "remote_throughput": "1600.25",
		"correlation_coefficient": "0.999", "latency_min": "0.00001", "latency_mean": "0.00005", "latency_max": "0.001",
		"latency_stddev": "0.000007", "latency_p50": "0.000045", "latency_p99.9": "0.000123",
		"tcp_retransmits": "3", "tcp_rtt": "0.000021",
	}
	got := reportTestParseKV(t, out.String())
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("WriteKeyValues mismatch (-want +got):\n%s", diff)
	}
	// Options come first, as neper prints them.
	lines := strings.Split(out.String(), "\n")
	for i, k := range reportTestOptionKeys {
		if !strings.HasPrefix(lines[i], k+"=") {
			t.Errorf("line %d = %q, want option %s", i, lines[i], k)
		}
	}
}

// TestWriteKeyValuesKeys checks each workload prints exactly SPEC.md's
// keys (plus the options and the documented extras), each once.
func TestWriteKeyValuesKeys(t *testing.T) {
	latency := []string{"latency_min", "latency_mean", "latency_max", "latency_stddev", "latency_p50", "latency_p99.9"}
	tests := []struct {
		w       Workload
		latency bool // a client's rr result has a latency summary
		extra   []string
	}{
		{TCPRR, true, []string{"throughput", "tcp_retransmits", "tcp_rtt"}},
		{TCPCRR, true, []string{"throughput", "num_connections"}},
		{UDPRR, true, []string{"throughput", "packets_read", "packets_written", "udp_resends", "udp_duplicates", "udp_stale"}},
		{TCPRR, false, []string{"throughput", "tcp_retransmits", "tcp_rtt"}},
		{TCPStream, false, []string{"throughput_Mbps", "sender_throughput_Mbps", "tcp_retransmits", "tcp_rtt"}},
		{UDPStream, false, []string{"throughput_Mbps", "sender_throughput_Mbps", "packets_read", "packets_written"}},
	}
	for _, tt := range tests {
		name := string(tt.w)
		if !tt.latency {
			name += " without latency"
		}
		t.Run(name, func(t *testing.T) {
			r := reportTestRR()
			r.Options.Workload = tt.w
			if !tt.latency {
				r.Latency = nil
			}
			var out bytes.Buffer
			if err := WriteKeyValues(&out, r); err != nil {
				t.Fatalf("WriteKeyValues: %v", err)
			}
			var want []string
			want = append(want, reportTestOptionKeys...)
			want = append(want, reportTestSpecKeys...)
			want = append(want, reportTestExtraKeys...)
			want = append(want, tt.extra...)
			if tt.latency {
				want = append(want, latency...)
			}
			slices.Sort(want)
			if diff := cmp.Diff(want, reportTestKeys(reportTestParseKV(t, out.String()))); diff != "" {
				t.Errorf("keys mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWriteKeyValuesStream(t *testing.T) {
	tests := []struct {
		name string
		r    *Result
		want map[string]string
	}{
		{
			name: "tcp_stream server that read",
			r: &Result{
				Side: ServerSide, Options: DefaultOptions(TCPStream),
				ThroughputMbps: 9400.5, LocalThroughput: 9.4005e9, RemoteThroughput: 9.41e9,
				Correlation: math.NaN(), Remote: &Figures{WriteBitrate: 9.41e9},
			},
			want: map[string]string{
				"throughput_Mbps": "9400.5", "sender_throughput_Mbps": "9410",
				"local_throughput": "9400500000", "remote_throughput": "9410000000",
				"correlation_coefficient": "0", "time_start": "0", "time_end": "0",
			},
		},
		{
			name: "tcp_stream client that wrote",
			r: &Result{
				Side: ClientSide, Options: DefaultOptions(TCPStream),
				ThroughputMbps: 9400.5, SenderThroughputMbps: 9410, Correlation: math.Inf(1),
				Remote: &Figures{WriteBitrate: 1},
			},
			want: map[string]string{
				"throughput_Mbps": "9400.5", "sender_throughput_Mbps": "9410",
				"local_throughput": "0", "remote_throughput": "0",
				"correlation_coefficient": "0", "time_start": "0", "time_end": "0",
			},
		},
		{
			name: "udp_stream server without remote figures",
			r: &Result{
				Side: ServerSide, Options: DefaultOptions(UDPStream),
				ThroughputMbps: 12.25, PacketsRead: 1000, PacketsWritten: 0, BytesRead: 16384000,
			},
			want: map[string]string{
				"throughput_Mbps": "12.25", "sender_throughput_Mbps": "0",
				"local_throughput": "0", "remote_throughput": "0",
				"correlation_coefficient": "0", "time_start": "0", "time_end": "0",
				"packets_read": "1000", "packets_written": "0", "bytes_read": "16384000",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := WriteKeyValues(&out, tt.r); err != nil {
				t.Fatalf("WriteKeyValues: %v", err)
			}
			all := reportTestParseKV(t, out.String())
			got := map[string]string{}
			for k := range tt.want {
				if v, ok := all[k]; ok {
					got[k] = v
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("WriteKeyValues mismatch (-want +got):\n%s", diff)
			}
			for _, k := range []string{"throughput", "latency_min", "latency_p50", "num_connections"} {
				if v, ok := all[k]; ok {
					t.Errorf("stream output has %s=%s", k, v)
				}
			}
		})
	}
}

// TestWriteKeyValuesThroughputUnit: with --throughput-opt a stream's
// report adds neper's throughput= in that unit and throughput_units=.
func TestWriteKeyValuesThroughputUnit(t *testing.T) {
	for _, tt := range []struct {
		unit, value, label string
	}{
		{"Mb", "9400.5", "Mbit/s"},
		{"Gb", "9.4005", "Gbit/s"},
		{"MB", "1175.0625", "MB/s"},
		{"auto-b", "9.4005", "Gbit/s"},
		{"auto-iB", "1.0943622328341007", "GiB/s"},
	} {
		t.Run(tt.unit, func(t *testing.T) {
			o := DefaultOptions(TCPStream)
			o.ThroughputUnit = tt.unit
			var out bytes.Buffer
			if err := WriteKeyValues(&out, &Result{Side: ServerSide, Options: o, ThroughputMbps: 9400.5}); err != nil {
				t.Fatal(err)
			}
			all := reportTestParseKV(t, out.String())
			assert.Equal(t, all["throughput"], tt.value)
			assert.Equal(t, all["throughput_units"], tt.label)
		})
	}
}

// TestThroughputIn: each unit's size, and the auto units' choice as
// neper makes it (the first of the kind that puts the figure in 1..1000),
// with the ends of the range kept where neper would stop.
func TestThroughputIn(t *testing.T) {
	for _, tt := range []struct {
		unit  string
		bps   float64 // bytes/s
		value float64
		label string
	}{
		{"", 125e6, 1000, "Mbit/s"},
		{"b", 1, 8, "bits/s"},
		{"K", 2048, 2, "KBytes/s"},
		{"Kib", 128, 1, "Kibit/s"},
		{"GiB", 1 << 30, 1, "GiB/s"},
		{"auto-b", 1250, 10, "Kbit/s"},
		{"auto-b", 125e6 * 10, 10, "Gbit/s"},
		{"auto-ib", 1 << 20, 8, "Mibit/s"},
		{"auto-B", 5e9, 5, "GB/s"},
		{"auto-B", 100, 0.1, "KB/s"},      // below every unit: the smallest
		{"auto-b", 250e9, 2000, "Gbit/s"}, // above every unit: the largest
	} {
		t.Run(fmt.Sprintf("%s/%g", tt.unit, tt.bps), func(t *testing.T) {
			v, label := ThroughputIn(tt.unit, tt.bps)
			assert.Equal(t, label, tt.label)
			assert.Assert(t, math.Abs(v-tt.value) < 1e-9*math.Max(1, tt.value), "%s: %v, want %v", tt.unit, v, tt.value)
		})
	}
	assert.ErrorContains(t, ValidThroughputUnit("mbit"), `unknown unit "mbit"`)
	assert.NilError(t, ValidThroughputUnit("auto-iB"))
}

func TestOptionPairsTestLength(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(o *Options)
		want   map[string]string
	}{
		{"seconds", func(o *Options) { o.TestLength = 1500 * time.Millisecond },
			map[string]string{"test_length": "1.5", "percentiles": ""}},
		{"transactions", func(o *Options) { o.TestLength, o.Transactions = 0, 100 },
			map[string]string{"test_length": "-100", "percentiles": ""}},
		{"one percentile", func(o *Options) { o.Percentiles = []float64{99} },
			map[string]string{"test_length": "10", "percentiles": "99"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := DefaultOptions(TCPRR)
			tt.mutate(&o)
			got := map[string]string{}
			for _, kv := range o.OptionPairs() {
				if _, ok := tt.want[kv.Key]; ok {
					got[kv.Key] = kv.Value
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("OptionPairs mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// reportTestFailingWriter fails every write.
type reportTestFailingWriter struct{}

var reportTestErrWrite = errors.New("disk full")

func (reportTestFailingWriter) Write([]byte) (int, error) { return 0, reportTestErrWrite }

func TestReportWritersReturnWriteErrors(t *testing.T) {
	r := reportTestRR()
	r.WorkerSamples = []Sample{{Worker: 0}}
	writers := map[string]func() error{
		"WriteKeyValues":  func() error { return WriteKeyValues(reportTestFailingWriter{}, r) },
		"WriteJSON":       func() error { return WriteJSON(reportTestFailingWriter{}, r) },
		"WriteSamplesCSV": func() error { return WriteSamplesCSV(reportTestFailingWriter{}, r) },
		"WriteGoBench":    func() error { return WriteGoBench(reportTestFailingWriter{}, r) },
	}
	for name, write := range writers {
		t.Run(name, func(t *testing.T) {
			if err := write(); !errors.Is(err, reportTestErrWrite) {
				t.Errorf("%s on a failing writer = %v, want %v", name, err, reportTestErrWrite)
			}
		})
	}
}

// reportTestJSON is WriteJSON's document, numbers kept as json.Number.
type reportTestJSON struct {
	Options map[string]any   `json:"options"`
	Results map[string]any   `json:"results"`
	Side    string           `json:"side"`
	Samples []map[string]any `json:"samples"`
	Flows   []map[string]any `json:"flow_samples"`
	Remote  []map[string]any `json:"remote_samples"`
	Env     map[string]any   `json:"environment"`
	Hist    []map[string]any `json:"latency_histogram"`
	GoBench string           `json:"gobench"`
}

func TestWriteJSON(t *testing.T) {
	r := reportTestRR()
	r.FlowSamples = []Sample{
		{Time: 500 * time.Millisecond, Worker: 1, Flow: 3, Transactions: 7, BytesRead: 8, BytesWritten: 9,
			LatencyCount: 7, LatencyMin: time.Millisecond, LatencyMean: 2 * time.Millisecond,
			LatencyMax: 4 * time.Millisecond, LatencyStddev: time.Millisecond},
		{Time: time.Second, Worker: 1, Flow: 3, Transactions: 7, BytesRead: 8, BytesWritten: 9},
	}
	var out bytes.Buffer
	if err := WriteJSON(&out, r); err != nil {
		t.Fatalf("WriteJSON: %v", err)
	}
	dec := json.NewDecoder(&out)
	dec.UseNumber()
	dec.DisallowUnknownFields()
	var doc reportTestJSON
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("WriteJSON output does not parse: %v", err)
	}
	if dec.More() {
		t.Errorf("WriteJSON wrote more than one JSON value")
	}
	if doc.Side != "client" {
		t.Errorf("side = %q, want client", doc.Side)
	}
	if want := GoBenchLine(r); doc.GoBench != want {
		t.Errorf("gobench = %q, want the --gobench line %q", doc.GoBench, want)
	}

	// The same facts as the key=value lines: every result is a number
	// equal to its key=value value.
	var kvOut bytes.Buffer
	if err := WriteKeyValues(&kvOut, r); err != nil {
		t.Fatalf("WriteKeyValues: %v", err)
	}
	kv := reportTestParseKV(t, kvOut.String())
	gotKeys := map[string]string{}
	for k := range doc.Options {
		gotKeys[k] = "option"
	}
	for k := range doc.Results {
		gotKeys[k] = "result"
	}
	wantKeys := map[string]string{}
	for _, p := range r.Options.OptionPairs() {
		wantKeys[p.Key] = "option"
	}
	for _, p := range r.ResultPairs() {
		wantKeys[p.Key] = "result"
	}
	if diff := cmp.Diff(wantKeys, gotKeys); diff != "" {
		t.Errorf("JSON keys mismatch (-want +got):\n%s", diff)
	}
	for k, v := range doc.Results {
		n, ok := v.(json.Number)
		if !ok {
			t.Errorf("results[%q] = %T %v, want a number", k, v, v)
			continue
		}
		got, _ := n.Float64()
		want, err := strconv.ParseFloat(kv[k], 64)
		if err != nil || got != want {
			t.Errorf("results[%q] = %v, key=value says %q", k, n, kv[k])
		}
	}
	if got := doc.Results["latency_p99.9"]; got != json.Number("0.000123") {
		t.Errorf(`results["latency_p99.9"] = %v, want 0.000123`, got)
	}

	// Options keep their types: booleans, numbers, and text as strings.
	wantOpts := map[string]any{
		"workload": "tcp_rr", "client": true, "host": "192.0.2.1", "local_host": "", "source_port": json.Number("0"),
		"control_port": json.Number("12866"), "port": json.Number("12867"), "num_ports": json.Number("1"),
		"ipv4": true, "ipv6": false, "magic": json.Number("42"),
		"reuseport": false, "reuseaddr": false,
		"num_flows": json.Number("1"), "num_threads": json.Number("1"), "num_clients": json.Number("1"),
		"test_length": json.Number("10"), "suicide_length": json.Number("30"),
		"buffer_size": json.Number("16384"), "request_size": json.Number("1"), "response_size": json.Number("1"),
		"enable_read": false, "enable_write": false, "edge_trigger": false,
		"delay": json.Number("1500"), "noburst": json.Number("0"), "maxevents": json.Number("1000"),
		"nonblocking": false, "async_connect": true, "pin_cpu": false, "pin_numa": false, "dry_run": false,
		"listen_backlog": json.Number("4096"), "mark": json.Number("0"), "spin": json.Number("-1"), "udp_timeout": json.Number("0.2"), "max_pacing_rate": json.Number("1000000"),
		"min_rto": json.Number("5"), "congestion_control": "cubic",
		"no_delay": false, "no_cork": false, "split_bidir": false, "zerocopy": false, "skip_rx_copy": false, "rx_zerocopy": false, "tcp_fastopen": false, "tcp_tx_delay": json.Number("0"), "time_wait": false, "debug": false, "freebind": false,
		"wait_start": json.Number("0"), "iostat_ms": json.Number("0"), "stime_use_proc": false, "nolog": false, "throughput_opt": "",
		"interval": json.Number("0.5"), "all_samples": "samples.csv", "worker_samples": false, "report": "", "histogram": false,
		"percentiles": "50,99.9", "log_rtt": "", "logrtt_entries_per_flow": json.Number("10000"), "warmup": json.Number("2"),
	}
	if diff := cmp.Diff(wantOpts, doc.Options); diff != "" {
		t.Errorf("JSON options mismatch (-want +got):\n%s", diff)
	}

	wantSamples := []map[string]any{
		{"time": json.Number("0.5"), "transactions": json.Number("50"), "bytes_read": json.Number("50"), "bytes_written": json.Number("50"), "warmup": true, "cpu": json.Number("0.25")},
		{"time": json.Number("1"), "transactions": json.Number("100"), "bytes_read": json.Number("100"), "bytes_written": json.Number("100"), "warmup": false, "cpu": json.Number("0")},
	}
	if diff := cmp.Diff(wantSamples, doc.Samples); diff != "" {
		t.Errorf("JSON samples mismatch (-want +got):\n%s", diff)
	}
	wantEnv := map[string]any{"hostname": "h1", "kernel": "6.1.0 #1 SMP", "machine": "x86_64", "cpus": json.Number("2"), "version": "v1.2.3", "go": "go1.26.8"}
	if diff := cmp.Diff(wantEnv, doc.Env); diff != "" {
		t.Errorf("JSON environment mismatch (-want +got):\n%s", diff)
	}
	wantHist := []map[string]any{
		{"low": json.Number("0.00001"), "high": json.Number("0.000011"), "count": json.Number("999")},
		{"low": json.Number("0.00099"), "high": json.Number("0.001"), "count": json.Number("1")},
	}
	if diff := cmp.Diff(wantHist, doc.Hist); diff != "" {
		t.Errorf("JSON latency histogram mismatch (-want +got):\n%s", diff)
	}
	if doc.Remote != nil {
		t.Errorf("remote_samples = %v without the peer's samples", doc.Remote)
	}
	// A flow's samples: latencies only where it had transactions.
	wantFlows := []map[string]any{
		{"time": json.Number("0.5"), "worker": json.Number("1"), "flow_id": json.Number("3"),
			"transactions": json.Number("7"), "bytes_read": json.Number("8"), "bytes_written": json.Number("9"),
			"latency_count": json.Number("7"), "latency_min": json.Number("0.001"), "latency_mean": json.Number("0.002"),
			"latency_max": json.Number("0.004"), "latency_stddev": json.Number("0.001")},
		{"time": json.Number("1"), "worker": json.Number("1"), "flow_id": json.Number("3"),
			"transactions": json.Number("7"), "bytes_read": json.Number("8"), "bytes_written": json.Number("9")},
	}
	if diff := cmp.Diff(wantFlows, doc.Flows); diff != "" {
		t.Errorf("JSON flow samples mismatch (-want +got):\n%s", diff)
	}
}

// TestWriteJSONHostStaysString: a host that looks like a number is
// still a host.
func TestWriteJSONHostStaysString(t *testing.T) {
	r := reportTestRR()
	r.Options.Host, r.Options.LocalHost = "1234", "10.0.0.1"
	var out bytes.Buffer
	if err := WriteJSON(&out, r); err != nil {
		t.Fatalf("WriteJSON: %v", err)
	}
	var doc reportTestJSON
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatalf("WriteJSON output does not parse: %v", err)
	}
	got := map[string]any{"host": doc.Options["host"], "local_host": doc.Options["local_host"]}
	want := map[string]any{"host": "1234", "local_host": "10.0.0.1"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("hosts mismatch (-want +got):\n%s", diff)
	}
}

// samplesCSV is what WriteSamplesCSV writes of r, parsed.
func samplesCSV(t *testing.T, r *Result) [][]string {
	t.Helper()
	var out bytes.Buffer
	if err := WriteSamplesCSV(&out, r); err != nil {
		t.Fatalf("WriteSamplesCSV: %v", err)
	}
	records, err := csv.NewReader(&out).ReadAll()
	if err != nil {
		t.Fatalf("WriteSamplesCSV output does not parse: %v", err)
	}
	return records
}

func TestWriteSamplesCSV(t *testing.T) {
	r := reportTestRR()
	r.TimeStart = time.Unix(1700000000, 0)
	r.WorkerSamples = []Sample{
		{Time: 500 * time.Millisecond, Worker: 0, Flow: -1, Transactions: 10, BytesRead: 11, BytesWritten: 12,
			LatencyCount: 10, LatencyMin: 10 * time.Microsecond, LatencyMean: 20 * time.Microsecond,
			LatencyMax: 30 * time.Microsecond, LatencyStddev: 5 * time.Microsecond,
			LatencyPercentiles: []Percentile{{P: 50, Value: 19 * time.Microsecond}, {P: 99.9, Value: 29 * time.Microsecond}},
			Utime:              100 * time.Millisecond, Stime: 200 * time.Millisecond, MaxRSS: 5288, MinFlt: 71, MajFlt: 1, Nvcsw: 7, Nivcsw: 8},
		{Time: 500 * time.Millisecond, Worker: 1, Flow: -1},
		{Time: 1500 * time.Millisecond, Worker: 0, Flow: -1, Transactions: 30},
	}
	records := samplesCSV(t, r)
	if len(records) == 0 {
		t.Fatal("WriteSamplesCSV wrote nothing")
	}
	// neper's samples.csv header for -p 50,99.9, then hookperf's two.
	header := []string{"time", "tid", "flow_id", "bytes_read", "transactions",
		"latency_min", "latency_mean", "latency_max", "latency_stddev", "latency_p50", "latency_p99.9",
		"utime", "stime", "maxrss", "minflt", "majflt", "nvcsw", "nivcsw", "bytes_written", "latency_count"}
	if diff := cmp.Diff(header, records[0]); diff != "" {
		t.Errorf("header mismatch (-want +got):\n%s", diff)
	}
	if got, want := len(records)-1, len(r.WorkerSamples); got != want {
		t.Errorf("%d rows, want one per worker sample, %d", got, want)
	}
	want := [][]string{
		{"1700000000.5", "0", "-1", "11", "10", "0.00001", "0.00002", "0.00003", "0.000005", "0.000019", "0.000029",
			"0.1", "0.2", "5288", "71", "1", "7", "8", "12", "10"},
		// No percentiles in a sample: empty cells, not zeros.
		{"1700000000.5", "1", "-1", "0", "0", "0", "0", "0", "0", "", "", "0", "0", "0", "0", "0", "0", "0", "0", "0"},
		{"1700000001.5", "0", "-1", "0", "30", "0", "0", "0", "0", "", "", "0", "0", "0", "0", "0", "0", "0", "0", "0"},
	}
	if diff := cmp.Diff(want, records[1:]); diff != "" {
		t.Errorf("rows mismatch (-want +got):\n%s", diff)
	}

	// SPEC.md's columns come in its order: time, tid, flow_id,
	// bytes_read, transactions, latency columns, then rusage columns.
	spec := []string{"time", "tid", "flow_id", "bytes_read", "transactions", "latency_mean", "utime", "stime"}
	last := -1
	for _, c := range spec {
		i := slices.Index(records[0], c)
		if i <= last {
			t.Errorf("column %q at %d, want it after %d", c, i, last)
		}
		last = i
	}
}

// TestWriteSamplesCSVFlowRows: a row per flow sample, unless
// --worker-samples asks for the workers' rows.
func TestWriteSamplesCSVFlowRows(t *testing.T) {
	r := reportTestRR()
	r.Options.Percentiles = nil
	r.WorkerSamples = []Sample{{Time: time.Second, Worker: 0, Flow: -1, Transactions: 5}}
	r.FlowSamples = []Sample{
		{Time: time.Second, Worker: 0, Flow: 0, Transactions: 2, LatencyCount: 2, LatencyMean: time.Millisecond},
		{Time: time.Second, Worker: 0, Flow: 1, Transactions: 3},
	}
	tests := []struct {
		name          string
		workerSamples bool
		want          [][]string // tid, flow_id, transactions, latency_mean
	}{
		{"per flow", false, [][]string{{"0", "0", "2", "0.001"}, {"0", "1", "3", "0"}}},
		{"per worker", true, [][]string{{"0", "-1", "5", "0"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r.Options.WorkerSamples = tt.workerSamples
			var got [][]string
			for _, rec := range samplesCSV(t, r)[1:] {
				got = append(got, []string{rec[1], rec[2], rec[4], rec[6]})
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("rows mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWriteSamplesCSVHeaderOnly(t *testing.T) {
	var out bytes.Buffer
	if err := WriteSamplesCSV(&out, reportTestRR()); err != nil {
		t.Fatalf("WriteSamplesCSV: %v", err)
	}
	if got, want := out.String(), strings.Join(SampleColumns([]float64{50, 99.9}), ",")+"\n"; got != want {
		t.Errorf("WriteSamplesCSV without samples = %q, want %q", got, want)
	}
}

func TestWriteGoBench(t *testing.T) {
	udp := func() *Result {
		o := DefaultOptions(UDPStream)
		o.NumFlows, o.NumThreads, o.BufferSize = 8, 2, 1400
		return &Result{Options: o, ThroughputMbps: 3000.5, SenderThroughputMbps: 3100, TotalRunTime: 2 * time.Second,
			RusageEnd: Rusage{Utime: 600 * time.Millisecond, Stime: 400 * time.Millisecond}}
	}
	tests := []struct {
		name string
		r    *Result
		want string
	}{
		// CPU: (3 s + 1 s) - (1.25 s + 0.25 s) over 10.5 s.
		{"tcp_rr", reportTestRR(), "BenchmarkTCPRR/flows=1/threads=1/req=1/resp=1\t1000\t100.5 trans/s\t50000 lat-mean-ns\t45000 lat-p50-ns\t123000 lat-p99.9-ns\t3 retrans\t23.8095 cpu-%\n"},
		// loss: 1 - 3000.5/3100.
		{"udp_stream", udp(), "BenchmarkUDPStream/flows=8/threads=2/size=1400\t1\t3000.5 Mbit/s\t3100 sent-Mbit/s\t3.20968 loss-%\t50 cpu-%\n"},
		// 5 resends in 1000 transactions.
		{"udp_rr", func() *Result {
			r := reportTestRR()
			r.Options.Workload, r.UDPResends, r.TotalRunTime = UDPRR, 5, 0
			return r
		}(), "BenchmarkUDPRR/flows=1/threads=1/req=1/resp=1\t1000\t100.5 trans/s\t0.5 resend-%\t50000 lat-mean-ns\t45000 lat-p50-ns\t123000 lat-p99.9-ns\n"},
		{"tcp_stream without a run time", func() *Result {
			r := udp()
			r.Options.Workload, r.TotalRunTime = TCPStream, 0
			return r
		}(), "BenchmarkTCPStream/flows=8/threads=2/size=1400\t1\t3000.5 Mbit/s\t0 retrans\n"},
		{"rr without transactions", func() *Result {
			r := reportTestRR()
			r.Transactions, r.Throughput, r.Latency, r.TotalRunTime = 0, 0, nil, 0
			return r
		}(), "BenchmarkTCPRR/flows=1/threads=1/req=1/resp=1\t1\t0 trans/s\t3 retrans\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := WriteGoBench(&out, tt.r); err != nil {
				t.Fatalf("WriteGoBench: %v", err)
			}
			if diff := cmp.Diff(tt.want, out.String()); diff != "" {
				t.Errorf("WriteGoBench (-want +got):\n%s", diff)
			}
		})
	}
}

// TestWriteKeyValuesRemoteTCP: with the peer's figures, tcp_rr and
// tcp_stream reports carry the peer's TCP_INFO beside this side's.
func TestWriteKeyValuesRemoteTCP(t *testing.T) {
	for _, w := range []Workload{TCPRR, TCPStream} {
		r := reportTestRR()
		r.Options.Workload = w
		r.Remote = &Figures{TCPRetransmits: 7, TCPRTT: 42000}
		var out bytes.Buffer
		if err := WriteKeyValues(&out, r); err != nil {
			t.Fatalf("WriteKeyValues: %v", err)
		}
		kv := reportTestParseKV(t, out.String())
		got := map[string]string{}
		for _, k := range []string{"tcp_retransmits", "tcp_rtt", "remote_tcp_retransmits", "remote_tcp_rtt"} {
			got[k] = kv[k]
		}
		want := map[string]string{"tcp_retransmits": "3", "tcp_rtt": "0.000021", "remote_tcp_retransmits": "7", "remote_tcp_rtt": "0.000042"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: TCP_INFO keys (-want +got):\n%s", w, diff)
		}
	}
}

// TestSecondsExact: seconds print as their exact decimal, the shortest
// form of the intended value, never a float's rounding.
func TestSecondsExact(t *testing.T) {
	tests := []struct {
		name string
		d    time.Duration
		want string
	}{
		{"zero", 0, "0"},
		{"whole", 10 * time.Second, "10"},
		{"micro", 1256938 * time.Microsecond, "1.256938"},
		{"nano", 1000444248, "1.000444248"},
		{"below a second", 27 * time.Microsecond, "0.000027"},
		{"negative", -1500 * time.Millisecond, "-1.5"},
		{"an epoch time", time.Unix(1795840852, 209586600).Sub(time.Unix(0, 0)), "1795840852.2095866"},
		{"rusage", time.Duration(1)*time.Second + 256938*time.Microsecond, "1.256938"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, seconds(tc.d)); diff != "" {
				t.Errorf("seconds(%d) (-want +got):\n%s", int64(tc.d), diff)
			}
		})
	}
}
