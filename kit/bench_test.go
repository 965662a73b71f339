package kit

import (
	"context"
	"runtime"
	"slices"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// benchRR runs b.N transactions of an rr workload over loopback, so that
// allocs/op is allocations per transaction (setup included, amortised).
func benchRR(b *testing.B, w Workload, flows, threads int) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0)) // a run raises it
	o := DefaultOptions(w)
	o.TestLength, o.Transactions = 0, int64(max(b.N, flows))
	o.NumFlows, o.NumThreads = flows, threads
	b.ReportAllocs()
	b.ResetTimer()
	r, err := RunLocal(context.Background(), o, SideConfig{}, SideConfig{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(r.Client.Throughput, "trans/s")
	if r.Client.Latency != nil {
		b.ReportMetric(float64(r.Client.Latency.Mean.Nanoseconds()), "ns/trans-latency")
	}
}

func BenchmarkTCPRR(b *testing.B)       { benchRR(b, TCPRR, 1, 1) }
func BenchmarkTCPRR8Flows(b *testing.B) { benchRR(b, TCPRR, 8, 2) }
func BenchmarkTCPCRR(b *testing.B)      { benchRR(b, TCPCRR, 1, 1) }
func BenchmarkUDPRR(b *testing.B)       { benchRR(b, UDPRR, 1, 1) }
func BenchmarkUDPRR8Flows(b *testing.B) { benchRR(b, UDPRR, 8, 2) }
func BenchmarkTCPStream(b *testing.B)   { benchStream(b, TCPStream, 1, 1) }
func BenchmarkUDPStream(b *testing.B)   { benchStream(b, UDPStream, 1, 1) }
func BenchmarkTCPStream8(b *testing.B)  { benchStream(b, TCPStream, 8, 2) }

// benchStream runs b.N short streams and reports the receiver's rate.
func benchStream(b *testing.B, w Workload, flows, threads int) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0)) // a run raises it
	o := DefaultOptions(w)
	o.TestLength, o.Interval = 300*time.Millisecond, 100*time.Millisecond
	o.NumFlows, o.NumThreads = flows, threads
	if w == UDPStream {
		o.BufferSize = 1400
	}
	var mbps float64
	for i := 0; i < b.N; i++ {
		r, err := RunLocal(context.Background(), o, SideConfig{}, SideConfig{})
		if err != nil {
			b.Fatal(err)
		}
		mbps += r.Client.ThroughputMbps
	}
	b.ReportMetric(mbps/float64(b.N), "Mbit/s")
}

// TestDataPathDoesNotAllocate runs each workload twice, the second time
// with ten times the traffic, and checks that the allocations did not
// grow with it: the unscripted data path allocates nothing per packet.
func TestDataPathDoesNotAllocate(t *testing.T) {
	for _, w := range []Workload{TCPRR, TCPCRR, UDPRR} {
		t.Run(string(w), func(t *testing.T) {
			small, big := allocsFor(t, w, 2000, 0), allocsFor(t, w, 20000, 0)
			// 18000 more transactions; a single allocation each would add 18000.
			if extra := int64(big) - int64(small); extra > 1500 {
				t.Errorf("%d transactions allocated %d times, %d allocated %d: the data path allocates per transaction", 2000, small, 20000, big)
			}
		})
	}

	for _, w := range []Workload{TCPStream, UDPStream} {
		t.Run(string(w), func(t *testing.T) {
			// Tens of thousands of writes a second: one allocation each would show.
			small, big := allocsFor(t, w, 0, 200*time.Millisecond), allocsFor(t, w, 0, 2*time.Second)
			if extra := int64(big) - int64(small); extra > 1500 {
				t.Errorf("a 200ms stream allocated %d times, a 2s stream %d: the data path allocates per write", small, big)
			}
		})
	}
}

// allocsFor counts the allocations of a local run of n transactions, or
// of length d.
func allocsFor(t *testing.T, w Workload, n int64, d time.Duration) uint64 {
	t.Helper()
	o := DefaultOptions(w)
	o.TestLength, o.Transactions = d, n
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	if _, err := RunLocal(context.Background(), o, SideConfig{}, SideConfig{}); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	return after.Mallocs - before.Mallocs
}

// BenchmarkTCPRRGoHookOverhead runs tcp_rr over loopback plain and with
// pass-through hooks written in Go on both sides, alternately, and
// reports each hooked run's throughput as a fraction of the plain one of
// its round (median and range of the rounds): what a hooked data path
// costs before any Lua. "msg" hooks call SendMsg/RecvMsg (recvmsg(2) with
// a control buffer, as a Lua hook's recvmsg does); "rw" hooks call
// write(2)/read(2), as the plain path does, so that the two tell the
// syscalls' share from the hook mechanism's.
func BenchmarkTCPRRGoHookOverhead(b *testing.B) {
	rw := &Hooks{
		SendMsg: func(fd int, m *Msg, _ int) (int, error) { return errnoResult(sysWrite(fd, m.Buf)) },
		RecvMsg: func(fd int, m *Msg, _ int) (int, error) { return errnoResult(sysRead(fd, m.Buf)) },
	}
	msg := &Hooks{SendMsg: SendMsg, RecvMsg: RecvMsg}
	for _, c := range []struct {
		name           string
		flows, threads int
	}{{"1x1", 1, 1}, {"8x2", 8, 2}} {
		b.Run(c.name, func(b *testing.B) {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0)) // a run raises it
			o := DefaultOptions(TCPRR)
			o.TestLength, o.Transactions = 0, 40000
			o.NumFlows, o.NumThreads = c.flows, c.threads
			variants := []struct {
				name  string
				hooks *Hooks
			}{{"msg", msg}, {"rw", rw}}
			ratios := make([][]float64, len(variants))
			for i := 0; i < b.N; i++ {
				p, err := RunLocal(context.Background(), o, SideConfig{}, SideConfig{})
				if err != nil {
					b.Fatal(err)
				}
				for j, v := range variants {
					hooks := HookProviderFunc(func(WorkerInfo) (*Hooks, error) { h := *v.hooks; return &h, nil })
					h, err := RunLocal(context.Background(), o, SideConfig{Hooks: hooks}, SideConfig{Hooks: hooks})
					if err != nil {
						b.Fatal(err)
					}
					ratios[j] = append(ratios[j], h.Client.Throughput/p.Client.Throughput)
				}
			}
			for j, v := range variants {
				r := ratios[j]
				slices.Sort(r)
				b.ReportMetric(r[len(r)/2], v.name+"/plain")
				b.ReportMetric(r[0], v.name+"-min")
				b.ReportMetric(r[len(r)-1], v.name+"-max")
			}
		})
	}
}

// errnoResult is a raw call's result as a hook returns it.
func errnoResult(n int, e unix.Errno) (int, error) {
	if e != 0 {
		return -1, e
	}
	return n, nil
}
