package luahooks

import (
	"context"
	"os"
	"runtime"
	"sort"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/hookperf/hookperf/kit"
)

const passThrough = `
client_sendmsg(function(fd, msg, flags) return sendmsg(fd, msg, flags) end)
client_recvmsg(function(fd, msg, flags) return recvmsg(fd, msg, flags) end)
server_sendmsg(function(fd, msg, flags) return sendmsg(fd, msg, flags) end)
server_recvmsg(function(fd, msg, flags) return recvmsg(fd, msg, flags) end)
`

// inPlace is passThrough with each call's results kept and returned: the
// same calls, made inside the interpreter instead of after it (no tail
// call).
const inPlace = `
local function send(fd, msg, flags) local n, err = sendmsg(fd, msg, flags) return n, err end
local function recv(fd, msg, flags) local n, err = recvmsg(fd, msg, flags) return n, err end
client_sendmsg(send) server_sendmsg(send)
client_recvmsg(recv) server_recvmsg(recv)
`

// realistic is bench/realistic-hooks.lua: a hook that does what a
// measuring script does on every call, a counter update in a collected
// table and a look for a control message (SO_RXQ_OVFL, as drop-count.lua
// reads it), with a pass-through send hook.
func realistic(tb testing.TB) string {
	tb.Helper()
	b, err := os.ReadFile("../bench/realistic-hooks.lua")
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// clientHooks runs src as a client's script and makes worker 0's hooks.
func clientHooks(tb testing.TB, src string) (*engine, *kit.Hooks) {
	tb.Helper()
	s, err := LoadString("bench.lua", src)
	if err != nil {
		tb.Fatal(err)
	}
	e := newEngine(s, kit.ClientSide, Env{})
	tb.Cleanup(e.L.Close)
	e.L.Push(e.L.NewFunctionFromProto(s.proto))
	if err := e.L.PCall(0, 0, nil); err != nil {
		tb.Fatal(err)
	}
	h, err := e.NewHooks(kit.WorkerInfo{Side: kit.ClientSide, Workers: 1})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(e.closeWorkers)
	return e, h
}

// hookOnSocket builds a worker's recvmsg hook from src and a UDP socket
// pair with one datagram that the hook peeks at, again and again.
func hookOnSocket(b *testing.B, src string, withContext bool) (kit.PacketHook, *kit.Msg, int) {
	b.Helper()
	e, h := clientHooks(b, src)
	if !withContext {
		e.workers[0].L.RemoveContext()
	}
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_DGRAM, 0)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { unix.Close(fds[0]); unix.Close(fds[1]) })
	if _, err := unix.Write(fds[1], []byte("x")); err != nil {
		b.Fatal(err)
	}
	return h.RecvMsg, &kit.Msg{Buf: make([]byte, 64), Control: make([]byte, 512)}, fds[0]
}

// BenchmarkHookCall is one pass-through recvmsg hook call (MSG_PEEK on a
// queued datagram) against the same syscall from Go: the difference is
// the cost of the Lua hook. "lua" ends in `return recvmsg(...)`, a tail
// call made once the interpreter has returned; "lua-in-place" keeps the
// result (`local n, err = recvmsg(...) return n, err`), so the call is
// made inside the interpreter. "realistic" is the hook of the realistic
// script (a counter update, a control message looked for), and
// "no-stop-check" leaves out the per-instruction check that stops a stuck
// hook, to show what that check costs. "count-field" and "count-local"
// add one counter update to the pass-through hook, collected two ways: as
// the field of a collected table (`stats.calls = stats.calls + 1`) or as
// a collected local (`calls = calls + 1`): what a hook's own statements
// cost.
func BenchmarkHookCall(b *testing.B) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0)) // a run raises it
	const src = `client_recvmsg(function(fd, msg, flags) return recvmsg(fd, msg, flags) end)`
	b.Run("go", func(b *testing.B) {
		_, m, fd := hookOnSocket(b, src, true)
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, err := kit.RecvMsg(fd, m, unix.MSG_PEEK); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, c := range []struct {
		name string
		src  string
		ctx  bool
	}{
		{"lua", src, true},
		{"lua-in-place", `client_recvmsg(function(fd, msg, flags) local n, err = recvmsg(fd, msg, flags) return n, err end)`, true},
		{"lua-realistic", realistic(b), true},
		{"lua-no-stop-check", src, false},
		{"lua-count-field", `local stats = collect({ calls = 0 })
client_recvmsg(function(fd, msg, flags) stats.calls = stats.calls + 1 return recvmsg(fd, msg, flags) end)`, true},
		{"lua-count-local", `local calls = collect(0)
client_recvmsg(function(fd, msg, flags) calls = calls + 1 return recvmsg(fd, msg, flags) end)`, true},
	} {
		b.Run(c.name, func(b *testing.B) {
			h, m, fd := hookOnSocket(b, c.src, c.ctx)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := h(fd, m, unix.MSG_PEEK); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkHookCallParts splits a pass-through call's cost: each run
// makes the recvmsg of BenchmarkHookCall/go once, from Go, after a hook
// that returns 1 (entering and leaving the VM), after one that tail-calls
// htons (and a Go function), or as the deferred tail call of the
// pass-through hook itself (and the wrapper).
func BenchmarkHookCallParts(b *testing.B) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0)) // a run raises it
	for _, c := range []struct {
		name, body string
		thenGo     bool // the recvmsg made from Go after the hook
	}{
		{"return-1", "return 1", true},
		{"htons", "return htons(flags)", true},
		{"recvmsg", "return recvmsg(fd, msg, flags)", false},
	} {
		b.Run(c.name, func(b *testing.B) {
			h, m, fd := hookOnSocket(b, "client_recvmsg(function(fd, msg, flags) "+c.body+" end)", true)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := h(fd, m, unix.MSG_PEEK); err != nil {
					b.Fatal(err)
				}
				if c.thenGo {
					if _, err := kit.RecvMsg(fd, m, unix.MSG_PEEK); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// BenchmarkHookLoop is a hook that computes in Lua (a 1000-step loop),
// where the stop check runs on every instruction: its worst case.
func BenchmarkHookLoop(b *testing.B) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0)) // a run raises it
	const src = `client_recvmsg(function(fd, msg, flags)
		local x = 0
		for i = 1, 1000 do x = x + i end
		return x
	end)`
	for _, ctx := range []bool{true, false} {
		name := "with-stop-check"
		if !ctx {
			name = "no-stop-check"
		}
		b.Run(name, func(b *testing.B) {
			h, m, fd := hookOnSocket(b, src, ctx)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := h(fd, m, 0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkTCPRRHookOverhead runs tcp_rr over loopback without a script,
// with pass-through sendmsg/recvmsg hooks on both sides (tail calls, and
// in place), and with the realistic script's hooks, in turn, and reports each scripted run's
// throughput as a fraction of the plain run of its round: the median, the
// smallest and the largest over the rounds (b.N; 9 or more for a figure
// worth quoting). 1 means the hooks cost nothing.
func BenchmarkTCPRRHookOverhead(b *testing.B) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0)) // a run raises it
	for _, c := range []struct {
		name           string
		flows, threads int
	}{{"1x1", 1, 1}, {"8x2", 8, 2}} {
		b.Run(c.name, func(b *testing.B) { benchHookOverhead(b, c.flows, c.threads) })
	}
}

func benchHookOverhead(b *testing.B, flows, threads int) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0)) // a run raises it
	scripts := []struct {
		name string
		src  string
		s    *Script
	}{{name: "pass-through", src: passThrough}, {name: "in-place", src: inPlace}, {name: "realistic", src: realistic(b)}}
	for i := range scripts {
		s, err := LoadString(scripts[i].name+".lua", scripts[i].src)
		if err != nil {
			b.Fatal(err)
		}
		scripts[i].s = s
	}
	o := kit.DefaultOptions(kit.TCPRR)
	o.TestLength, o.Transactions = 0, 40000
	o.NumFlows, o.NumThreads = flows, threads
	ratios := make([][]float64, len(scripts))
	var plain float64
	for i := 0; i < b.N; i++ {
		p, err := kit.RunLocal(context.Background(), o, kit.SideConfig{}, kit.SideConfig{})
		if err != nil {
			b.Fatal(err)
		}
		plain += p.Client.Throughput
		for j, sc := range scripts {
			sr, err := RunLocal(context.Background(), sc.s, o, kit.SideConfig{}, kit.SideConfig{}, Env{}, Env{})
			if err != nil {
				b.Fatal(err)
			}
			ratios[j] = append(ratios[j], sr.Client.Kit.Throughput/p.Client.Throughput)
		}
	}
	b.ReportMetric(plain/float64(b.N), "plain-trans/s")
	for j, sc := range scripts {
		r := ratios[j]
		sort.Float64s(r)
		b.ReportMetric(r[len(r)/2], sc.name+"/plain")
		b.ReportMetric(r[0], sc.name+"-min")
		b.ReportMetric(r[len(r)-1], sc.name+"-max")
	}
}
