package kit

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gotest.tools/v3/assert"
)

// optTestProblems splits a Validate error into its problems, one a line
// (Validate joins them with errors.Join).
func optTestProblems(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	var lines []string
	for _, l := range strings.Split(err.Error(), "\n") {
		if l != "" {
			lines = append(lines, l)
		}
	}
	return lines
}

func TestDefaultOptionsValidate(t *testing.T) {
	for _, w := range Workloads {
		for _, client := range []bool{false, true} {
			name := string(w) + "/server"
			if client {
				name = string(w) + "/client"
			}
			t.Run(name, func(t *testing.T) {
				o := DefaultOptions(w)
				o.Client = client
				if err := o.Validate(); err != nil {
					t.Errorf("DefaultOptions(%s).Validate() = %v, want nil", w, err)
				}
			})
		}
	}
}

func TestDefaultOptionsValues(t *testing.T) {
	want := Options{
		Workload:      TCPRR,
		ControlPort:   12866,
		DataPort:      12867,
		Magic:         42,
		NumFlows:      1,
		NumThreads:    1,
		NumClients:    1,
		TestLength:    10 * time.Second,
		BufferSize:    16384,
		RequestSize:   1,
		ResponseSize:  1,
		MaxEvents:     1000,
		ListenBacklog: 4096,
		Interval:      time.Second,
		Spin:          -1,
		UDPTimeout:    200 * time.Millisecond,
	}
	if diff := cmp.Diff(want, DefaultOptions(TCPRR)); diff != "" {
		t.Errorf("DefaultOptions(tcp_rr) mismatch (-want +got):\n%s", diff)
	}
}

// TestValidateAccepts lists options on the edge of what is allowed.
func TestValidateAccepts(t *testing.T) {
	tests := []struct {
		name   string
		w      Workload
		mutate func(o *Options)
	}{
		{"server with more threads than flows", TCPRR, func(o *Options) { o.NumThreads, o.NumFlows = 4, 1 }},
		{"client with as many threads as flows", TCPRR, func(o *Options) { o.Client, o.NumThreads, o.NumFlows = true, 4, 4 }},
		{"server picks free ports", TCPRR, func(o *Options) { o.ControlPort, o.DataPort = 0, 0 }},
		{"highest port", TCPRR, func(o *Options) { o.ControlPort, o.DataPort = 65534, 65535 }},
		{"transaction count in tcp_rr", TCPRR, func(o *Options) { o.TestLength, o.Transactions = 0, 100 }},
		{"transaction count in tcp_crr", TCPCRR, func(o *Options) { o.TestLength, o.Transactions = 0, 100 }},
		{"transaction count in udp_rr", UDPRR, func(o *Options) { o.TestLength, o.Transactions = 0, 1 }},
		{"request and response of a whole buffer", TCPRR, func(o *Options) { o.RequestSize, o.ResponseSize = o.BufferSize, o.BufferSize }},
		{"largest buffer", TCPStream, func(o *Options) { o.BufferSize = 1 << 26 }},
		{"udp_rr largest datagram", UDPRR, func(o *Options) { o.BufferSize, o.RequestSize, o.ResponseSize = 1<<20, 65507, 65507 }},
		{"udp_stream largest datagram", UDPStream, func(o *Options) { o.BufferSize = 65507 }},
		{"request size is not checked in a stream", TCPStream, func(o *Options) { o.RequestSize, o.ResponseSize = 0, 0 }},
		{"pacing and congestion control on tcp", TCPStream, func(o *Options) { o.MaxPacingRate, o.CongestionControl = 1e9, "bbr" }},
		{"pacing on udp, as neper (fq paces any socket)", UDPStream, func(o *Options) { o.MaxPacingRate = 1e6 }},
		{"15-byte congestion control name", TCPRR, func(o *Options) { o.CongestionControl = strings.Repeat("c", 15) }},
		{"1ms interval", TCPRR, func(o *Options) { o.Interval = time.Millisecond }},
		{"percentiles up to 100", TCPRR, func(o *Options) { o.Percentiles = []float64{0.001, 50, 99.999, 100} }},
		{"warmup shorter than the test", TCPRR, func(o *Options) { o.Warmup = 9 * time.Second }},
		{"no busy polling", UDPStream, func(o *Options) { o.Spin = 0 }},
		{"the kit decides busy polling", TCPRR, func(o *Options) { o.Spin = SpinAuto }},
		{"suicide length, delay and min-rto", TCPRR, func(o *Options) {
			o.SuicideLength, o.Delay, o.MinRTO = time.Minute, time.Microsecond, 5*time.Millisecond
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := DefaultOptions(tt.w)
			tt.mutate(&o)
			if err := o.Validate(); err != nil {
				t.Errorf("Validate() = %v, want nil", err)
			}
		})
	}
}

func TestValidateRejects(t *testing.T) {
	tests := []struct {
		name   string
		w      Workload
		mutate func(o *Options)
		want   string // the flag (or phrase) the one problem must name
	}{
		{"unknown workload", "sctp_rr", func(o *Options) {}, "unknown workload"},
		{"empty workload", "", func(o *Options) {}, "unknown workload"},
		{"zero flows", TCPRR, func(o *Options) { o.NumFlows = 0 }, "-F/--num-flows"},
		{"spin below auto", TCPRR, func(o *Options) { o.Spin = -2 }, "--spin"},
		{"two report formats", TCPRR, func(o *Options) { o.JSON, o.GoBench = true, true }, "--gobench"},
		{"spin too high", TCPRR, func(o *Options) { o.Spin = 1<<20 + 1 }, "--spin"},
		{"negative flows", TCPRR, func(o *Options) { o.NumFlows = -3 }, "-F/--num-flows"},
		{"zero threads", TCPRR, func(o *Options) { o.NumThreads = 0 }, "-T/--num-threads"},
		{"too many threads", TCPRR, func(o *Options) { o.NumThreads, o.NumFlows = MaxThreads+1, MaxThreads+1 }, "-T/--num-threads: at most 4096"},
		{"zero buffer in rr", TCPRR, func(o *Options) { o.BufferSize = 0 }, "-B/--buffer-size"},
		{"zero buffer in udp_rr", UDPRR, func(o *Options) { o.BufferSize = 0 }, "-B/--buffer-size"},
		{"client with idle threads", TCPRR, func(o *Options) { o.Client, o.NumThreads, o.NumFlows = true, 4, 2 }, "-T/--num-threads"},
		{"zero clients", TCPRR, func(o *Options) { o.NumClients = 0 }, "--num-clients"},
		{"control port too high", TCPRR, func(o *Options) { o.ControlPort = 65536 }, "-C/--control-port"},
		{"negative control port", TCPRR, func(o *Options) { o.ControlPort = -1 }, "-C/--control-port"},
		{"client without control port", TCPRR, func(o *Options) { o.Client, o.ControlPort = true, 0 }, "-C/--control-port"},
		{"data port too high", TCPRR, func(o *Options) { o.DataPort = 70000 }, "-P/--port"},
		{"negative data port", UDPStream, func(o *Options) { o.DataPort = -1 }, "-P/--port"},
		{"data port equal to control port", TCPRR, func(o *Options) { o.DataPort = o.ControlPort }, "-P/--port"},
		{"client data port equal to control port", UDPRR, func(o *Options) { o.Client, o.DataPort = true, o.ControlPort }, "-P/--port"},
		{"negative test length", TCPRR, func(o *Options) { o.TestLength = -time.Second }, "-l/--test-length"},
		{"zero test length", TCPRR, func(o *Options) { o.TestLength = 0 }, "-l/--test-length"},
		{"negative transaction count", TCPRR, func(o *Options) { o.Transactions = -5 }, "-l/--test-length"},
		{"transactions on tcp_stream", TCPStream, func(o *Options) { o.TestLength, o.Transactions = 0, 100 }, "-l/--test-length"},
		{"transactions on udp_stream", UDPStream, func(o *Options) { o.TestLength, o.Transactions = 0, 100 }, "-l/--test-length"},
		{"negative suicide length", TCPRR, func(o *Options) { o.SuicideLength = -time.Second }, "-s/--suicide-length"},
		{"zero buffer", TCPStream, func(o *Options) { o.BufferSize = 0 }, "-B/--buffer-size"},
		{"buffer too large", TCPStream, func(o *Options) { o.BufferSize = 1<<26 + 1 }, "-B/--buffer-size"},
		{"udp_stream datagram too large", UDPStream, func(o *Options) { o.BufferSize = 65508 }, "-B/--buffer-size"},
		{"zero request size", TCPRR, func(o *Options) { o.RequestSize = 0 }, "-Q/--request-size"},
		{"request larger than the buffer", TCPCRR, func(o *Options) { o.RequestSize = o.BufferSize + 1 }, "-Q/--request-size"},
		{"udp request larger than a datagram", UDPRR, func(o *Options) { o.BufferSize, o.RequestSize = 1<<20, 65508 }, "-Q/--request-size"},
		{"zero response size", UDPRR, func(o *Options) { o.ResponseSize = 0 }, "-R/--response-size"},
		{"response larger than the buffer", TCPRR, func(o *Options) { o.BufferSize, o.ResponseSize = 100, 101 }, "-R/--response-size"},
		{"negative delay", TCPRR, func(o *Options) { o.Delay = -1 }, "-D/--delay"},
		{"zero maxevents", TCPRR, func(o *Options) { o.MaxEvents = 0 }, "--maxevents"},
		{"zero listen backlog", TCPRR, func(o *Options) { o.ListenBacklog = 0 }, "--listen-backlog"},
		{"zero udp timeout", UDPRR, func(o *Options) { o.UDPTimeout = 0 }, "--udp-timeout"},
		{"sub-millisecond udp timeout", UDPRR, func(o *Options) { o.UDPTimeout = 999 * time.Microsecond }, "--udp-timeout"},
		{"negative min-rto", TCPRR, func(o *Options) { o.MinRTO = -time.Millisecond }, "--min-rto"},
		{"TCP_NODELAY on udp_rr", UDPRR, func(o *Options) { o.NoDelay = true }, "--no-delay"},
		{"TCP Fast Open on udp_stream", UDPStream, func(o *Options) { o.TCPFastOpen = true }, "-X/--tcp-fastopen"},
		{"congestion control on udp", UDPStream, func(o *Options) { o.CongestionControl = "bbr" }, "--congestion-control"},
		{"congestion control name too long", TCPStream, func(o *Options) { o.CongestionControl = strings.Repeat("c", 16) }, "--congestion-control"},
		{"zero interval", TCPRR, func(o *Options) { o.Interval = 0 }, "-I/--interval"},
		{"sub-millisecond interval", TCPRR, func(o *Options) { o.Interval = 999 * time.Microsecond }, "-I/--interval"},
		{"zero percentile", TCPRR, func(o *Options) { o.Percentiles = []float64{50, 0} }, "-p/--percentiles"},
		{"percentile above 100", TCPRR, func(o *Options) { o.Percentiles = []float64{100.001} }, "-p/--percentiles"},
		{"NaN percentile", TCPRR, func(o *Options) { o.Percentiles = []float64{math.NaN()} }, "-p/--percentiles"},
		{"negative warmup", TCPRR, func(o *Options) { o.Warmup = -time.Second }, "--warmup"},
		{"warmup as long as the test", TCPRR, func(o *Options) { o.Warmup = o.TestLength }, "--warmup"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := DefaultOptions(tt.w)
			tt.mutate(&o)
			err := o.Validate()
			if err == nil {
				t.Fatalf("Validate() = nil, want an error naming %q", tt.want)
			}
			got := optTestProblems(t, err)
			if len(got) != 1 {
				t.Fatalf("Validate() reported %d problems, want 1:\n%s", len(got), err)
			}
			if !strings.Contains(got[0], tt.want) {
				t.Errorf("Validate() = %q, want it to name %q", got[0], tt.want)
			}
		})
	}
}

// TestValidateLocal: a local run's shape is its client's, so it takes a
// client's rules whatever its Client field says.
func TestValidateLocal(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(o *Options)
		want   string // "" when valid
	}{
		{"defaults", func(o *Options) {}, ""},
		{"free ports", func(o *Options) { o.ControlPort, o.DataPort = 0, 0 }, ""},
		{"as many threads as flows", func(o *Options) { o.NumThreads, o.NumFlows = 4, 4 }, ""},
		{"idle threads", func(o *Options) { o.NumThreads, o.NumFlows = 4, 1 }, "-T/--num-threads: 4 threads for 1 flow(s) leave threads idle; use at most -T 1"},
		{"idle threads, Client set", func(o *Options) { o.Client, o.NumThreads, o.NumFlows = true, 4, 1 }, "-T/--num-threads: 4 threads for 1 flow(s) leave threads idle; use at most -T 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := DefaultOptions(TCPRR)
			tt.mutate(&o)
			got := ""
			if err := o.ValidateLocal(); err != nil {
				got = err.Error()
			}
			assert.Equal(t, got, tt.want)
			if tt.want != "" {
				var usage *UsageError
				_, err := RunLocal(context.Background(), o, SideConfig{}, SideConfig{})
				assert.Assert(t, errors.As(err, &usage), "RunLocal: %v", err)
				assert.Equal(t, err.Error(), tt.want)
			}
		})
	}
}

// TestValidateReportsEveryProblem checks that one call names all the bad
// flags, each once, in a stable order.
func TestValidateReportsEveryProblem(t *testing.T) {
	o := DefaultOptions(UDPRR)
	o.NumFlows = 0
	o.DataPort = -1
	o.RequestSize = 0
	o.NoDelay = true
	o.Interval = 0
	o.Warmup = -time.Second
	err := o.Validate()
	if err == nil {
		t.Fatal("Validate() = nil, want six problems")
	}
	var flags []string
	for _, p := range optTestProblems(t, err) {
		flag, _, ok := strings.Cut(p, ": ")
		if !ok {
			t.Errorf("problem %q does not start with its flag", p)
		}
		flags = append(flags, flag)
	}
	want := []string{"-P/--port", "-F/--num-flows", "-Q/--request-size", "--no-delay", "-I/--interval", "--warmup"}
	if diff := cmp.Diff(want, flags); diff != "" {
		t.Errorf("flags named by Validate() mismatch (-want +got):\n%s", diff)
	}
	var joined interface{ Unwrap() []error }
	if !errors.As(err, &joined) {
		t.Fatalf("Validate() = %T, want a joined error", err)
	}
	if got := len(joined.Unwrap()); got != len(want) {
		t.Errorf("Validate() joined %d errors, want %d", got, len(want))
	}
}

func TestParseWorkload(t *testing.T) {
	for _, w := range Workloads {
		t.Run(string(w), func(t *testing.T) {
			got, err := ParseWorkload(string(w))
			if err != nil {
				t.Fatalf("ParseWorkload(%q) error: %v", w, err)
			}
			if got != w {
				t.Errorf("ParseWorkload(%q) = %q, want %q", w, got, w)
			}
		})
	}
	for _, name := range []string{"", "tcp", "TCP_RR", " tcp_rr", "tcp_rr ", "sctp_stream", "udp_crr"} {
		t.Run("unknown "+name, func(t *testing.T) {
			got, err := ParseWorkload(name)
			if err == nil {
				t.Fatalf("ParseWorkload(%q) = %q, want an error", name, got)
			}
			if got != "" {
				t.Errorf("ParseWorkload(%q) = %q with an error, want \"\"", name, got)
			}
			for _, w := range Workloads {
				if !strings.Contains(err.Error(), string(w)) {
					t.Errorf("ParseWorkload(%q) error %q does not list %s", name, err, w)
				}
			}
		})
	}
}

func TestWorkloadKinds(t *testing.T) {
	type kinds struct{ RR, Stream, UDP bool }
	want := map[Workload]kinds{
		TCPRR:     {RR: true},
		TCPCRR:    {RR: true},
		TCPStream: {Stream: true},
		UDPRR:     {RR: true, UDP: true},
		UDPStream: {Stream: true, UDP: true},
		"bogus":   {},
	}
	got := map[Workload]kinds{}
	for w := range want {
		got[w] = kinds{w.IsRR(), w.IsStream(), w.IsUDP()}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("workload kinds mismatch (-want +got):\n%s", diff)
	}
	if len(Workloads) != 5 {
		t.Errorf("Workloads has %d entries, want the 5 of SPEC.md", len(Workloads))
	}
}

func TestFamilyString(t *testing.T) {
	tests := []struct {
		f    Family
		want string
	}{{Unspec, "unspec"}, {IPv4, "ipv4"}, {IPv6, "ipv6"}, {Family(7), "unspec"}}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.f.String(); got != tt.want {
				t.Errorf("Family(%d).String() = %q, want %q", int(tt.f), got, tt.want)
			}
		})
	}
}

func TestParseRate(t *testing.T) {
	// neper's units: a plain number is bytes/s; lower-case k m g are
	// decimal bits, upper-case K M G binary bytes; spelled-out units say
	// which.
	tests := []struct {
		in   string
		want uint64
	}{
		{"0", 0},
		{"100", 100},
		{"8b", 1},
		{"1b", 0}, // 1/8 byte truncated toward zero
		{"1B", 1},
		{"1k", 125},
		{"1K", 1024},
		{"10m", 1_250_000},
		{"10M", 10 << 20},
		{"1g", 125_000_000},
		{"1.5G", 3 << 29},
		{"1Kb", 125},
		{"100Mb", 12_500_000},
		{"1Gb", 125_000_000},
		{"1KB", 1000},
		{"1MB", 1_000_000},
		{"1GB", 1_000_000_000},
		{"8Kib", 1024},
		{"8Mib", 1 << 20},
		{"1Gib", 1 << 27},
		{"1KiB", 1024},
		{"1MiB", 1 << 20},
		{"1GiB", 1 << 30},
		{"1.9", 1}, // truncated toward zero
		{"18446744073709551615", math.MaxUint64},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseRate(tt.in)
			if err != nil {
				t.Fatalf("ParseRate(%q) error: %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("ParseRate(%q) = %d, want %d", tt.in, got, tt.want)
			}
		})
	}
	for _, in := range []string{"", "M", "-1", "-1M", "abc", "10X", "2T", "1mb", "1Mbit", "1e6", "1.2.3", "10 M", "18446744073709551616", "20000000000G"} {
		t.Run("bad "+in, func(t *testing.T) {
			got, err := ParseRate(in)
			if err == nil {
				t.Fatalf("ParseRate(%q) = %d, want an error", in, got)
			}
			if !strings.Contains(err.Error(), strconv.Quote(in)) {
				t.Errorf("ParseRate(%q) error %q does not name the input", in, err)
			}
		})
	}
}

func TestParsePercentiles(t *testing.T) {
	tests := []struct {
		in   string
		want []float64
	}{
		{"", nil},
		{"  ", nil},
		{"50", []float64{50}},
		{"50,90,99,99.9", []float64{50, 90, 99, 99.9}},
		{" 99.9 , 50 ", []float64{50, 99.9}},
		{"99,50,99", []float64{50, 99}},
		{"100,0.1", []float64{0.1, 100}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParsePercentiles(tt.in)
			if err != nil {
				t.Fatalf("ParsePercentiles(%q) error: %v", tt.in, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParsePercentiles(%q) mismatch (-want +got):\n%s", tt.in, diff)
			}
		})
	}
	for _, in := range []string{"0", "101", "100.01", "-5", "abc", "50,", ",50", "50;90", "NaN", "Inf", "1e2"} {
		t.Run("bad "+in, func(t *testing.T) {
			got, err := ParsePercentiles(in)
			if err == nil {
				t.Fatalf("ParsePercentiles(%q) = %v, want an error", in, got)
			}
		})
	}
}

// TestSpinChoice: what --spin means on each side of each workload.
func TestSpinChoice(t *testing.T) {
	tests := []struct {
		w    Workload
		side Side
		spin int
		want int
	}{
		{UDPStream, ServerSide, SpinAuto, UDPStreamReceiverSpin},
		{UDPStream, ClientSide, SpinAuto, 0},
		{UDPRR, ServerSide, SpinAuto, 0},
		{TCPStream, ServerSide, SpinAuto, 0},
		{TCPRR, ClientSide, SpinAuto, 0},
		{TCPCRR, ServerSide, SpinAuto, 0},
		{UDPStream, ServerSide, 0, 0},
		{UDPStream, ServerSide, 3, 3},
		{TCPRR, ClientSide, 64, 64},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%v/%d", tt.w, tt.side, tt.spin), func(t *testing.T) {
			o := DefaultOptions(tt.w)
			o.Spin = tt.spin
			s := &sideRun{opts: &o, side: tt.side}
			if got := s.spin(); got != tt.want {
				t.Errorf("spin() = %d, want %d", got, tt.want)
			}
		})
	}
}

// TestFileLimitErrorBlames: the message names the flag that asks for the
// descriptors.
func TestFileLimitErrorBlames(t *testing.T) {
	tests := []struct {
		name string
		e    FileLimitError
		want string
	}{
		{"flows", FileLimitError{Flows: 200, Threads: 1, Need: 251, Limit: 120},
			"-F/--num-flows: 200 flows need about 251 open files, but the limit is 120 (raise it with ulimit -n, or run fewer flows)"},
		{"threads", FileLimitError{Flows: 4000, Threads: 4000, Need: 32064, Limit: 20000, Local: true},
			"-T/--num-threads: 4000 threads need about 32064 open files (both sides in one process), but the limit is 20000 (raise it with ulimit -n, or run fewer threads)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, tc.e.Error()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
