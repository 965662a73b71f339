package main

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gotest.tools/v3/assert"

	"github.com/hookperf/hookperf/kit"
)

// wantConfig is the config parseArgs should give: the defaults of
// workload w with edit applied.
func wantConfig(w kit.Workload, edit func(c *config)) *config {
	c := &config{opts: kit.DefaultOptions(w)}
	if edit != nil {
		edit(c)
	}
	return c
}

func TestParseArgs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want *config
	}{
		{"workload alone gives the defaults", []string{"tcp_rr"}, wantConfig(kit.TCPRR, nil)},
		{"every workload", []string{"udp_stream"}, wantConfig(kit.UDPStream, nil)},

		// The four ways to give a value.
		{"short attached -F10", []string{"tcp_rr", "-F10"}, wantConfig(kit.TCPRR, func(c *config) { c.opts.NumFlows = 10 })},
		{"short separate -F 10", []string{"tcp_rr", "-F", "10"}, wantConfig(kit.TCPRR, func(c *config) { c.opts.NumFlows = 10 })},
		{"short with equals -F=10", []string{"tcp_rr", "-F=10"}, wantConfig(kit.TCPRR, func(c *config) { c.opts.NumFlows = 10 })},
		{"long with equals --num-flows=10", []string{"tcp_rr", "--num-flows=10"}, wantConfig(kit.TCPRR, func(c *config) { c.opts.NumFlows = 10 })},
		{"long separate --num-flows 10", []string{"tcp_rr", "--num-flows", "10"}, wantConfig(kit.TCPRR, func(c *config) { c.opts.NumFlows = 10 })},
		{"a later flag wins", []string{"tcp_rr", "-F", "3", "--num-flows=7"}, wantConfig(kit.TCPRR, func(c *config) { c.opts.NumFlows = 7 })},
		{"negative value taken as the value", []string{"tcp_rr", "-F", "-3"}, wantConfig(kit.TCPRR, func(c *config) { c.opts.NumFlows = -3 })},

		// Placement of the workload.
		{"workload after flags", []string{"-c", "-F", "4", "-H", "10.0.0.1", "tcp_crr"}, wantConfig(kit.TCPCRR, func(c *config) {
			c.opts.Client, c.opts.NumFlows, c.opts.Host = true, 4, "10.0.0.1"
		})},
		{"workload between flags", []string{"-c", "udp_rr", "-T2", "-F2"}, wantConfig(kit.UDPRR, func(c *config) {
			c.opts.Client, c.opts.NumThreads, c.opts.NumFlows = true, 2, 2
		})},

		// Bundled switches.
		{"bundled switches -cE", []string{"tcp_rr", "-cE"}, wantConfig(kit.TCPRR, func(c *config) { c.opts.Client, c.opts.EdgeTrigger = true, true })},
		{"bundled -rw", []string{"tcp_stream", "-rw"}, wantConfig(kit.TCPStream, func(c *config) { c.opts.EnableRead, c.opts.EnableWrite = true, true })},

		// -M (TCP_MAERTS) overrides -r and -w, as neper's: the client
		// reads, the server writes.
		{"-M on a client", []string{"tcp_stream", "-c", "-w", "-M"}, wantConfig(kit.TCPStream, func(c *config) {
			c.maerts, c.opts.Client, c.opts.EnableRead, c.opts.EnableWrite = true, true, true, false
		})},
		{"-M on a server", []string{"tcp_stream", "-r", "-M"}, wantConfig(kit.TCPStream, func(c *config) {
			c.maerts, c.opts.EnableRead, c.opts.EnableWrite = true, false, true
		})},
		{"-M with --local", []string{"tcp_stream", "--local", "--enable-tcp-maerts"}, wantConfig(kit.TCPStream, func(c *config) {
			c.maerts, c.local, c.opts.EnableRead, c.opts.EnableWrite = true, true, true, false
		})},
		{"--mark", []string{"udp_rr", "--mark", "0x10"}, wantConfig(kit.UDPRR, func(c *config) { c.opts.Mark = 16 })},
		// neper's letters that differ by tool.
		{"-M is the mark on tcp_rr", []string{"tcp_rr", "-M", "7"}, wantConfig(kit.TCPRR, func(c *config) { c.opts.Mark = 7 })},
		{"-M is the mark on udp_stream", []string{"-M5", "udp_stream"}, wantConfig(kit.UDPStream, func(c *config) { c.opts.Mark = 5 })},
		{"-R is reuseaddr on tcp_stream", []string{"tcp_stream", "-R"}, wantConfig(kit.TCPStream, func(c *config) { c.opts.ReuseAddr = true })},
		{"-R is the response size on tcp_crr", []string{"tcp_crr", "-R", "64"}, wantConfig(kit.TCPCRR, func(c *config) { c.opts.ResponseSize = 64 })},

		// neper's socket options.
		{"--no-delay", []string{"tcp_rr", "--no-delay"}, wantConfig(kit.TCPRR, func(c *config) { c.opts.NoDelay = true })},
		{"-t in microseconds", []string{"tcp_rr", "-t", "250"}, wantConfig(kit.TCPRR, func(c *config) { c.opts.TCPTxDelay = 250 * time.Microsecond })},
		{"--tcp-tx-delay", []string{"tcp_stream", "--tcp-tx-delay=1000"}, wantConfig(kit.TCPStream, func(c *config) { c.opts.TCPTxDelay = time.Millisecond })},
		{"--time-wait", []string{"tcp_crr", "--time-wait"}, wantConfig(kit.TCPCRR, func(c *config) { c.opts.TimeWait = true })},
		{"-d", []string{"udp_rr", "-d"}, wantConfig(kit.UDPRR, func(c *config) { c.opts.Debug = true })},
		{"--freebind", []string{"tcp_rr", "--freebind"}, wantConfig(kit.TCPRR, func(c *config) { c.opts.FreeBind = true })},
		{"--nolog", []string{"tcp_rr", "--nolog"}, wantConfig(kit.TCPRR, func(c *config) { c.opts.NoLog = true })},
		{"--async-connect", []string{"tcp_crr", "--async-connect"}, wantConfig(kit.TCPCRR, nil)},
		{"--num-ports", []string{"tcp_crr", "--num-ports", "4"}, wantConfig(kit.TCPCRR, func(c *config) { c.opts.NumPorts = 4 })},
		{"--source-port", []string{"tcp_rr", "-c", "--source-port", "30000"}, wantConfig(kit.TCPRR, func(c *config) { c.opts.Client, c.opts.SourcePort = true, 30000 })},
		{"--log-rtt alone", []string{"tcp_rr", "--log-rtt"}, wantConfig(kit.TCPRR, func(c *config) { c.opts.LogRTT = "rtt_samples.txt" })},
		{"--log-rtt=FILE", []string{"udp_rr", "--log-rtt=r.csv", "--logrtt-entries-per-flow", "5"}, wantConfig(kit.UDPRR, func(c *config) { c.opts.LogRTT, c.opts.LogRTTPerFlow = "r.csv", 5 })},
		{"-z", []string{"tcp_stream", "-z"}, wantConfig(kit.TCPStream, func(c *config) { c.opts.RxZeroCopy = true })},
		{"-Z", []string{"tcp_stream", "-Z"}, wantConfig(kit.TCPStream, func(c *config) { c.opts.ZeroCopy = true })},
		{"--skip-rx-copy", []string{"tcp_stream", "--skip-rx-copy"}, wantConfig(kit.TCPStream, func(c *config) { c.opts.SkipRxCopy = true })},
		{"-X", []string{"tcp_crr", "-X"}, wantConfig(kit.TCPCRR, func(c *config) { c.opts.TCPFastOpen = true })},
		{"--split-bidir doubles the flows, both ways", []string{"tcp_stream", "--split-bidir", "-F", "3"}, wantConfig(kit.TCPStream, func(c *config) {
			c.opts.SplitBidir, c.opts.NumFlows, c.opts.EnableRead, c.opts.EnableWrite = true, 6, true, true
		})},
		{"--no-cork", []string{"tcp_stream", "--no-cork"}, wantConfig(kit.TCPStream, func(c *config) { c.opts.NoCork = true })},
		{"-S", []string{"tcp_rr", "-S"}, wantConfig(kit.TCPRR, func(c *config) { c.opts.StimeUseProc = true })},
		{"--wait-start", []string{"tcp_rr", "-c", "--wait-start", "5"}, wantConfig(kit.TCPRR, func(c *config) { c.opts.Client, c.opts.WaitStart = true, 5*time.Second })},
		{"--throughput-opt", []string{"tcp_stream", "--throughput-opt", "auto-ib"}, wantConfig(kit.TCPStream, func(c *config) { c.opts.ThroughputUnit = "auto-ib" })},
		{"--udp-timeout", []string{"udp_rr", "--udp-timeout", "0.05"}, wantConfig(kit.UDPRR, func(c *config) { c.opts.UDPTimeout = 50 * time.Millisecond })},
		{"bundle ending in a flag with a value -cEF8", []string{"tcp_rr", "-cEF8"}, wantConfig(kit.TCPRR, func(c *config) {
			c.opts.Client, c.opts.EdgeTrigger, c.opts.NumFlows = true, true, 8
		})},
		{"bundle ending in a flag taking the next arg -cF 8", []string{"tcp_rr", "-cF", "8"}, wantConfig(kit.TCPRR, func(c *config) {
			c.opts.Client, c.opts.NumFlows = true, 8
		})},
		{"every switch", []string{"tcp_rr", "-c", "-E", "-U", "-n", "-V", "--nonblocking", "--reuseport", "--reuseaddr", "--json"}, wantConfig(kit.TCPRR, func(c *config) {
			c.opts.Client, c.opts.EdgeTrigger, c.opts.PinCPU, c.opts.DryRun, c.opts.LogToStderr = true, true, true, true, true
			c.opts.Nonblocking, c.opts.ReusePort, c.opts.ReuseAddr, c.opts.JSON = true, true, true, true
		})},

		// -l: seconds or, negative, transactions.
		{"-l negative is a transaction count", []string{"tcp_rr", "-l", "-500"}, wantConfig(kit.TCPRR, func(c *config) { c.opts.TestLength, c.opts.Transactions = 0, 500 })},
		{"-l-500 attached", []string{"tcp_rr", "-l-500"}, wantConfig(kit.TCPRR, func(c *config) { c.opts.TestLength, c.opts.Transactions = 0, 500 })},
		{"--test-length=-500", []string{"udp_rr", "--test-length=-500"}, wantConfig(kit.UDPRR, func(c *config) { c.opts.TestLength, c.opts.Transactions = 0, 500 })},
		{"-l 2.5 is seconds", []string{"tcp_rr", "-l", "2.5"}, wantConfig(kit.TCPRR, func(c *config) { c.opts.TestLength = 2500 * time.Millisecond })},
		{"-l seconds after a count clears the count", []string{"tcp_rr", "-l", "-5", "-l", "3"}, wantConfig(kit.TCPRR, func(c *config) { c.opts.TestLength = 3 * time.Second })},
		{"-l count after seconds clears the seconds", []string{"tcp_rr", "-l", "3", "-l", "-5"}, wantConfig(kit.TCPRR, func(c *config) { c.opts.TestLength, c.opts.Transactions = 0, 5 })},

		// -A takes an optional value, attached only.
		{"-A alone is samples.csv", []string{"tcp_rr", "-A"}, wantConfig(kit.TCPRR, func(c *config) { c.opts.AllSamples = "samples.csv" })},
		{"-A does not take the next argument", []string{"-A", "tcp_rr"}, wantConfig(kit.TCPRR, func(c *config) { c.opts.AllSamples = "samples.csv" })},
		{"--all-samples alone is samples.csv", []string{"tcp_rr", "--all-samples"}, wantConfig(kit.TCPRR, func(c *config) { c.opts.AllSamples = "samples.csv" })},
		{"-A=FILE", []string{"tcp_rr", "-A=out.csv"}, wantConfig(kit.TCPRR, func(c *config) { c.opts.AllSamples = "out.csv" })},
		{"-AFILE", []string{"tcp_rr", "-Aout.csv"}, wantConfig(kit.TCPRR, func(c *config) { c.opts.AllSamples = "out.csv" })},
		{"--all-samples=FILE", []string{"tcp_rr", "--all-samples=/tmp/x.csv"}, wantConfig(kit.TCPRR, func(c *config) { c.opts.AllSamples = "/tmp/x.csv" })},
		{"bundled -cA", []string{"tcp_rr", "-cA"}, wantConfig(kit.TCPRR, func(c *config) { c.opts.Client, c.opts.AllSamples = true, "samples.csv" })},

		// Rates, percentiles, families.
		// -m takes neper's units: K M G are binary bytes, k m g decimal bits, MB decimal bytes.
		{"-m 10M", []string{"tcp_stream", "-m", "10M"}, wantConfig(kit.TCPStream, func(c *config) { c.opts.MaxPacingRate = 10 << 20 })},
		{"-m 10MB", []string{"tcp_stream", "-m", "10MB"}, wantConfig(kit.TCPStream, func(c *config) { c.opts.MaxPacingRate = 10000000 })},
		{"-m1g is a gigabit", []string{"tcp_stream", "-m1g"}, wantConfig(kit.TCPStream, func(c *config) { c.opts.MaxPacingRate = 125000000 })},
		{"--max-pacing-rate=1.5K", []string{"tcp_stream", "--max-pacing-rate=1.5K"}, wantConfig(kit.TCPStream, func(c *config) { c.opts.MaxPacingRate = 1536 })},
		{"-m plain bytes", []string{"tcp_stream", "-m", "12345"}, wantConfig(kit.TCPStream, func(c *config) { c.opts.MaxPacingRate = 12345 })},
		// -D: nanoseconds, or with a unit.
		{"-D nanoseconds", []string{"tcp_rr", "-D", "1000"}, wantConfig(kit.TCPRR, func(c *config) { c.opts.Delay = time.Microsecond })},
		{"-D with units", []string{"tcp_rr", "-D5us"}, wantConfig(kit.TCPRR, func(c *config) { c.opts.Delay = 5 * time.Microsecond })},
		{"--delay=1.5ms", []string{"tcp_rr", "--delay=1.5ms"}, wantConfig(kit.TCPRR, func(c *config) { c.opts.Delay = 1500 * time.Microsecond })},
		{"-D 2s", []string{"tcp_rr", "-D", "2s"}, wantConfig(kit.TCPRR, func(c *config) { c.opts.Delay = 2 * time.Second })},
		{"-p list", []string{"tcp_rr", "-p", "50,90,99,99.9"}, wantConfig(kit.TCPRR, func(c *config) { c.opts.Percentiles = []float64{50, 90, 99, 99.9} })},
		{"-p sorted and deduplicated", []string{"tcp_rr", "--percentiles=99,50,99"}, wantConfig(kit.TCPRR, func(c *config) { c.opts.Percentiles = []float64{50, 99} })},
		{"-p 100", []string{"tcp_rr", "-p100"}, wantConfig(kit.TCPRR, func(c *config) { c.opts.Percentiles = []float64{100} })},
		{"-4", []string{"tcp_rr", "-4"}, wantConfig(kit.TCPRR, func(c *config) { c.opts.Family = kit.IPv4 })},
		{"-6", []string{"tcp_rr", "-6"}, wantConfig(kit.TCPRR, func(c *config) { c.opts.Family = kit.IPv6 })},
		{"--ipv6", []string{"tcp_rr", "--ipv6"}, wantConfig(kit.TCPRR, func(c *config) { c.opts.Family = kit.IPv6 })},
		{"-4 twice", []string{"tcp_rr", "-4", "--ipv4"}, wantConfig(kit.TCPRR, func(c *config) { c.opts.Family = kit.IPv4 })},
		{"bundled -c6", []string{"tcp_rr", "-c6"}, wantConfig(kit.TCPRR, func(c *config) { c.opts.Client, c.opts.Family = true, kit.IPv6 })},

		// Every other valued flag.
		{"connectivity", []string{"tcp_rr", "-c", "-H", "::1", "-L", "::1", "-C", "2000", "-P", "2001", "--magic", "0x10"}, wantConfig(kit.TCPRR, func(c *config) {
			c.opts.Client, c.opts.Host, c.opts.LocalHost = true, "::1", "::1"
			c.opts.ControlPort, c.opts.DataPort, c.opts.Magic = 2000, 2001, 16
		})},
		{"long connectivity", []string{"tcp_rr", "--client", "--host=h", "--local-host=l", "--control-port=1", "--port=2", "--magic=4294967295"}, wantConfig(kit.TCPRR, func(c *config) {
			c.opts.Client, c.opts.Host, c.opts.LocalHost = true, "h", "l"
			c.opts.ControlPort, c.opts.DataPort, c.opts.Magic = 1, 2, 4294967295
		})},
		{"workload shape", []string{"tcp_rr", "-T", "3", "--num-clients", "2", "-s", "1.5", "-B", "100", "-Q", "10", "-R", "20", "-D", "1000", "--maxevents", "10", "--listen-backlog", "5"}, wantConfig(kit.TCPRR, func(c *config) {
			c.opts.NumThreads, c.opts.NumClients, c.opts.SuicideLength = 3, 2, 1500*time.Millisecond
			c.opts.BufferSize, c.opts.RequestSize, c.opts.ResponseSize = 100, 10, 20
			c.opts.Delay, c.opts.MaxEvents, c.opts.ListenBacklog = 1000, 10, 5
		})},
		{"tcp and statistics", []string{"tcp_stream", "--min-rto", "200", "--congestion-control", "cubic", "-I", "0.5", "--warmup", "2"}, wantConfig(kit.TCPStream, func(c *config) {
			c.opts.MinRTO, c.opts.CongestionControl = 200*time.Millisecond, "cubic"
			c.opts.Interval, c.opts.Warmup = 500*time.Millisecond, 2*time.Second
		})},

		// Command-level flags.
		{"--local", []string{"tcp_rr", "--local"}, wantConfig(kit.TCPRR, func(c *config) { c.local = true })},
		{"--script and --script-arg", []string{"tcp_rr", "--script", "s.lua", "--script-arg", "dev=eth0", "--script-arg=addr=a=b", "--script-arg", "empty="}, wantConfig(kit.TCPRR, func(c *config) {
			c.script, c.scriptArgs = "s.lua", []string{"dev=eth0", "addr=a=b", "empty="}
		})},
		{"--help needs no workload", []string{"--help"}, wantConfig("", func(c *config) { c.help = true })},
		{"-h needs no workload", []string{"-h"}, wantConfig("", func(c *config) { c.help = true })},
		{"--version needs no workload", []string{"--version"}, wantConfig("", func(c *config) { c.version = true })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseArgs(tt.args)
			assert.NilError(t, err, "parseArgs(%q)", tt.args)
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(config{})); diff != "" {
				t.Errorf("parseArgs(%q) mismatch (-want +got):\n%s", tt.args, diff)
			}
		})
	}
}

func TestParseArgsErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want []string // line i of the error contains want[i]; no more lines
	}{
		{"unknown long flag", []string{"tcp_rr", "--bogus"}, []string{"unknown flag --bogus"}},
		{"-4 then -6", []string{"tcp_rr", "-4", "-6"}, []string{"-6: not with -4/--ipv4: choose one family"}},
		{"bundled -46", []string{"tcp_rr", "-c46"}, []string{"-6: not with -4/--ipv4: choose one family"}},
		{"script-arg without a key", []string{"tcp_rr", "--script-arg", "=x"}, []string{`--script-arg: "=x" is not key=value with a key`}},
		{"unknown long flag with value", []string{"tcp_rr", "--bogus=1"}, []string{"unknown flag --bogus"}},
		{"unknown short flag", []string{"tcp_rr", "-Y"}, []string{"unknown flag -Y"}},
		{"unknown short flag in a bundle", []string{"tcp_rr", "-cY"}, []string{"unknown flag -Y"}},
		{"short flag missing its value", []string{"tcp_rr", "-F"}, []string{"-F needs a value (N)"}},
		{"long flag missing its value", []string{"tcp_rr", "--num-flows"}, []string{"--num-flows needs a value (N)"}},
		{"-l missing its value", []string{"tcp_rr", "-l"}, []string{"-l needs a value (SECONDS)"}},
		{"switch given a value", []string{"tcp_rr", "--client=yes"}, []string{"--client takes no value"}},
		{"not a number, short", []string{"tcp_rr", "-F", "x"}, []string{`-F: "x" is not a whole number`}},
		{"not a number, long", []string{"tcp_rr", "--num-flows=ten"}, []string{`--num-flows: "ten" is not a whole number`}},
		{"not a number, attached", []string{"tcp_rr", "-F1.5"}, []string{`-F: "1.5" is not a whole number`}},
		{"-l not a number", []string{"tcp_rr", "-l", "soon"}, []string{`-l: "soon" is not a number`}},
		{"-l fractional count", []string{"tcp_rr", "-l", "-2.5"}, []string{`-l: a negative length is a whole number of transactions, got "-2.5"`}},
		{"-I not a number", []string{"tcp_rr", "-I", "x"}, []string{`-I: "x" is not a number of seconds`}},
		{"-D fractional nanoseconds", []string{"tcp_rr", "-D", "1.5"}, []string{`-D: "1.5" is not a delay`}},
		{"-D unknown unit", []string{"tcp_rr", "-D", "5min"}, []string{`-D: "5min" is not a delay`}},
		{"-D negative with a unit", []string{"tcp_rr", "-D", "-1ms"}, []string{`-D: "-1ms" is not a delay`}},
		{"-m negative", []string{"tcp_stream", "-m", "-1"}, []string{`-m: rate "-1": must not be negative`}},
		{"-m bad suffix", []string{"tcp_stream", "-m", "10X"}, []string{`-m: rate "10X": want a number`}},
		{"-p zero", []string{"tcp_rr", "-p", "0"}, []string{`-p: percentile "0": must be in (0, 100]`}},
		{"-p over 100", []string{"tcp_rr", "-p", "50,101"}, []string{`-p: percentile "101": must be in (0, 100]`}},
		{"-p not numbers", []string{"tcp_rr", "-p", "a,b"}, []string{`-p: percentile "a": not a number`}},
		{"--magic over 32 bits", []string{"tcp_rr", "--magic", "4294967296"}, []string{`--magic: "4294967296" is not a 32-bit number`}},
		{"--min-rto not whole", []string{"tcp_rr", "--min-rto", "1.5"}, []string{`--min-rto: "1.5" is not a whole number of milliseconds`}},
		{"--script-arg without =", []string{"tcp_rr", "--script-arg", "novalue"}, []string{`--script-arg: "novalue" is not key=value`}},
		{"--script-arg= without =", []string{"tcp_rr", "--script-arg=novalue"}, []string{`--script-arg: "novalue" is not key=value`}},
		{"two workloads", []string{"tcp_rr", "udp_rr"}, []string{`unexpected argument "udp_rr" (the workload is tcp_rr)`}},
		{"stray argument", []string{"tcp_rr", "-F", "2", "3"}, []string{`unexpected argument "3"`}},
		{"-M is the mark outside tcp_stream", []string{"udp_stream", "-M"}, []string{"-M needs a value (N)"}},
		{"--enable-tcp-maerts outside tcp_stream", []string{"udp_stream", "--enable-tcp-maerts"}, []string{"--enable-tcp-maerts applies to tcp_stream, not udp_stream"}},
		{"--mark too large", []string{"tcp_rr", "--mark", "4294967296"}, []string{`--mark: "4294967296" is not a 32-bit number`}},
		{"-A's file after a space", []string{"tcp_rr", "-A", "s.csv"}, []string{`unexpected argument "s.csv" (-A/--all-samples takes its FILE attached: -A=s.csv or --all-samples=s.csv)`}},
		{"--all-samples' file after a space", []string{"tcp_rr", "--all-samples", "s.csv"}, []string{`unexpected argument "s.csv" (-A/--all-samples takes its FILE attached`}},
		{"no workload", []string{"-F", "2"}, []string{"no workload given"}},
		{"nothing at all", nil, []string{"no workload given"}},
		{"unknown workload", []string{"tcp_xx"}, []string{`unknown workload "tcp_xx"`}},
		{"--local with -c", []string{"tcp_rr", "--local", "-c"}, []string{"--local runs both sides; drop -c"}},
		{"-t not whole", []string{"tcp_rr", "-t", "1.5"}, []string{`-t: "1.5" is not a whole number of microseconds`}},
		{"-t negative", []string{"tcp_rr", "-t", "-1"}, []string{`-t: "-1" is not a whole number of microseconds`}},
		{"--throughput-opt unknown", []string{"tcp_stream", "--throughput-opt=mbit"}, []string{`--throughput-opt: unknown unit "mbit" (one of b, k, m, g,`}},
		{"--logrtt-entries-per-flow 0", []string{"tcp_rr", "--logrtt-entries-per-flow", "0"}, []string{`--logrtt-entries-per-flow: "0" is not a count of entries (1 or more)`}},
		{"--num-ports 0", []string{"tcp_rr", "--num-ports", "0"}, []string{`--num-ports: "0" is not a count of ports (1 or more)`}},
		{"--async-connect on UDP", []string{"udp_rr", "--async-connect"}, []string{"--async-connect: applies to TCP workloads' connections, not udp_rr"}},
		{"-Q on a stream", []string{"tcp_stream", "-Q", "10"}, []string{"-Q: applies to rr workloads (tcp_rr, tcp_crr, udp_rr), not tcp_stream"}},
		{"-w on an rr workload", []string{"tcp_rr", "-w"}, []string{"-w: applies to tcp_stream, not tcp_rr"}},
		{"--nolog with -V", []string{"tcp_rr", "--nolog", "-V"}, []string{"--nolog and -V/--logtostderr contradict each other"}},
		{"-c with --local", []string{"-c", "tcp_rr", "--local"}, []string{"--local runs both sides; drop -c"}},
		{"every problem at once", []string{"--bogus", "-F", "x", "tcp_rr", "udp_rr", "--num-threads"}, []string{
			"unknown flag --bogus", `unexpected argument "udp_rr"`, "--num-threads needs a value", `-F: "x" is not a whole number`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := parseArgs(tt.args)
			assert.Assert(t, err != nil, "parseArgs(%q) gave no error", tt.args)
			lines := strings.Split(err.Error(), "\n")
			assert.Equal(t, len(lines), len(tt.want), "one line per problem, got:\n%s", err)
			for i, w := range tt.want {
				assert.Assert(t, strings.Contains(lines[i], w), "parseArgs(%q): line %d %q does not contain %q", tt.args, i, lines[i], w)
			}
		})
	}
}

// TestValidateNamesFlag checks that every problem Options.Validate finds
// in a parsed command line names the flag to fix, long and short.
func TestValidateNamesFlag(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		flag string
	}{
		{[]string{"tcp_rr", "-F", "-3"}, "-F/--num-flows"},
		{[]string{"tcp_rr", "--num-flows=0"}, "-F/--num-flows"},
		{[]string{"tcp_rr", "-T", "0"}, "-T/--num-threads"},
		{[]string{"tcp_rr", "-c", "-T", "4", "-F", "2"}, "-T/--num-threads"},
		{[]string{"tcp_rr", "--num-clients", "0"}, "--num-clients"},
		{[]string{"tcp_rr", "-l", "0"}, "-l/--test-length"},
		{[]string{"tcp_stream", "-l", "-5"}, "-l/--test-length"},
		{[]string{"udp_stream", "-l", "-5"}, "-l/--test-length"},
		{[]string{"tcp_rr", "-s", "-1"}, "-s/--suicide-length"},
		{[]string{"tcp_stream", "-B", "0"}, "-B/--buffer-size"},
		{[]string{"tcp_stream", "-B", "100000000"}, "-B/--buffer-size"},
		{[]string{"udp_stream", "-B", "70000"}, "-B/--buffer-size"},
		{[]string{"tcp_rr", "-Q", "0"}, "-Q/--request-size"},
		{[]string{"tcp_rr", "-B", "100", "-Q", "200"}, "-Q/--request-size"},
		{[]string{"udp_rr", "-B", "100000", "-Q", "70000"}, "-Q/--request-size"},
		{[]string{"tcp_crr", "-R", "0"}, "-R/--response-size"},
		{[]string{"tcp_rr", "-D", "-1"}, "-D/--delay"},
		{[]string{"tcp_rr", "--maxevents", "0"}, "--maxevents"},
		{[]string{"tcp_rr", "--listen-backlog", "0"}, "--listen-backlog"},
		{[]string{"tcp_rr", "--min-rto", "-1"}, "--min-rto"},
		{[]string{"udp_rr", "--udp-timeout", "0"}, "--udp-timeout"},
		{[]string{"udp_stream", "--congestion-control", "cubic"}, "--congestion-control"},
		{[]string{"udp_rr", "--no-delay"}, "--no-delay"},
		{[]string{"udp_stream", "-t", "10"}, "-t/--tcp-tx-delay"},
		{[]string{"tcp_rr", "--wait-start", "2"}, "--wait-start"},
		{[]string{"udp_stream", "--no-cork"}, "--no-cork"},
		{[]string{"udp_rr", "-X"}, "-X/--tcp-fastopen"},
		{[]string{"tcp_rr", "--skip-rx-copy"}, "--skip-rx-copy"},
		{[]string{"tcp_rr", "-Z"}, "-Z/--zerocopy"},
		{[]string{"tcp_crr", "--noburst", "1ms"}, "--noburst"},
		{[]string{"udp_rr", "-N"}, "-N/--pin-numa"},
		{[]string{"tcp_rr", "--split-bidir"}, "--split-bidir"},
		{[]string{"tcp_rr", "--noburst", "1ms", "-D", "1ms"}, "--noburst"},
		{[]string{"tcp_rr", "-z"}, "-z/--rx-zerocopy"},
		{[]string{"tcp_stream", "--log-rtt"}, "--log-rtt"},
		{[]string{"tcp_stream", "-z", "--skip-rx-copy"}, "-z/--rx-zerocopy"},
		{[]string{"tcp_rr", "--source-port", "70000"}, "--source-port"},
		{[]string{"udp_rr", "--num-ports", "2"}, "--num-ports"},
		{[]string{"tcp_rr", "-P", "65535", "--num-ports", "2"}, "--num-ports"},
		{[]string{"tcp_rr", "-F", "10", "--source-port", "65530"}, "--source-port"},
		{[]string{"tcp_rr", "-L", "127.0.0.1", "--source-port", "30000"}, "--source-port"},
		{[]string{"tcp_rr", "--throughput-opt", "Mb"}, "--throughput-opt"},
		{[]string{"tcp_stream", "--congestion-control", "a-very-long-name"}, "--congestion-control"},
		{[]string{"tcp_rr", "-I", "0"}, "-I/--interval"},
		{[]string{"tcp_rr", "-I", "0.0001"}, "-I/--interval"},
		{[]string{"tcp_rr", "--warmup", "-1"}, "--warmup"},
		{[]string{"tcp_rr", "-l", "1", "--warmup", "1"}, "--warmup"},
		{[]string{"tcp_rr", "-C", "70000"}, "-C/--control-port"},
		{[]string{"tcp_rr", "-C", "-1"}, "-C/--control-port"},
		{[]string{"tcp_rr", "-c", "-C", "0"}, "-C/--control-port"},
		{[]string{"tcp_rr", "-P", "70000"}, "-P/--port"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			c, err := parseArgs(tt.args)
			assert.NilError(t, err)
			err = c.opts.Validate()
			assert.Assert(t, err != nil, "Validate accepted %q", tt.args)
			lines := strings.Split(err.Error(), "\n")
			assert.Equal(t, len(lines), 1, "want exactly one problem, got:\n%s", err)
			assert.Assert(t, strings.HasPrefix(lines[0], tt.flag+": "), "%q does not start with %q", lines[0], tt.flag+": ")
		})
	}

	t.Run("every problem on its own line", func(t *testing.T) {
		t.Parallel()
		c, err := parseArgs([]string{"tcp_rr", "-F", "-3", "-T", "0", "-P", "70000", "-I", "0"})
		assert.NilError(t, err)
		err = c.opts.Validate()
		assert.Assert(t, err != nil)
		want := []string{"-P/--port: ", "-F/--num-flows: ", "-T/--num-threads: ", "-I/--interval: "}
		lines := strings.Split(err.Error(), "\n")
		assert.Equal(t, len(lines), len(want), "got:\n%s", err)
		for i, w := range want {
			assert.Assert(t, strings.HasPrefix(lines[i], w), "line %d %q does not start with %q", i, lines[i], w)
		}
	})

	t.Run("defaults are valid", func(t *testing.T) {
		t.Parallel()
		for _, w := range kit.Workloads {
			for _, args := range [][]string{{string(w)}, {string(w), "-c"}, {string(w), "--local"}} {
				c, err := parseArgs(args)
				assert.NilError(t, err)
				assert.NilError(t, c.opts.Validate(), "%q", args)
			}
		}
		for _, w := range []kit.Workload{kit.TCPRR, kit.TCPCRR, kit.UDPRR} {
			c, err := parseArgs([]string{string(w), "-l", "-500", "-p", "50,99"})
			assert.NilError(t, err)
			assert.NilError(t, c.opts.Validate(), "%s -l -500", w)
		}
	})
}

// TestParseArgsEveryFlag makes sure the tables above keep up with
// flagSpecs: every flag, by each of its names, is accepted.
func TestParseArgsEveryFlag(t *testing.T) {
	t.Parallel()
	values := map[string]string{
		"host": "127.0.0.1", "local-host": "127.0.0.1", "max-pacing-rate": "1M", "percentiles": "50",
		"congestion-control": "cubic", "script": "x.lua", "script-arg": "k=v", "all-samples": "f.csv",
		"test-length": "1", "suicide-length": "1", "interval": "1", "warmup": "0", "throughput-opt": "Gb",
	}
	for _, f := range flagSpecs {
		v := values[f.long]
		if v == "" {
			v = "1"
		}
		var forms [][]string
		switch f.kind {
		case noValue:
			forms = append(forms, []string{"--" + f.long})
			if f.short != "" {
				forms = append(forms, []string{"-" + f.short})
			}
		case needsValue:
			forms = append(forms, []string{"--" + f.long, v}, []string{"--" + f.long + "=" + v})
			if f.short != "" {
				forms = append(forms, []string{"-" + f.short, v}, []string{"-" + f.short + v})
			}
		case optionalValue:
			forms = append(forms, []string{"--" + f.long}, []string{"--" + f.long + "=" + v})
			if f.short != "" {
				forms = append(forms, []string{"-" + f.short}, []string{"-" + f.short + v}, []string{"-" + f.short + "=" + v})
			}
		}
		// A letter that means another flag to tcp_stream (-R) is tried
		// where it means this one.
		workload := "tcp_stream"
		if long, ok := workloadShorts[kit.TCPStream][f.short]; ok && long != f.long {
			workload = "tcp_rr"
		}
		if fw, ok := flagWorkloads[f.long]; ok {
			workload = string(fw.workloads[0])
		}
		for _, form := range forms {
			args := append([]string{workload}, form...)
			_, err := parseArgs(args)
			assert.NilError(t, err, "parseArgs(%q)", args)
		}
	}
}
