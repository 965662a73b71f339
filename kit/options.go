package kit

import (
	"errors"
	"fmt"
	"time"

	"github.com/hookperf/hookperf/kit/internal/stats"
)

// Workload names one of the kit's traffic patterns.
type Workload string

// The workloads of SPEC.md.
const (
	TCPRR     Workload = "tcp_rr"
	TCPCRR    Workload = "tcp_crr"
	TCPStream Workload = "tcp_stream"
	UDPRR     Workload = "udp_rr"
	UDPStream Workload = "udp_stream"
)

// Workloads lists every workload in a stable order.
var Workloads = []Workload{TCPRR, TCPCRR, TCPStream, UDPRR, UDPStream}

// ParseWorkload returns the workload called name, or an error listing the
// known ones.
func ParseWorkload(name string) (Workload, error) {
	for _, w := range Workloads {
		if string(w) == name {
			return w, nil
		}
	}
	if name == string(DummyTest) {
		return DummyTest, nil
	}
	return "", fmt.Errorf("unknown workload %q (want one of tcp_rr, tcp_crr, tcp_stream, udp_rr, udp_stream)", name)
}

// IsRR reports whether the workload is request/response.
func (w Workload) IsRR() bool { return w == TCPRR || w == TCPCRR || w == UDPRR }

// IsStream reports whether the workload is a bulk transfer.
func (w Workload) IsStream() bool { return w == TCPStream || w == UDPStream }

// IsUDP reports whether the workload runs over UDP.
func (w Workload) IsUDP() bool { return w == UDPRR || w == UDPStream }

// Family selects the address family of a run.
type Family int

// Address families: Unspec lets the host's address decide.
const (
	Unspec Family = iota
	IPv4
	IPv6
)

func (f Family) String() string {
	switch f {
	case IPv4:
		return "ipv4"
	case IPv6:
		return "ipv6"
	}
	return "unspec"
}

// Default values of Options, as neper's.
const (
	DefaultControlPort = 12866
	DefaultDataPort    = 12867
	DefaultMagic       = 42
	DefaultBufferSize  = 16384
	// DefaultUDPStreamBufferSize is udp_stream's -B, neper's: a datagram
	// that fits a 1500-byte MTU unfragmented.
	DefaultUDPStreamBufferSize = 1400
	DefaultMaxEvents           = 1000
	DefaultBacklog             = 4096
	// DefaultUDPTimeout is how long a udp_rr client waits for a response
	// before it resends its request.
	DefaultUDPTimeout = 200 * time.Millisecond
)

// MaxThreads bounds -T: each worker holds an OS thread, and a Go program
// dies past 10000 of them (both sides of a local run count).
const MaxThreads = 4096

// SpinAuto lets the kit choose how many times a worker polls before it
// sleeps: UDPStreamReceiverSpin on a udp_stream receiver, none elsewhere.
const SpinAuto = -1

// UDPStreamReceiverSpin is how many times a udp_stream receiver polls
// without blocking before it sleeps, unless --spin says otherwise. UDP
// has no flow control and no segmentation offload on loopback: a sender
// pays for waking the receiver at nearly every datagram (~18 % of its CPU
// in perf), and a receiver that polls a few microseconds longer is found
// awake. Measured on 2 CPUs, -B 1400: 1 flow 3146 -> 3760 Mbit/s,
// -F 8 -T 2 3651 -> 3963.
const UDPStreamReceiverSpin = 16

// Options is everything a run needs to know, on either side. The zero
// value is not useful; start from DefaultOptions.
type Options struct {
	Workload Workload

	// Connectivity.
	Client     bool   // -c: this side is the client
	Host       string // -H: the server's address (client) or the address to bind (server)
	LocalHost  string // -L: the local address to bind
	SourcePort int    // --source-port: a client's flow i connects from this port + i (0: the kernel's choice)
	// NumPorts (--num-ports, TCP) is how many data ports a server listens
	// on, -P and the ports after it; a client's flow i connects to the
	// server's port i modulo their number (0 is 1).
	NumPorts    int
	ControlPort int    // -C: 0 picks a free port (server)
	DataPort    int    // -P: 0 picks a free port (server)
	Family      Family // -4/-6
	Magic       uint32 // --magic: both sides must agree
	ReusePort   bool   // --reuseport: UDP server workers share one port
	ReuseAddr   bool   // --reuseaddr: SO_REUSEADDR on listening sockets

	// Workload shape.
	NumFlows      int           // -F
	NumThreads    int           // -T
	NumClients    int           // --num-clients: the server waits for this many clients
	TestLength    time.Duration // -l when positive
	Transactions  int64         // -l when negative (rr workloads): total transactions
	SuicideLength time.Duration // -s: a whole run is aborted after this long (0: never)
	IOStatEvery   time.Duration // --iostat-ms: a client prints what it moved this often (SideConfig.IOStat)
	WaitStart     time.Duration // --wait-start: a client waits this long, once its server has welcomed it, before it opens its flows
	BufferSize    int           // -B
	RequestSize   int           // -Q
	ResponseSize  int           // -R
	EnableRead    bool          // -r
	EnableWrite   bool          // -w
	EdgeTrigger   bool          // -E
	Delay         time.Duration // -D: pause between writes of a flow
	NoBurst       time.Duration // --noburst: tcp_rr clients send one request every this long in all, in slots spread over the workers (neper's)
	MaxEvents     int           // --maxevents
	Nonblocking   bool          // --nonblocking (hookperf's sockets are always non-blocking)
	PinCPU        bool          // -U: pin worker i to CPU i modulo the CPU count
	PinNUMA       bool          // -N: pin worker i to the CPUs of NUMA node i modulo the nodes (TCP; -U wins, as neper)
	DryRun        bool          // -n: validate and print options, no traffic
	ListenBacklog int           // --listen-backlog
	Mark          uint32        // --mark: SO_MARK of every data socket (0: none)
	Debug         bool          // -d/--debug: SO_DEBUG on every data socket (CAP_NET_ADMIN)
	FreeBind      bool          // --freebind: IP_FREEBIND on every data socket, so -L may name an address not (yet) configured
	Spin          int           // --spin: polls without blocking before each sleep (busy polling; 0: none; SpinAuto: the kit decides)
	UDPTimeout    time.Duration // --udp-timeout: a udp_rr client resends a request unanswered this long

	// TCP.
	MaxPacingRate     uint64        // -m: bytes/s, 0 for none
	MinRTO            time.Duration // --min-rto: 0 for the kernel's
	CongestionControl string        // --congestion-control: "" for the default
	NoDelay           bool          // --no-delay: TCP_NODELAY (no Nagle) on every data socket
	SplitBidir        bool          // --split-bidir: tcp_stream both ways over a socket a direction (odd flows client→server, even server→client), as neper's
	NoCork            bool          // --no-cork: tcp_stream writes without MSG_MORE (by default they set it, as neper's)
	ZeroCopy          bool          // -Z/--zerocopy: a stream sends with MSG_ZEROCOPY (SO_ZEROCOPY on every data socket) and counts the completions
	RxZeroCopy        bool          // -z/--rx-zerocopy: tcp_stream receives with TCP_ZEROCOPY_RECEIVE, the pages mapped instead of copied (a recv hook's reads still copy)
	SkipRxCopy        bool          // --skip-rx-copy: tcp_stream reads with MSG_TRUNC: the kernel counts and discards the bytes, copying none
	// TCPFastOpen (-X/--tcp-fastopen): a client's sockets connect with
	// TCP_FASTOPEN_CONNECT (the request rides on the SYN once a cookie is
	// cached) and its server's listeners take TFO (TCP_FASTOPEN). The
	// kernel must allow it: net.ipv4.tcp_fastopen 1 on the client, 2 on
	// the server (3 for both).
	TCPFastOpen bool
	TCPTxDelay  time.Duration // -t/--tcp-tx-delay: TCP_TX_DELAY of every data socket, whole µs (CAP_NET_ADMIN)
	// TimeWait (--time-wait) lets a client close its data sockets
	// gracefully, so that they enter TIME_WAIT. Without it a client's
	// data sockets have SO_LINGER 0 from their creation and close with a
	// reset, as neper's do. UDP has no TIME_WAIT: there it changes
	// nothing (accepted, as neper accepts it).
	TimeWait bool

	// Statistics.
	Interval   time.Duration // -I
	AllSamples string        // -A: CSV file, "" for none
	// Histogram: --histogram, a text latency histogram after the report
	// (the CLI prints it; rr workloads).
	Histogram bool
	// Report is --report's HTML file ("" for none); the CLI writes it
	// (package htmlreport).
	Report string
	// WorkerSamples: -A writes a row per worker per interval (flow_id
	// -1) rather than one per flow (--worker-samples).
	WorkerSamples bool
	Percentiles   []float64 // -p
	// ThroughputUnit (--throughput-opt) is the unit of a stream's
	// throughput= in the key=value report: a RateUnit's name or an auto
	// unit ("" is DefaultThroughputUnit, Mbit/s).
	ThroughputUnit string
	Warmup         time.Duration // --warmup
	// LogRTT (--log-rtt) is where an rr client writes every
	// transaction's round trip, as neper's (see WriteRTTLog); "" for
	// none. LogRTTPerFlow (--logrtt-entries-per-flow) caps the entries a
	// flow logs (0: DefaultLogRTTPerFlow).
	LogRTT        string
	LogRTTPerFlow int
	// StimeUseProc (-S/--stime-use-proc) reports the machine's system,
	// IRQ and softIRQ time from /proc/stat since the side started as the
	// side's system time: the kernel work a run causes off its own
	// threads counts too (meaningful on an otherwise idle machine).
	StimeUseProc bool

	// Output.
	JSON        bool // --json
	GoBench     bool // --gobench: one Go benchmark line (see WriteGoBench)
	LogToStderr bool // -V
	NoLog       bool // --nolog: neper's; hookperf keeps no log file, so it changes nothing
}

// logRTTPerFlow is --logrtt-entries-per-flow or its default.
func (o *Options) logRTTPerFlow() int {
	if o.LogRTTPerFlow > 0 {
		return o.LogRTTPerFlow
	}
	return DefaultLogRTTPerFlow
}

// maxNumPorts bounds --num-ports: every server worker opens a listener
// on each port.
const maxNumPorts = 1024

// numPorts is --num-ports, at least 1.
func (o *Options) numPorts() int { return max(o.NumPorts, 1) }

// maxTCPTxDelay is the longest -t/--tcp-tx-delay: TCP_TX_DELAY takes a
// 32-bit count of microseconds.
const maxTCPTxDelay = (1<<31 - 1) * time.Microsecond

// DefaultOptions returns the options of a plain run of workload w: one
// flow, one thread, ten seconds, neper's ports and sizes.
func DefaultOptions(w Workload) Options {
	o := Options{
		Workload:      w,
		ControlPort:   DefaultControlPort,
		DataPort:      DefaultDataPort,
		Magic:         DefaultMagic,
		NumFlows:      1,
		NumThreads:    1,
		NumClients:    1,
		TestLength:    10 * time.Second,
		BufferSize:    DefaultBufferSize,
		RequestSize:   1,
		ResponseSize:  1,
		MaxEvents:     DefaultMaxEvents,
		ListenBacklog: DefaultBacklog,
		Interval:      time.Second,
		Spin:          SpinAuto,
		UDPTimeout:    DefaultUDPTimeout,
	}
	if w == UDPStream {
		o.BufferSize = DefaultUDPStreamBufferSize
	}
	return o
}

// Validate checks every option and returns all problems at once, each
// naming its flag. It opens no socket.
func (o *Options) Validate() error {
	var errs []error
	bad := func(flag, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{flag}, args...)...))
	}
	if _, err := ParseWorkload(string(o.Workload)); err != nil {
		errs = append(errs, err)
	}
	port := func(flag string, p int) {
		if p < 0 || p > 65535 {
			bad(flag, "port must be in 0..65535, got %d", p)
		}
	}
	port("-C/--control-port", o.ControlPort)
	if o.NumPorts < 0 || o.NumPorts > maxNumPorts {
		bad("--num-ports", "must be in 1..%d, got %d", maxNumPorts, o.NumPorts)
	} else if o.NumPorts > 1 && o.Workload.IsUDP() {
		bad("--num-ports", "TCP servers listen on several ports; a UDP server has a port per worker (-P)")
	} else if o.NumPorts > 1 && o.DataPort+o.NumPorts-1 > 65535 {
		bad("--num-ports", "%d ports from %d would go past 65535", o.NumPorts, o.DataPort)
	}
	if o.SourcePort != 0 {
		switch {
		case o.SourcePort < 1 || o.SourcePort > 65535:
			bad("--source-port", "must be in 1..65535, got %d", o.SourcePort)
		case o.SourcePort+o.NumFlows-1 > 65535:
			bad("--source-port", "%d flows from port %d would need ports past 65535", o.NumFlows, o.SourcePort)
		case o.LocalHost != "":
			bad("--source-port", "not with -L/--local-host (as neper)")
		}
	}
	port("-P/--port", o.DataPort)
	if o.ControlPort != 0 && o.ControlPort == o.DataPort {
		bad("-P/--port", "the data port must differ from the control port (-C), both %d", o.DataPort)
	}
	if o.Client && o.ControlPort == 0 {
		bad("-C/--control-port", "a client needs the server's control port, got 0")
	}
	if o.NumFlows < 1 {
		bad("-F/--num-flows", "must be at least 1, got %d", o.NumFlows)
	}
	if o.NumThreads < 1 {
		bad("-T/--num-threads", "must be at least 1, got %d", o.NumThreads)
	}
	if o.NumThreads > MaxThreads {
		bad("-T/--num-threads", "at most %d, got %d", MaxThreads, o.NumThreads)
	} else if o.NumFlows >= 1 && o.NumThreads > o.NumFlows && o.Client {
		bad("-T/--num-threads", "%d threads for %d flow(s) leave threads idle; use at most -T %d", o.NumThreads, o.NumFlows, o.NumFlows)
	}
	if o.NumClients < 1 {
		bad("--num-clients", "must be at least 1, got %d", o.NumClients)
	}
	if o.TestLength < 0 {
		bad("-l/--test-length", "must not be negative here, got %v", o.TestLength)
	}
	if o.Transactions < 0 {
		bad("-l/--test-length", "transaction count must be positive, got %d", o.Transactions)
	}
	if o.Transactions > 0 && !o.Workload.IsRR() {
		bad("-l/--test-length", "a negative length (a transaction count) needs an rr workload, not %s", o.Workload)
	}
	if o.TestLength == 0 && o.Transactions == 0 {
		bad("-l/--test-length", "must not be zero")
	}
	if o.IOStatEvery < 0 {
		bad("--iostat-ms", "must not be negative, got %v", o.IOStatEvery)
	}
	if o.WaitStart < 0 {
		bad("--wait-start", "must not be negative, got %v", o.WaitStart)
	} else if o.WaitStart > 0 && !o.Client {
		bad("--wait-start", "only a client waits before it starts (give it to -c)")
	}
	if o.SuicideLength < 0 {
		bad("-s/--suicide-length", "must not be negative, got %v", o.SuicideLength)
	}
	if o.BufferSize < 1 || o.BufferSize > 1<<26 {
		bad("-B/--buffer-size", "must be in 1..%d, got %d", 1<<26, o.BufferSize)
	}
	maxMsg := o.BufferSize
	if o.Workload.IsUDP() && maxMsg > 65507 {
		maxMsg = 65507
	}
	if o.Workload.IsRR() && o.BufferSize >= 1 { // with a bad -B, -B is the problem
		if o.RequestSize < 1 || o.RequestSize > maxMsg {
			bad("-Q/--request-size", "must be in 1..%d (at most -B and one datagram), got %d", maxMsg, o.RequestSize)
		}
		if o.ResponseSize < 1 || o.ResponseSize > maxMsg {
			bad("-R/--response-size", "must be in 1..%d (at most -B and one datagram), got %d", maxMsg, o.ResponseSize)
		}
	}
	if o.Workload == UDPStream && o.BufferSize > 65507 {
		bad("-B/--buffer-size", "a udp_stream datagram holds at most 65507 bytes, got %d", o.BufferSize)
	}
	if o.Delay < 0 {
		bad("-D/--delay", "must not be negative, got %v", o.Delay)
	}
	switch {
	case o.NoBurst < 0:
		bad("--noburst", "must not be negative, got %v", o.NoBurst)
	case o.NoBurst > 0 && o.Workload != TCPRR:
		bad("--noburst", "spaces tcp_rr's requests, not %s's", o.Workload)
	case o.NoBurst > 0 && o.Delay > 0:
		bad("--noburst", "and -D/--delay both space the requests: choose one (as neper)")
	}
	if o.MaxEvents < 1 {
		bad("--maxevents", "must be at least 1, got %d", o.MaxEvents)
	}
	if o.Spin < SpinAuto || o.Spin > 1<<20 {
		bad("--spin", "must be in 0..%d, or %d for the default, got %d", 1<<20, SpinAuto, o.Spin)
	}
	if o.UDPTimeout < time.Millisecond {
		bad("--udp-timeout", "must be at least 1ms, got %v", o.UDPTimeout)
	}
	if o.ListenBacklog < 1 {
		bad("--listen-backlog", "must be at least 1, got %d", o.ListenBacklog)
	}
	if o.MinRTO < 0 {
		bad("--min-rto", "must not be negative, got %v", o.MinRTO)
	}
	if o.Workload.IsUDP() {
		if o.CongestionControl != "" {
			bad("--congestion-control", "applies to TCP workloads, not %s", o.Workload)
		}
		if o.PinNUMA {
			bad("-N/--pin-numa", "is neper's TCP tools' flag, not %s's", o.Workload)
		}
		if o.TCPFastOpen {
			bad("-X/--tcp-fastopen", "TCP Fast Open applies to TCP workloads, not %s", o.Workload)
		}
		if o.NoDelay {
			bad("--no-delay", "TCP_NODELAY applies to TCP workloads, not %s", o.Workload)
		}
		if o.TCPTxDelay != 0 {
			bad("-t/--tcp-tx-delay", "TCP_TX_DELAY applies to TCP workloads, not %s", o.Workload)
		}
	}
	if o.ZeroCopy && !o.Workload.IsStream() {
		bad("-Z/--zerocopy", "MSG_ZEROCOPY sends are the stream workloads' (tcp_stream, udp_stream), not %s's", o.Workload)
	}
	if o.RxZeroCopy && o.Workload != TCPStream {
		bad("-z/--rx-zerocopy", "TCP receive zero-copy is tcp_stream's, not %s's", o.Workload)
	}
	if o.RxZeroCopy && o.SkipRxCopy {
		bad("-z/--rx-zerocopy", "and --skip-rx-copy both avoid the copy: choose one (as neper)")
	}
	if o.SkipRxCopy && o.Workload != TCPStream {
		bad("--skip-rx-copy", "tcp_stream's reads may discard their bytes (MSG_TRUNC), not %s's", o.Workload)
	}
	if o.SplitBidir && o.Workload != TCPStream {
		bad("--split-bidir", "is tcp_stream's, not %s's", o.Workload)
	}
	if o.NoCork && o.Workload != TCPStream {
		bad("--no-cork", "tcp_stream's writes set MSG_MORE, not %s's", o.Workload)
	}
	if o.TCPTxDelay < 0 || o.TCPTxDelay > maxTCPTxDelay {
		bad("-t/--tcp-tx-delay", "must be in 0..%d µs, got %d", maxTCPTxDelay/time.Microsecond, o.TCPTxDelay/time.Microsecond)
	}
	if len(o.CongestionControl) > 15 {
		bad("--congestion-control", "%q is longer than a kernel name (15 bytes)", o.CongestionControl)
	}
	if o.Interval < time.Millisecond {
		bad("-I/--interval", "must be at least 1ms, got %v", o.Interval)
	}
	for _, p := range o.Percentiles {
		if !(p > 0 && p <= 100) {
			bad("-p/--percentiles", "%v is not in (0, 100]", p)
		}
	}
	if o.ThroughputUnit != "" {
		if !o.Workload.IsStream() {
			bad("--throughput-opt", "a unit for a stream's throughput; %s reports transactions/s", o.Workload)
		} else if err := ValidThroughputUnit(o.ThroughputUnit); err != nil {
			bad("--throughput-opt", "%v", err)
		}
	}
	if o.LogRTT != "" && !o.Workload.IsRR() {
		bad("--log-rtt", "logs the round trips of rr workloads, not %s", o.Workload)
	}
	if o.LogRTTPerFlow < 0 {
		bad("--logrtt-entries-per-flow", "must be positive, got %d", o.LogRTTPerFlow)
	}
	if o.Warmup < 0 {
		bad("--warmup", "must not be negative, got %v", o.Warmup)
	}
	if o.TestLength > 0 && o.Warmup >= o.TestLength {
		bad("--warmup", "%v leaves nothing of a %v test to measure", o.Warmup, o.TestLength)
	}
	if o.JSON && o.GoBench {
		bad("--gobench", "and --json are two formats of the same report: choose one")
	}
	return errors.Join(errs...)
}

// ValidateLocal checks the options of a run of both sides in one process
// (RunLocal, --local): Validate's checks, with a client's, since the
// shape of such a run is its client's.
func (o *Options) ValidateLocal() error {
	c := *o
	c.Client = true
	if c.ControlPort == 0 {
		c.ControlPort = DefaultControlPort // the server picks one
	}
	return c.Validate()
}

// Directions tells which side writes and which reads in a stream
// workload: by default the client writes and the server reads; -r and -w
// given to the client choose, and both make the stream bidirectional.
func (o *Options) Directions() (clientWrites, serverWrites bool) {
	r, w := o.EnableRead, o.EnableWrite
	if !r && !w {
		return true, false
	}
	return w, r
}

// ParseRate parses a rate in bytes/s with neper's units (1g = 1 Gbit/s,
// 100Mb = 100 Mbit/s, 10M = 10 MiB/s), as -m/--max-pacing-rate takes it.
func ParseRate(s string) (uint64, error) { return stats.ParseRate(s) }

// ParsePercentiles parses a list such as 50,90,99.9, as -p takes it.
func ParsePercentiles(s string) ([]float64, error) { return stats.ParsePercentiles(s) }
