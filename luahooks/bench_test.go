package luahooks

import (
	"context"
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

// hookOnSocket builds a worker's recvmsg hook from src and a UDP socket
// pair with one datagram that the hook peeks at, again and again.
func hookOnSocket(b *testing.B, src string, withContext bool) (kit.PacketHook, *kit.Msg, int) {
	b.Helper()
	s, err := LoadString("bench.lua", src)
	if err != nil {
		b.Fatal(err)
	}
	e := newEngine(s, kit.ClientSide, Env{})
	b.Cleanup(e.L.Close)
	e.L.Push(e.L.NewFunctionFromProto(s.proto))
	if err := e.L.PCall(0, 0, nil); err != nil {
		b.Fatal(err)
	}
	h, err := e.NewHooks(kit.WorkerInfo{Side: kit.ClientSide, Workers: 1})
	if err != nil {
		b.Fatal(err)
	}
	if !withContext {
		e.workers[0].L.RemoveContext()
	}
	b.Cleanup(e.closeWorkers)
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
// the cost of the Lua hook. "no-stop-check" leaves out the per-instruction
// check that stops a stuck hook, to show what that check costs.
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
	for _, ctx := range []bool{true, false} {
		name := "lua"
		if !ctx {
			name = "lua-no-stop-check"
		}
		b.Run(name, func(b *testing.B) {
			h, m, fd := hookOnSocket(b, src, ctx)
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

// BenchmarkTCPRRHookOverhead runs tcp_rr over loopback without a script
// and with pass-through sendmsg/recvmsg hooks on both sides, alternately,
// and reports the scripted run's throughput as a fraction of the plain
// one (median of the rounds): 1 means the hooks cost nothing.
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
	s, err := LoadString("passthrough.lua", passThrough)
	if err != nil {
		b.Fatal(err)
	}
	o := kit.DefaultOptions(kit.TCPRR)
	o.TestLength, o.Transactions = 0, 40000
	o.NumFlows, o.NumThreads = flows, threads
	var ratios []float64
	var plain, scripted float64
	for i := 0; i < b.N; i++ {
		p, err := kit.RunLocal(context.Background(), o, kit.SideConfig{}, kit.SideConfig{})
		if err != nil {
			b.Fatal(err)
		}
		sr, err := RunLocal(context.Background(), s, o, kit.SideConfig{}, kit.SideConfig{}, Env{}, Env{})
		if err != nil {
			b.Fatal(err)
		}
		plain += p.Client.Throughput
		scripted += sr.Client.Kit.Throughput
		ratios = append(ratios, sr.Client.Kit.Throughput/p.Client.Throughput)
	}
	sort.Float64s(ratios)
	b.ReportMetric(plain/float64(b.N), "plain-trans/s")
	b.ReportMetric(scripted/float64(b.N), "scripted-trans/s")
	b.ReportMetric(ratios[len(ratios)/2], "scripted/plain")
}
