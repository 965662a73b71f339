// Package examples_test runs every script of examples/ over loopback through
// the Go API, and rushit's own example scripts unchanged, and checks what
// they collected and printed.
package examples_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"gotest.tools/v3/assert"

	"github.com/hookperf/hookperf/kit"
	"github.com/hookperf/hookperf/luahooks"
)

// run is one scripted local run: both sides' results, what each side
// printed, and the run's error.
type run struct {
	*luahooks.LocalResult
	sout, cout string
	err        error
}

func load(t *testing.T, path string) *luahooks.Script {
	t.Helper()
	s, err := luahooks.LoadFile(path)
	assert.NilError(t, err)
	return s
}

// runLocal runs examples/name on both sides over loopback with args.
func runLocal(t *testing.T, name string, o kit.Options, args map[string]string) run {
	t.Helper()
	var sout, cout bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := luahooks.RunLocal(ctx, load(t, name), o, kit.SideConfig{}, kit.SideConfig{},
		luahooks.Env{Args: args, Out: &sout}, luahooks.Env{Args: args, Out: &cout})
	if r == nil {
		r = &luahooks.LocalResult{}
	}
	return run{r, sout.String(), cout.String(), err}
}

// opts is a short run of workload w with flows and threads.
func opts(w kit.Workload, length time.Duration, flows, threads int) kit.Options {
	o := kit.DefaultOptions(w)
	o.TestLength = length
	o.NumFlows, o.NumThreads = flows, threads
	o.Interval = 100 * time.Millisecond
	return o
}

// collected returns a side's per-worker values of a collect() variable.
func collected(t *testing.T, r *luahooks.Result, name string) []any {
	t.Helper()
	assert.Assert(t, r != nil, "no result")
	v, ok := r.Collected[name]
	assert.Assert(t, ok, "nothing collected as %q (have %v)", name, keys(r.Collected))
	return v
}

func keys(m map[string][]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// num reads a collected number.
func num(t *testing.T, v any) float64 {
	t.Helper()
	f, ok := v.(float64)
	assert.Assert(t, ok, "%v (%T) is not a number", v, v)
	return f
}

// table reads a collected table with string keys (a Lua table whose keys
// happen to be 1..n arrives as a list: its keys are then "1".."n").
func table(t *testing.T, v any) map[string]any {
	t.Helper()
	switch v := v.(type) {
	case map[string]any:
		return v
	case []any:
		m := map[string]any{}
		for i, e := range v {
			m[strconv.Itoa(i+1)] = e
		}
		return m
	}
	t.Fatalf("%v (%T) is not a table", v, v)
	return nil
}

func TestBindToDevice(t *testing.T) {
	r := runLocal(t, "bind-to-device.lua", opts(kit.UDPStream, 500*time.Millisecond, 2, 2), nil)
	if r.err != nil && strings.Contains(r.err.Error(), "operation not permitted") {
		t.Skipf("SO_BINDTODEVICE needs CAP_NET_RAW on this kernel: %v", r.err)
	}
	assert.NilError(t, r.err)
	// The kernel reports each server socket bound to the default, "lo".
	assert.DeepEqual(t, collected(t, r.Server, "bound"), []any{"lo", "lo"})
	assert.Equal(t, r.sout, "worker 1: bound to \"lo\"\nworker 2: bound to \"lo\"\n")
	assert.Equal(t, r.cout, "")
	// Traffic flowed to the bound sockets.
	assert.Assert(t, r.Server.Kit.PacketsRead > 0, "server read %d datagrams", r.Server.Kit.PacketsRead)

	t.Run("no such device", func(t *testing.T) {
		r := runLocal(t, "bind-to-device.lua", opts(kit.UDPStream, 500*time.Millisecond, 1, 1), map[string]string{"dev": "nosuchdev0"})
		var he *kit.HookError
		assert.Assert(t, errors.As(r.err, &he), "%v", r.err)
		assert.Equal(t, he.Hook, "server_socket")
		assert.ErrorContains(t, r.err, "bind-to-device.lua:19: SO_BINDTODEVICE nosuchdev0: no such device")
	})
}

func TestCheckSrcAddr(t *testing.T) {
	o := opts(kit.UDPStream, 500*time.Millisecond, 1, 1)
	o.Family = kit.IPv4
	tests := []struct {
		name      string
		localHost string // -L: the client's source (and, in a local run, the server's bind address)
		src       string // args.src, "" for the default
		wantExit  bool
	}{
		{name: "default source", src: ""},
		{name: "given source", src: "127.0.0.1"},
		{name: "another source", localHost: "127.0.0.2", src: "127.0.0.2"},
		{name: "wrong source", src: "127.0.0.2", wantExit: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := o
			o.LocalHost = tc.localHost
			args := map[string]string{}
			if tc.src != "" {
				args["src"] = tc.src
			}
			r := runLocal(t, "check-src-addr.lua", o, args)
			if !tc.wantExit {
				assert.NilError(t, r.err)
				assert.Assert(t, r.Server.Kit.PacketsRead > 0)
				assert.Equal(t, r.sout, "")
				return
			}
			var exit *luahooks.ExitError
			assert.Assert(t, errors.As(r.err, &exit), "%v", r.err)
			assert.Equal(t, exit.Code, 1)
			assert.Equal(t, r.sout, "Wrong source address! Expected 127.0.0.2, but got 127.0.0.1\n")
		})
	}
	t.Run("IPv6", func(t *testing.T) {
		o := o
		o.Family = kit.IPv6
		r := runLocal(t, "check-src-addr.lua", o, nil)
		var exit *luahooks.ExitError
		assert.Assert(t, errors.As(r.err, &exit), "%v", r.err)
		assert.Equal(t, exit.Code, 1)
		assert.Equal(t, r.sout, "check-src-addr.lua works only with IPv4: use -4\n")
	})
}

func TestCollectValues(t *testing.T) {
	const threads = 4
	r := runLocal(t, "collect-values.lua", opts(kit.TCPStream, 500*time.Millisecond, threads, threads), nil)
	assert.NilError(t, r.err)
	for _, side := range []struct {
		name string
		res  *luahooks.Result
		out  string
	}{{"server", r.Server, r.sout}, {"client", r.Client, r.cout}} {
		fds := collected(t, side.res, "sockfd")
		assert.Equal(t, len(fds), threads, "%s: one fd per worker", side.name)
		seen := map[float64]bool{}
		var words []string
		for i, v := range fds {
			fd := num(t, v)
			assert.Assert(t, fd > 2, "%s worker %d: fd %v", side.name, i+1, fd)
			assert.Assert(t, !seen[fd], "%s: fd %v in two workers", side.name, fd)
			seen[fd] = true
			words = append(words, strconv.Itoa(int(fd)))
		}
		// The script printed what it collected, in worker order.
		assert.Equal(t, side.out, side.name+" fds: "+strings.Join(words, " ")+"\n")
	}
}

func TestDropCount(t *testing.T) {
	for _, tc := range []struct {
		name      string
		rcvbuf    string
		wantDrops bool
	}{
		{"kernel's buffer", "", false},
		{"tiny buffer", "2048", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := opts(kit.UDPStream, 500*time.Millisecond, 2, 2)
			o.BufferSize = 64 // small datagrams, as fast as the client can send them
			args := map[string]string{}
			if tc.rcvbuf != "" {
				args["rcvbuf"] = tc.rcvbuf
			}
			r := runLocal(t, "drop-count.lua", o, args)
			assert.NilError(t, r.err)
			stats := collected(t, r.Server, "stats")
			assert.Equal(t, len(stats), 2)
			var recv, drops float64
			for i, s := range stats {
				m := table(t, s)
				rp, dp := num(t, m["recv_pkts"]), num(t, m["drop_pkts"])
				assert.Assert(t, rp > 0, "worker %d received nothing", i+1)
				assert.Assert(t, dp >= 0)
				recv, drops = recv+rp, drops+dp
			}
			// Every read went through the hook.
			assert.Equal(t, recv, float64(r.Server.Kit.PacketsRead))
			if tc.wantDrops {
				assert.Assert(t, drops > 0, "no drops with SO_RCVBUF %s", tc.rcvbuf)
			}
			assert.Assert(t, strings.Contains(r.sout, fmt.Sprintf("%10s %12d %12d\n", "Total:", int(recv), int(drops))), "%s", r.sout)
			// The client registered no hooks: its workers keep the starting table.
			for _, s := range collected(t, r.Client, "stats") {
				assert.DeepEqual(t, s, map[string]any{"recv_pkts": 0.0, "drop_pkts": 0.0})
			}
		})
	}
}

func TestTCPAckInterval(t *testing.T) {
	r := runLocal(t, "tcp-ack-interval.lua", opts(kit.TCPStream, 500*time.Millisecond, 1, 1), nil)
	assert.NilError(t, r.err)
	acks := collected(t, r.Client, "acks")
	assert.Equal(t, len(acks), 1)
	a := table(t, acks[0])
	samples := num(t, a["samples"])
	assert.Assert(t, samples > 0, "no ACK intervals measured")
	var sum float64
	for _, c := range table(t, a["hist"]) {
		sum += num(t, c)
	}
	assert.Equal(t, sum, samples, "the histogram holds every interval")
	assert.Assert(t, strings.HasSuffix(r.cout, fmt.Sprintf("%d intervals by 1 workers\n", int(samples))), "%s", r.cout)
	assert.Assert(t, strings.Contains(r.cout, "         0 -> 1         : "), "%s", r.cout)
	assert.Equal(t, r.sout, "")
}

func TestTimeScriptRun(t *testing.T) {
	const length = 2 * time.Second
	var r run
	stderr := captureStderr(t, func() {
		r = runLocal(t, "time-script-run.lua", opts(kit.TCPStream, length, 1, 1), nil)
	})
	assert.NilError(t, r.err)
	for _, side := range []string{"client", "server"} {
		m := regexp.MustCompile(side + `: script ran for (\d+) seconds\.\n`).FindStringSubmatch(stderr)
		assert.Assert(t, m != nil, "no %s line in %q", side, stderr)
		secs, _ := strconv.Atoi(m[1])
		d := time.Duration(secs)*time.Second - length
		assert.Assert(t, d >= -time.Second && d <= time.Second, "%s ran for %ds, the test for %v", side, secs, length)
	}
}

// captureStderr returns what f wrote to file descriptor 2, where the Lua
// io.stderr of a script writes (it is not the run's Env.Out).
func captureStderr(t *testing.T, f func()) string {
	t.Helper()
	saved, err := unix.Dup(2)
	assert.NilError(t, err)
	pr, pw, err := os.Pipe()
	assert.NilError(t, err)
	assert.NilError(t, unix.Dup2(int(pw.Fd()), 2))
	pw.Close()
	got := make(chan string)
	go func() {
		b, _ := io.ReadAll(pr)
		got <- string(b)
	}()
	func() {
		defer func() {
			unix.Dup2(saved, 2)
			unix.Close(saved)
		}()
		f()
	}()
	out := <-got
	pr.Close()
	os.Stderr.WriteString(out) // whatever else went there stays visible
	return out
}

func TestReuseportCBPF(t *testing.T) {
	// With client worker i pinned to CPU i, the program sends each client
	// worker's flows to one server socket, a different one per CPU.
	var cpus unix.CPUSet
	pin := unix.SchedGetaffinity(0, &cpus) == nil && cpus.IsSet(0) && cpus.IsSet(1)
	for _, w := range []kit.Workload{kit.UDPStream, kit.TCPStream} {
		t.Run(string(w), func(t *testing.T) {
			o := opts(w, 500*time.Millisecond, 8, 2)
			o.ReusePort = w.IsUDP() // TCP listeners always share the port
			o.PinCPU = pin
			r := runLocal(t, "reuseport-cbpf.lua", o, nil)
			assert.NilError(t, r.err)
			// The program attached without error, on the socket that
			// founded the group only.
			assert.DeepEqual(t, collected(t, r.Server, "attached"), []any{true, false})

			// Where each client flow (by its address) sent from.
			flowCPU := map[string]int{}
			for _, f := range collected(t, r.Client, "flows") {
				for addr, cpu := range table(t, f) {
					flowCPU[addr] = int(num(t, cpu))
				}
			}
			assert.Equal(t, len(flowCPU), 8, "%v", flowCPU)
			// Which server worker read each client flow.
			workerOf := map[int]int{} // CPU -> server worker
			var total float64
			for i, p := range collected(t, r.Server, "peers") {
				for addr, reads := range table(t, p) {
					cpu, ok := flowCPU[addr]
					assert.Assert(t, ok, "server worker %d read from %s, not a client flow", i+1, addr)
					total += num(t, reads)
					if !pin {
						continue
					}
					if prev, ok := workerOf[cpu]; ok {
						assert.Equal(t, prev, i, "flows sent from CPU %d reached server workers %d and %d", cpu, prev+1, i+1)
					}
					workerOf[cpu] = i
				}
			}
			assert.Assert(t, total > 0, "the servers read nothing")
			if pin {
				// Both server workers got traffic: CPU 0's and CPU 1's.
				assert.Equal(t, len(workerOf), 2, "%v", workerOf)
				assert.Assert(t, workerOf[0] != workerOf[1])
			}
		})
	}
}

// pair is a two-process run in one test: a server (scripted or plain) and
// a client (scripted or plain) with options of their own, as two command
// lines would run them.
type pair struct {
	server, client *luahooks.Result
	sout, cout     string
	serr, cerr     error
}

func runPair(t *testing.T, sscript, cscript *luahooks.Script, sopts, copts kit.Options) pair {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sopts.Client, copts.Client = false, true
	sopts.ControlPort, sopts.DataPort = 0, 0
	listening := make(chan netip.AddrPort, 1)
	scfg := kit.SideConfig{Listening: func(ap netip.AddrPort) { listening <- ap }}
	var p pair
	var sout, cout bytes.Buffer
	done := make(chan struct{})
	go func() {
		defer close(done)
		if sscript != nil {
			p.server, p.serr = luahooks.RunSide(ctx, sscript, sopts, scfg, luahooks.Env{Out: &sout})
		} else {
			_, p.serr = kit.Run(ctx, sopts, scfg)
		}
		if p.serr != nil {
			cancel()
		}
	}()
	select {
	case ap := <-listening:
		copts.ControlPort = int(ap.Port())
		copts.Host = "127.0.0.1"
		if cscript != nil {
			p.client, p.cerr = luahooks.RunSide(ctx, cscript, copts, kit.SideConfig{}, luahooks.Env{Out: &cout})
		} else {
			_, p.cerr = kit.Run(ctx, copts, kit.SideConfig{})
		}
		if p.cerr != nil {
			cancel()
		}
	case <-done:
	}
	<-done
	p.sout, p.cout = sout.String(), cout.String()
	return p
}

// TestRushitExamples runs rushit's published example scripts unchanged,
// with the command lines of their *_example.txt (test lengths shortened).
func TestRushitExamples(t *testing.T) {
	dir := os.Getenv("RUSHIT_EXAMPLES")
	if dir == "" {
		t.Skip("RUSHIT_EXAMPLES is not set: set it to the examples directory of a copy of rushit to run its scripts unchanged")
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("RUSHIT_EXAMPLES names no directory: %v", err)
	}
	script := func(t *testing.T, name string) *luahooks.Script { return load(t, filepath.Join(dir, name)) }

	t.Run("collect-values", func(t *testing.T) {
		// server $ ./tcp_stream -T5 --script ./examples/collect-values.lua
		// client $ ./tcp_stream -c -l2 -F10 -T10 --script ./examples/collect-values.lua
		s := script(t, "collect-values.lua")
		p := runPair(t, s, s, opts(kit.TCPStream, time.Second, 1, 5), opts(kit.TCPStream, 2*time.Second, 10, 10))
		assert.NilError(t, p.serr)
		assert.NilError(t, p.cerr)
		assert.Equal(t, len(p.server.Collected["sockfd"]), 5)
		assert.Equal(t, len(p.client.Collected["sockfd"]), 10)
		// Each side printed its fds as the hooks ran, then again after run().
		for _, out := range []string{p.sout, p.cout} {
			assert.Assert(t, regexp.MustCompile(`^(\d+ )+\n(\d+ )+\n$`).MatchString(out), "%q", out)
		}
	})

	t.Run("drop-count", func(t *testing.T) {
		// server $ ./udp_stream -T 4 --script ./examples/drop-count.lua
		// client $ ./udp_stream -c -F 4 -T 4 --buffer-size 64
		copts := opts(kit.UDPStream, time.Second, 4, 4)
		copts.BufferSize = 64
		p := runPair(t, script(t, "drop-count.lua"), nil, opts(kit.UDPStream, time.Second, 1, 4), copts)
		assert.NilError(t, p.serr)
		assert.NilError(t, p.cerr)
		assert.Equal(t, len(p.server.Collected["stats"]), 4)
		assert.Assert(t, strings.Contains(p.sout, "Thread-04:"), "%s", p.sout)
		assert.Assert(t, strings.Contains(p.sout, "    Total:"), "%s", p.sout)
	})

	t.Run("tcp-ack-interval", func(t *testing.T) {
		// ~/src/rushit $ ./tcp_stream > /dev/null &
		// ~/src/rushit $ ./tcp_stream -c --script examples/tcp-ack-interval.lua
		p := runPair(t, nil, script(t, "tcp-ack-interval.lua"), opts(kit.TCPStream, time.Second, 1, 1), opts(kit.TCPStream, time.Second, 1, 1))
		// The script asserts that every recverr call reads a message: the
		// kit calls the hook once per EPOLLERR event, as rushit did.
		assert.NilError(t, p.serr)
		assert.NilError(t, p.cerr)
		assert.Assert(t, strings.Contains(p.cout, "All threads (summed)"), "%s", p.cout)
		assert.Assert(t, strings.Contains(p.cout, "         0 -> 1         : "), "%s", p.cout)
	})

	t.Run("time-script-run", func(t *testing.T) {
		// ~/src/rushit $ ./tcp_stream > /dev/null &
		// ~/src/rushit $ ./tcp_stream --client --test-length 7 --script examples/time-script-run.lua > /dev/null
		// (2 s here, not 7)
		var p pair
		stderr := captureStderr(t, func() {
			p = runPair(t, nil, script(t, "time-script-run.lua"), opts(kit.TCPStream, time.Second, 1, 1), opts(kit.TCPStream, 2*time.Second, 1, 1))
		})
		assert.NilError(t, p.serr)
		assert.NilError(t, p.cerr)
		m := regexp.MustCompile(`Script ran for (\d+) seconds\.\n`).FindStringSubmatch(stderr)
		assert.Assert(t, m != nil, "%q", stderr)
		secs, _ := strconv.Atoi(m[1])
		assert.Assert(t, secs >= 1 && secs <= 3, "ran for %d s", secs)
	})

	t.Run("check-src-addr", func(t *testing.T) {
		// server $ ./udp_stream -4 --script ./examples/check-src-addr.lua
		// client $ ./udp_stream -4 -c
		s := script(t, "check-src-addr.lua")
		o := opts(kit.UDPStream, time.Second, 1, 1)
		o.Family = kit.IPv4
		p := runPair(t, s, nil, o, o)
		assert.NilError(t, p.serr)
		assert.NilError(t, p.cerr)
		assert.Equal(t, p.sout, "")

		// client $ ./udp_stream -c -L 127.0.0.2: the server exits 1.
		copts := opts(kit.UDPStream, time.Second, 1, 1)
		copts.LocalHost = "127.0.0.2"
		p = runPair(t, s, nil, o, copts)
		var exit *luahooks.ExitError
		assert.Assert(t, errors.As(p.serr, &exit), "%v", p.serr)
		assert.Equal(t, exit.Code, 1)
		assert.Equal(t, p.sout, "Wrong source address! Expected 127.0.0.1, but got 127.0.0.2\n")
	})

	t.Run("bind-to-device", func(t *testing.T) {
		t.Skip("needs the veth0 of its example: scenarios/bind_to_device_test.go runs it unchanged between two namespaces joined by a veth0; examples/bind-to-device.lua takes the device as an arg and is tested on lo here")
	})
	t.Run("reuseport-cbpf", func(t *testing.T) {
		t.Skip("builds its program with LuaJIT's FFI (require(\"ffi\")), which hookperf has not; examples/reuseport-cbpf.lua is the bpf_prog{} equivalent")
	})
}
