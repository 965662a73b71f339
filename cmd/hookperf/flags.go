package main

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hookperf/hookperf/kit"
)

// config is a parsed command line.
type config struct {
	opts       kit.Options
	local      bool
	help       bool
	version    bool
	maerts     bool // -M: set -r/-w for a TCP_MAERTS stream once the side is known
	script     string
	scriptArgs []string
	args       []string // the command line as given, for a split --local run
}

// flagKind says whether a flag takes a value.
type flagKind int

const (
	noValue       flagKind = iota // a switch
	needsValue                    // -F 10, -F10, --num-flows 10, --num-flows=10
	optionalValue                 // -A, -AFILE, --all-samples, --all-samples=FILE
)

// flagSpec is one command-line option: its names, whether it takes a
// value, and how it sets the config.
type flagSpec struct {
	short string // one letter, or ""
	long  string
	kind  flagKind
	arg   string // the value's name in --help
	help  string
	set   func(c *config, v string) error
}

func intFlag(p func(*config) *int) func(*config, string) error {
	return func(c *config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("%q is not a whole number", v)
		}
		*p(c) = n
		return nil
	}
}

// uint32Flag parses a 32-bit unsigned value, decimal or 0x-prefixed.
func uint32Flag(p func(*config) *uint32) func(*config, string) error {
	return func(c *config, v string) error {
		n, err := strconv.ParseUint(v, 0, 32)
		if err != nil {
			return fmt.Errorf("%q is not a 32-bit number", v)
		}
		*p(c) = uint32(n)
		return nil
	}
}

func boolFlag(p func(*config) *bool) func(*config, string) error {
	return func(c *config, _ string) error { *p(c) = true; return nil }
}

func secondsFlag(p func(*config) *time.Duration) func(*config, string) error {
	return func(c *config, v string) error {
		d, err := parseSeconds(v)
		if err != nil {
			return err
		}
		*p(c) = d
		return nil
	}
}

// maxSeconds is the longest time a flag takes: a year.
const maxSeconds = 365 * 24 * 3600

// parseSeconds reads a (possibly fractional, possibly negative) number of
// seconds within a year either way.
func parseSeconds(v string) (time.Duration, error) {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(f) {
		return 0, fmt.Errorf("%q is not a number of seconds", v)
	}
	if math.Abs(f) > maxSeconds {
		return 0, fmt.Errorf("%q is out of range (at most a year, %d seconds)", v, maxSeconds)
	}
	return time.Duration(f * float64(time.Second)), nil
}

var flagSpecs = []flagSpec{
	{"c", "client", noValue, "", "run as the client", boolFlag(func(c *config) *bool { return &c.opts.Client })},
	{"H", "host", needsValue, "HOST", "server address (client) or address to bind (server)", func(c *config, v string) error { c.opts.Host = v; return nil }},
	{"L", "local-host", needsValue, "HOST", "local address to bind", func(c *config, v string) error { c.opts.LocalHost = v; return nil }},
	{"", "num-ports", needsValue, "N", "TCP: the server listens on N data ports, -P and the next N-1; client flows take them in turn", func(c *config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return fmt.Errorf("%q is not a count of ports (1 or more)", v)
		}
		c.opts.NumPorts = n
		return nil
	}},
	{"", "source-port", needsValue, "PORT", "a client's flow i connects from PORT + i (not with -L)", intFlag(func(c *config) *int { return &c.opts.SourcePort })},
	{"C", "control-port", needsValue, "PORT", "control port (default 12866)", intFlag(func(c *config) *int { return &c.opts.ControlPort })},
	{"P", "port", needsValue, "PORT", "data port (default 12867; must differ from -C; a UDP server without --reuseport also uses the next -T - 1 ports)", intFlag(func(c *config) *int { return &c.opts.DataPort })},
	{"4", "ipv4", noValue, "", "use IPv4 (not with -6)", func(c *config, _ string) error { return c.setFamily(kit.IPv4) }},
	{"6", "ipv6", noValue, "", "use IPv6 (not with -4)", func(c *config, _ string) error { return c.setFamily(kit.IPv6) }},
	{"", "magic", needsValue, "N", "magic number both sides must share (default 42)", uint32Flag(func(c *config) *uint32 { return &c.opts.Magic })},
	{"", "reuseport", noValue, "", "UDP server threads share one port (SO_REUSEPORT)", boolFlag(func(c *config) *bool { return &c.opts.ReusePort })},
	{"", "reuseaddr", noValue, "", "SO_REUSEADDR on listening sockets; -R on stream workloads, as neper", boolFlag(func(c *config) *bool { return &c.opts.ReuseAddr })},
	{"F", "num-flows", needsValue, "N", "flows (connections) in all", intFlag(func(c *config) *int { return &c.opts.NumFlows })},
	{"T", "num-threads", needsValue, "N", "worker threads (a client: at most -F)", intFlag(func(c *config) *int { return &c.opts.NumThreads })},
	{"", "num-clients", needsValue, "N", "clients a server waits for", intFlag(func(c *config) *int { return &c.opts.NumClients })},
	{"l", "test-length", needsValue, "SECONDS", "test length; negative: that many transactions (rr)", func(c *config, v string) error {
		c.opts.TestLength, c.opts.Transactions = 0, 0
		if strings.HasPrefix(v, "-") {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return fmt.Errorf("a negative length is a whole number of transactions, got %q", v)
			}
			c.opts.Transactions = -n
			return nil
		}
		d, err := parseSeconds(v)
		if err != nil {
			return err
		}
		c.opts.TestLength = d
		return nil
	}},
	{"", "iostat-ms", needsValue, "MS", "a client prints what it moved every MS milliseconds, as neper's t= lines (on stderr with --json or --gobench)", func(c *config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return fmt.Errorf("%q is not a whole number of milliseconds", v)
		}
		c.opts.IOStatEvery = time.Duration(n) * time.Millisecond
		return nil
	}},
	{"", "wait-start", needsValue, "SECONDS", "a client waits this long after its server's welcome before it opens its flows", secondsFlag(func(c *config) *time.Duration { return &c.opts.WaitStart })},
	{"s", "suicide-length", needsValue, "SECONDS", "abort the whole run after this long (0: never)", secondsFlag(func(c *config) *time.Duration { return &c.opts.SuicideLength })},
	{"B", "buffer-size", needsValue, "BYTES", "buffer size (default 16384; udp_stream: 1400, one datagram that fits a 1500-byte MTU)", intFlag(func(c *config) *int { return &c.opts.BufferSize })},
	{"Q", "request-size", needsValue, "BYTES", "request size (rr)", intFlag(func(c *config) *int { return &c.opts.RequestSize })},
	{"R", "response-size", needsValue, "BYTES", "response size (rr; on stream workloads -R is --reuseaddr, as neper)", intFlag(func(c *config) *int { return &c.opts.ResponseSize })},
	{"r", "enable-read", noValue, "", "this side reads (stream)", boolFlag(func(c *config) *bool { return &c.opts.EnableRead })},
	{"w", "enable-write", noValue, "", "this side writes (stream)", boolFlag(func(c *config) *bool { return &c.opts.EnableWrite })},
	{"M", "enable-tcp-maerts", noValue, "", "tcp_stream: the server writes and the client reads (netperf's TCP_MAERTS); overrides -r and -w", boolFlag(func(c *config) *bool { return &c.maerts })},
	{"", "mark", needsValue, "N", "SO_MARK of every data socket, for policy routing (needs CAP_NET_ADMIN); -M N on every workload but tcp_stream, as neper", uint32Flag(func(c *config) *uint32 { return &c.opts.Mark })},
	{"E", "edge-trigger", noValue, "", "edge-triggered epoll", boolFlag(func(c *config) *bool { return &c.opts.EdgeTrigger })},
	{"D", "delay", needsValue, "NS", "pause between writes of a flow: nanoseconds, or with a unit (ns, us, ms, s)", func(c *config, v string) error {
		d, err := parseDelay(v)
		if err != nil {
			return err
		}
		c.opts.Delay = d
		return nil
	}},
	{"", "noburst", needsValue, "NS", "tcp_rr: one request every NS in all, in slots the workers take in turn (neper's; nanoseconds, or with a unit: ns, us, ms, s; not with -D)", func(c *config, v string) error {
		d, err := parseDelay(v)
		if err != nil {
			return err
		}
		c.opts.NoBurst = d
		return nil
	}},
	{"", "maxevents", needsValue, "N", "events per epoll_wait (default 1000)", intFlag(func(c *config) *int { return &c.opts.MaxEvents })},
	{"", "nonblocking", noValue, "", "non-blocking sockets (always so in hookperf)", boolFlag(func(c *config) *bool { return &c.opts.Nonblocking })},
	{"U", "pin-cpu", noValue, "", "pin worker i to CPU i", boolFlag(func(c *config) *bool { return &c.opts.PinCPU })},
	{"N", "pin-numa", noValue, "", "TCP: pin worker i to the CPUs of NUMA node i (modulo the nodes); -U wins", boolFlag(func(c *config) *bool { return &c.opts.PinNUMA })},
	{"n", "dry-run", noValue, "", "print the options and exit", boolFlag(func(c *config) *bool { return &c.opts.DryRun })},
	{"", "spin", needsValue, "N", "poll N times without blocking before each sleep (busy polling: fewer wake-ups, more CPU); default -1: 16 on a udp_stream receiver, else 0", intFlag(func(c *config) *int { return &c.opts.Spin })},
	{"", "udp-timeout", needsValue, "SECONDS", "udp_rr: resend a request unanswered this long (default 0.2)", secondsFlag(func(c *config) *time.Duration { return &c.opts.UDPTimeout })},
	{"", "listen-backlog", needsValue, "N", "listen(2) backlog", intFlag(func(c *config) *int { return &c.opts.ListenBacklog })},
	{"m", "max-pacing-rate", needsValue, "RATE", "SO_MAX_PACING_RATE in bytes/s (suffixes k, M, G)", func(c *config, v string) error {
		n, err := kit.ParseRate(v)
		if err != nil {
			return err
		}
		c.opts.MaxPacingRate = n
		return nil
	}},
	{"", "min-rto", needsValue, "MS", "minimum RTO in milliseconds", func(c *config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("%q is not a whole number of milliseconds", v)
		}
		c.opts.MinRTO = time.Duration(n) * time.Millisecond
		return nil
	}},
	{"", "congestion-control", needsValue, "NAME", "TCP_CONGESTION, e.g. cubic", func(c *config, v string) error { c.opts.CongestionControl = v; return nil }},
	{"", "no-delay", noValue, "", "TCP_NODELAY on data sockets (no Nagle)", boolFlag(func(c *config) *bool { return &c.opts.NoDelay })},
	{"t", "tcp-tx-delay", needsValue, "USEC", "TCP_TX_DELAY: delay every packet this many microseconds, a longer path without netem (needs CAP_NET_ADMIN)", func(c *config, v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 || n > math.MaxInt32 {
			return fmt.Errorf("%q is not a whole number of microseconds in 0..%d", v, math.MaxInt32)
		}
		c.opts.TCPTxDelay = time.Duration(n) * time.Microsecond
		return nil
	}},
	{"", "async-connect", noValue, "", "non-blocking connect (always so in hookperf)", func(*config, string) error { return nil }},
	{"X", "tcp-fastopen", noValue, "", "TCP Fast Open: the client's requests ride on the SYN once it has a cookie (net.ipv4.tcp_fastopen: 1 on the client, 2 on the server)", boolFlag(func(c *config) *bool { return &c.opts.TCPFastOpen })},
	{"Z", "zerocopy", noValue, "", "stream: send with MSG_ZEROCOPY and count the completions (zerocopy_sends, zerocopy_completions, zerocopy_copied)", boolFlag(func(c *config) *bool { return &c.opts.ZeroCopy })},
	{"z", "rx-zerocopy", noValue, "", "tcp_stream: receive with TCP_ZEROCOPY_RECEIVE, the pages mapped, not copied (not with --skip-rx-copy; a recv hook's reads still copy)", boolFlag(func(c *config) *bool { return &c.opts.RxZeroCopy })},
	{"", "skip-rx-copy", noValue, "", "tcp_stream: read with MSG_TRUNC, the kernel discarding the bytes without copying them (a recv hook is handed the flag, and its buffer holds no data)", boolFlag(func(c *config) *bool { return &c.opts.SkipRxCopy })},
	{"", "split-bidir", noValue, "", "tcp_stream: both ways over separate sockets, the flows doubled (odd ones client→server, even ones server→client), as neper", boolFlag(func(c *config) *bool { return &c.opts.SplitBidir })},
	{"", "no-cork", noValue, "", "tcp_stream: write without MSG_MORE (by default each write sets it, as neper's)", boolFlag(func(c *config) *bool { return &c.opts.NoCork })},
	{"", "time-wait", noValue, "", "a client closes its data sockets gracefully, leaving TIME_WAIT (default: SO_LINGER 0, a reset, as neper)", boolFlag(func(c *config) *bool { return &c.opts.TimeWait })},
	{"d", "debug", noValue, "", "SO_DEBUG on data sockets (needs CAP_NET_ADMIN)", boolFlag(func(c *config) *bool { return &c.opts.Debug })},
	{"", "freebind", noValue, "", "IP_FREEBIND on data sockets: -L may name an address not configured yet", boolFlag(func(c *config) *bool { return &c.opts.FreeBind })},
	{"I", "interval", needsValue, "SECONDS", "sampling interval (default 1)", secondsFlag(func(c *config) *time.Duration { return &c.opts.Interval })},
	{"A", "all-samples", optionalValue, "FILE", "write the samples as CSV, a row per flow per interval (default samples.csv; opened before the run, written after the report)", func(c *config, v string) error {
		if v == "" {
			v = "samples.csv"
		}
		c.opts.AllSamples = v
		return nil
	}},
	{"", "report", needsValue, "FILE", "write the run as one HTML file: tables and charts, offline (hookperf report draws saved --json results)", func(c *config, v string) error {
		c.opts.Report = v
		return nil
	}},
	{"", "histogram", noValue, "", "print a text latency histogram after the report (to stderr with --json or --gobench)", boolFlag(func(c *config) *bool { return &c.opts.Histogram })},
	{"", "worker-samples", noValue, "", "-A writes a row per worker per interval (flow_id -1) instead of one per flow", boolFlag(func(c *config) *bool { return &c.opts.WorkerSamples })},
	{"p", "percentiles", needsValue, "LIST", "latency percentiles, e.g. 50,90,99,99.9", func(c *config, v string) error {
		ps, err := kit.ParsePercentiles(v)
		if err != nil {
			return err
		}
		c.opts.Percentiles = ps
		return nil
	}},
	{"", "throughput-opt", needsValue, "UNIT", "unit of a stream's throughput= (neper's: b, k, m, g, B, K, M, G, Kb, Mb, Gb, KB, MB, GB, Kib, Mib, Gib, KiB, MiB, GiB, auto-b, auto-ib, auto-B, auto-iB; default Mb)", func(c *config, v string) error {
		if err := kit.ValidThroughputUnit(v); err != nil {
			return err
		}
		c.opts.ThroughputUnit = v
		return nil
	}},
	{"S", "stime-use-proc", noValue, "", "system time = the machine's system+IRQ+softIRQ time from /proc/stat (an otherwise idle machine only)", boolFlag(func(c *config) *bool { return &c.opts.StimeUseProc })},
	{"", "log-rtt", optionalValue, "FILE", "rr client: every transaction's round trip, as neper's (default rtt_samples.txt; comma-separated when FILE ends in .csv)", func(c *config, v string) error {
		if v == "" {
			v = kit.DefaultLogRTTFile
		}
		c.opts.LogRTT = v
		return nil
	}},
	{"", "logrtt-entries-per-flow", needsValue, "N", "--log-rtt: at most N round trips a flow (default 10000)", func(c *config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return fmt.Errorf("%q is not a count of entries (1 or more)", v)
		}
		c.opts.LogRTTPerFlow = n
		return nil
	}},
	{"", "warmup", needsValue, "SECONDS", "leave the first seconds out of the headline figures", secondsFlag(func(c *config) *time.Duration { return &c.opts.Warmup })},
	{"", "script", needsValue, "FILE", "Lua script with hooks", func(c *config, v string) error { c.script = v; return nil }},
	{"", "script-arg", needsValue, "KEY=VALUE", "a value for the script's args table (repeatable)", func(c *config, v string) error {
		if k, _, ok := strings.Cut(v, "="); !ok || k == "" {
			return fmt.Errorf("%q is not key=value with a key", v)
		}
		c.scriptArgs = append(c.scriptArgs, v)
		return nil
	}},
	{"", "local", noValue, "", "run server and client in this process over loopback", boolFlag(func(c *config) *bool { return &c.local })},
	{"", "json", noValue, "", "one JSON document on stdout (a script's print and io.write go to stderr)", boolFlag(func(c *config) *bool { return &c.opts.JSON })},
	{"", "gobench", noValue, "", "one line in Go's benchmark format on stdout, for benchstat (a script's print and io.write go to stderr)", boolFlag(func(c *config) *bool { return &c.opts.GoBench })},
	{"V", "logtostderr", noValue, "", "log progress to stderr", boolFlag(func(c *config) *bool { return &c.opts.LogToStderr })},
	{"", "nolog", noValue, "", "no log (hookperf writes no log file; refused with -V, as neper)", boolFlag(func(c *config) *bool { return &c.opts.NoLog })},
	{"", "version", noValue, "", "print the version and exit", boolFlag(func(c *config) *bool { return &c.version })},
	{"h", "help", noValue, "", "this help", boolFlag(func(c *config) *bool { return &c.help })},
}

// flagWorkloads are the workloads a flag means something to, named as
// in its error; given to another workload it is refused (status 2), as
// neper's tools refuse the flags they do not define. A flag not listed
// applies to every workload, or the options' own checks say where not.
var flagWorkloads = map[string]struct {
	what      string
	workloads []kit.Workload
}{
	"request-size":            {"rr workloads (tcp_rr, tcp_crr, udp_rr)", rrWorkloads},
	"response-size":           {"rr workloads (tcp_rr, tcp_crr, udp_rr)", rrWorkloads},
	"percentiles":             {"rr workloads' latencies (tcp_rr, tcp_crr, udp_rr)", rrWorkloads},
	"histogram":               {"rr workloads' latencies (tcp_rr, tcp_crr, udp_rr)", rrWorkloads},
	"logrtt-entries-per-flow": {"--log-rtt, of rr workloads (tcp_rr, tcp_crr, udp_rr)", rrWorkloads},
	"enable-read":             {"tcp_stream", []kit.Workload{kit.TCPStream}},
	"enable-write":            {"tcp_stream", []kit.Workload{kit.TCPStream}},
	"udp-timeout":             {"udp_rr's resends", []kit.Workload{kit.UDPRR}},
	"async-connect":           {"TCP workloads' connections", []kit.Workload{kit.TCPRR, kit.TCPCRR, kit.TCPStream}},
}

var rrWorkloads = []kit.Workload{kit.TCPRR, kit.TCPCRR, kit.UDPRR}

// flagAppliesTo says why flag long means nothing to workload w, if so.
func flagAppliesTo(long string, w kit.Workload) error {
	fw, ok := flagWorkloads[long]
	if !ok || slices.Contains(fw.workloads, w) {
		return nil
	}
	return fmt.Errorf("applies to %s, not %s", fw.what, w)
}

// workloadShorts are neper's letters whose flag depends on the tool: -M
// is TCP_MAERTS to tcp_stream and SO_MARK to the others, -R the response
// size to the rr tools and SO_REUSEADDR to the stream ones.
var workloadShorts = map[kit.Workload]map[string]string{
	kit.TCPRR:     {"M": "mark"},
	kit.TCPCRR:    {"M": "mark"},
	kit.UDPRR:     {"M": "mark"},
	kit.TCPStream: {"R": "reuseaddr"},
	kit.UDPStream: {"M": "mark", "R": "reuseaddr"},
}

// scanWorkload finds the workload among the arguments before they are
// parsed (it may come after the flags): the first that names one.
func scanWorkload(args []string) kit.Workload {
	for _, a := range args {
		if a == "--" {
			continue
		}
		if w, err := kit.ParseWorkload(a); err == nil {
			return w
		}
	}
	return ""
}

// parseArgs parses `WORKLOAD [flags]` (the workload may also come after
// the flags) into a config. Every problem is reported, one per line.
func parseArgs(args []string) (*config, error) {
	c := &config{}
	var workload string
	var errs []error
	byShort, byLong := map[string]*flagSpec{}, map[string]*flagSpec{}
	for i := range flagSpecs {
		f := &flagSpecs[i]
		if f.short != "" {
			byShort[f.short] = f
		}
		byLong[f.long] = f
	}
	// neper's letters that mean one thing to some of its tools and
	// another to the others (-M, -R) follow the workload.
	for short, long := range workloadShorts[scanWorkload(args)] {
		byShort[short] = byLong[long]
	}
	var sets []func()               // applied after the defaults of the workload are known
	given := map[*flagSpec]string{} // flag → the name it was given by
	apply := func(f *flagSpec, name, v string) {
		given[f] = name
		sets = append(sets, func() {
			if err := f.set(c, v); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", name, err))
			}
		})
	}
	// bareOptional is the previous argument when it was a flag whose value
	// is optional and came without one (-A): a value given after a space
	// is then an argument, and the error says how to attach it.
	var bareOptional *flagSpec
	for i := 0; i < len(args); i++ {
		a := args[i]
		prevOptional := bareOptional
		bareOptional = nil
		switch {
		case a == "--":
			// Everything after -- is an argument, not a flag.
			for _, rest := range args[i+1:] {
				if workload != "" {
					errs = append(errs, fmt.Errorf("unexpected argument %q (the workload is %s)", rest, workload))
					continue
				}
				workload = rest
			}
			i = len(args)
		case strings.HasPrefix(a, "--"):
			name, v, hasV := strings.Cut(a[2:], "=")
			f := byLong[name]
			if f == nil {
				errs = append(errs, fmt.Errorf("unknown flag --%s", name))
				continue
			}
			switch {
			case f.kind == noValue && hasV:
				errs = append(errs, fmt.Errorf("--%s takes no value", name))
			case f.kind == needsValue && !hasV:
				if i+1 >= len(args) {
					errs = append(errs, fmt.Errorf("--%s needs a value (%s)", name, f.arg))
					continue
				}
				i++
				v = args[i]
			case f.kind == optionalValue && !hasV:
				bareOptional = f
			}
			apply(f, "--"+name, v)
		case strings.HasPrefix(a, "-") && len(a) > 1 && !(isNumber(a) && byShort[a[1:2]] == nil):
			// Short flags, possibly bundled (-cE) or with the value attached (-F10).
			for j := 1; j < len(a); j++ {
				name := a[j : j+1]
				f := byShort[name]
				if f == nil {
					errs = append(errs, fmt.Errorf("unknown flag -%s", name))
					break
				}
				if f.kind == noValue {
					apply(f, "-"+name, "")
					continue
				}
				v := a[j+1:]
				if v == "" && f.kind == optionalValue {
					bareOptional = f
				}
				if v == "" && f.kind == needsValue {
					if i+1 >= len(args) {
						errs = append(errs, fmt.Errorf("-%s needs a value (%s)", name, f.arg))
						break
					}
					i++
					v = args[i]
				}
				apply(f, "-"+name, strings.TrimPrefix(v, "="))
				break
			}
		default:
			if workload != "" {
				if f := prevOptional; f != nil {
					errs = append(errs, fmt.Errorf("unexpected argument %q (-%s/--%s takes its %s attached: -%s=%s or --%s=%s)", a, f.short, f.long, f.arg, f.short, a, f.long, a))
					continue
				}
				errs = append(errs, fmt.Errorf("unexpected argument %q (the workload is %s)", a, workload))
				continue
			}
			workload = a
		}
	}
	c.opts = kit.DefaultOptions(kit.Workload(workload))
	for _, set := range sets {
		set()
	}
	if c.help || c.version {
		return c, nil
	}
	if workload == "" {
		errs = append(errs, errors.New("no workload given (one of tcp_rr, tcp_crr, tcp_stream, udp_rr, udp_stream)"))
	} else if _, err := kit.ParseWorkload(workload); err != nil {
		errs = append(errs, err)
	}
	if w, err := kit.ParseWorkload(workload); err == nil {
		for i := range flagSpecs { // in flagSpecs' order: a stable message
			f := &flagSpecs[i]
			if name, ok := given[f]; ok {
				if err := flagAppliesTo(f.long, w); err != nil {
					errs = append(errs, fmt.Errorf("%s: %w", name, err))
				}
			}
		}
	}
	if c.opts.NoLog && c.opts.LogToStderr {
		errs = append(errs, errors.New("--nolog and -V/--logtostderr contradict each other: choose one"))
	}
	if c.local && c.opts.Client {
		errs = append(errs, errors.New("--local runs both sides; drop -c"))
	}
	if c.opts.SplitBidir && c.opts.Workload == kit.TCPStream {
		// As neper: both directions, a socket each, the flows doubled.
		c.opts.EnableRead, c.opts.EnableWrite = true, true
		c.opts.NumFlows *= 2
	}
	if c.maerts {
		if c.opts.Workload != kit.TCPStream {
			errs = append(errs, fmt.Errorf("--enable-tcp-maerts applies to tcp_stream, not %s (there -M is SO_MARK, as neper's)", workload))
		}
		// As neper: the client only reads, the server only writes. --local
		// takes the client's options (its server writes for a client
		// that reads).
		reads := c.opts.Client || c.local
		c.opts.EnableRead, c.opts.EnableWrite = reads, !reads
	}
	return c, errors.Join(errs...)
}

// setFamily sets -4 or -6; the two together are refused.
func (c *config) setFamily(f kit.Family) error {
	if c.opts.Family != kit.Unspec && c.opts.Family != f {
		other := map[kit.Family]string{kit.IPv4: "-4/--ipv4", kit.IPv6: "-6/--ipv6"}[c.opts.Family]
		return fmt.Errorf("not with %s: choose one family", other)
	}
	c.opts.Family = f
	return nil
}

func isNumber(s string) bool {
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
}

// parseDelay reads -D: a whole number of nanoseconds, or a number with a
// unit (ns, us, ms, s) as neper's tcp_rr takes it.
func parseDelay(v string) (time.Duration, error) {
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.Duration(n), nil
	}
	for _, u := range []struct {
		suffix string
		unit   time.Duration
	}{{"ns", time.Nanosecond}, {"us", time.Microsecond}, {"ms", time.Millisecond}, {"s", time.Second}} {
		if num, ok := strings.CutSuffix(v, u.suffix); ok {
			f, err := strconv.ParseFloat(num, 64)
			if err == nil && f >= 0 && f*float64(u.unit) <= maxSeconds*float64(time.Second) {
				return time.Duration(f * float64(u.unit)), nil
			}
		}
	}
	return 0, fmt.Errorf("%q is not a delay (nanoseconds, or a number with ns, us, ms or s)", v)
}
