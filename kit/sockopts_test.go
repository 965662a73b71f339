package kit

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
	"gotest.tools/v3/assert"
)

// sockopts is what getsockopt reads back from a data socket.
type sockopts struct {
	NoDelay, Debug, FreeBind, TxDelayUS int
	Linger                              bool // SO_LINGER on with 0 s
}

func readSockopts(fd int) sockopts {
	get := func(level, opt int) int {
		v, err := unix.GetsockoptInt(fd, level, opt)
		if err != nil {
			return -1
		}
		return v
	}
	l, err := unix.GetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER)
	return sockopts{
		NoDelay:   get(unix.IPPROTO_TCP, unix.TCP_NODELAY),
		Debug:     get(unix.SOL_SOCKET, unix.SO_DEBUG),
		FreeBind:  get(unix.SOL_IP, unix.IP_FREEBIND),
		TxDelayUS: get(unix.IPPROTO_TCP, tcpTxDelay),
		Linger:    err == nil && l.Onoff != 0 && l.Linger == 0,
	}
}

// sockoptHooks reads the options of every data socket that moves data,
// per side, with pass-through packet hooks; it also keeps the local
// ports of the client's sockets.
type sockoptHooks struct {
	mu    sync.Mutex
	seen  map[Side]map[sockopts]int // options read → sockets
	ports map[[2]uint16]bool        // the client's connections: local and remote port
}

func newSockoptHooks() *sockoptHooks {
	return &sockoptHooks{seen: map[Side]map[sockopts]int{ClientSide: {}, ServerSide: {}}, ports: map[[2]uint16]bool{}}
}

func (r *sockoptHooks) provider(side Side) HookProvider {
	return HookProviderFunc(func(WorkerInfo) (*Hooks, error) {
		done := map[int]bool{}
		look := func(fd int) {
			if done[fd] {
				return
			}
			done[fd] = true
			o := readSockopts(fd)
			r.mu.Lock()
			defer r.mu.Unlock()
			r.seen[side][o]++
			if side == ClientSide {
				local, err1 := unix.Getsockname(fd)
				remote, err2 := unix.Getpeername(fd)
				if err1 == nil && err2 == nil {
					r.ports[[2]uint16{addrPortOf(local).Port(), addrPortOf(remote).Port()}] = true
				}
			}
		}
		return &Hooks{
			SendMsg: func(fd int, m *Msg, flags int) (int, error) { look(fd); return SendMsg(fd, m, flags) },
			RecvMsg: func(fd int, m *Msg, flags int) (int, error) { look(fd); return RecvMsg(fd, m, flags) },
			// A crr client's socket is closed and its number reused.
			SocketClosing: func(fd int, _ *AddrInfo) error { delete(done, fd); return nil },
		}, nil
	})
}

// only is the one set of options the side's sockets had.
func (r *sockoptHooks) only(t *testing.T, side Side) sockopts {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	assert.Equal(t, len(r.seen[side]), 1, "the %s's sockets differ: %v", side, r.seen[side])
	for o := range r.seen[side] {
		return o
	}
	return sockopts{}
}

func runHooked(t *testing.T, o Options, r *sockoptHooks) *LocalResult {
	t.Helper()
	return runConfigs(t, o, SideConfig{Hooks: r.provider(ServerSide)}, SideConfig{Hooks: r.provider(ClientSide)})
}

// runConfigs runs both sides of o in this process with their own side
// configurations (hooks), within 30 s, and fails the test on error.
func runConfigs(t *testing.T, o Options, server, client SideConfig) *LocalResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := RunLocal(ctx, o, server, client)
	assert.NilError(t, err)
	return res
}

// TestSocketOptionsReadBack: --no-delay, -d, --freebind and -t reach
// every data socket of both sides, as getsockopt reads them while the
// socket moves data; a client's sockets have SO_LINGER 0 unless
// --time-wait, a server's never. Without the flags the options are off.
func TestSocketOptionsReadBack(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("SO_DEBUG and TCP_TX_DELAY need CAP_NET_ADMIN: run as root")
	}
	for _, w := range []Workload{TCPRR, TCPCRR, TCPStream} {
		for _, set := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/flags=%v", w, set), func(t *testing.T) {
				t.Parallel()
				o := localOpts(w)
				o.TestLength = 300 * time.Millisecond
				var want sockopts
				if set {
					o.NoDelay, o.Debug, o.FreeBind = true, true, true
					o.TCPTxDelay = 70 * time.Microsecond
					o.TimeWait = true
					want = sockopts{NoDelay: 1, Debug: 1, FreeBind: 1, TxDelayUS: 70}
				}
				r := newSockoptHooks()
				runHooked(t, o, r)
				server := want
				client := want
				client.Linger = !set // SO_LINGER 0 unless --time-wait
				assert.DeepEqual(t, r.only(t, ClientSide), client)
				assert.DeepEqual(t, r.only(t, ServerSide), server)
			})
		}
	}
}

// TestTimeWait: with --time-wait a client's closed data sockets wait in
// TIME_WAIT; without it (SO_LINGER 0) none does.
func TestTimeWait(t *testing.T) {
	for _, w := range []Workload{TCPRR, TCPCRR} {
		for _, timeWait := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/time-wait=%v", w, timeWait), func(t *testing.T) {
				t.Parallel()
				o := localOpts(w)
				o.TestLength = 200 * time.Millisecond
				o.NumFlows = 2
				o.TimeWait = timeWait
				// A connection the kernel still holds in TIME_WAIT from an
				// earlier test may be taken up again (tcp_tw_reuse, on
				// loopback): count only those that were not waiting before.
				before := timeWaitPorts(t)
				r := newSockoptHooks()
				runHooked(t, o, r)
				waiting := timeWaitPorts(t)
				var n int
				for p := range r.ports {
					if waiting[p] && !before[p] {
						n++
					}
				}
				if timeWait {
					assert.Assert(t, n >= 2 && len(r.ports) >= 2, "%d of the client's %d ports in TIME_WAIT", n, len(r.ports))
				} else {
					assert.Equal(t, n, 0, "%d of the client's %d ports in TIME_WAIT", n, len(r.ports))
				}
			})
		}
	}
}

// timeWaitPorts are the local and remote ports of this namespace's TCP
// sockets in TIME_WAIT, from /proc/net/tcp and tcp6.
func timeWaitPorts(t *testing.T) map[[2]uint16]bool {
	t.Helper()
	ports := map[[2]uint16]bool{}
	for _, name := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) < 4 || fields[3] != "06" { // TCP_TIME_WAIT
				continue
			}
			local, err1 := hexPort(fields[1])
			remote, err2 := hexPort(fields[2])
			if err1 == nil && err2 == nil {
				ports[[2]uint16{local, remote}] = true
			}
		}
		f.Close()
	}
	return ports
}

// hexPort is the port of an address as /proc/net/tcp shows it
// (0100007F:1F90).
func hexPort(addr string) (uint16, error) {
	_, port, ok := strings.Cut(addr, ":")
	if !ok {
		return 0, fmt.Errorf("%q has no port", addr)
	}
	p, err := strconv.ParseUint(port, 16, 16)
	return uint16(p), err
}

// TestParseProcStatSystemTime: system + irq + softirq of the aggregate
// cpu line, in USER_HZ ticks.
func TestParseProcStatSystemTime(t *testing.T) {
	const stat = "cpu  4705 356 584 3699 23 23 100 0 0 0\ncpu0 1393 280 290 1800 23 0 50 0 0 0\nintr 1462898\n"
	got, err := parseProcStatSystemTime(strings.NewReader(stat))
	assert.NilError(t, err)
	assert.Equal(t, got, (584+23+100)*clockTick)
	_, err = parseProcStatSystemTime(strings.NewReader("cpu 1 2 3\n"))
	assert.ErrorContains(t, err, "has 4 fields")
	_, err = parseProcStatSystemTime(strings.NewReader("intr 5\n"))
	assert.ErrorContains(t, err, "no cpu line")
}

// TestStimeUseProc: with -S a side's system time is the machine's, as
// /proc/stat read around the run bounds it: it counts the system time of
// another process (dd moving single bytes) beside the run's own, which
// getrusage leaves out. Per-worker samples share it among the workers.
func TestStimeUseProc(t *testing.T) {
	dd := exec.Command("dd", "if=/dev/zero", "of=/dev/null", "bs=1", "count=1000000000")
	assert.NilError(t, dd.Start())
	t.Cleanup(func() { dd.Process.Kill(); dd.Wait() })
	o := localOpts(TCPRR)
	o.TestLength = time.Second
	o.StimeUseProc = true
	o.NumFlows, o.NumThreads = 2, 2
	before, err := procStatSystemTime()
	assert.NilError(t, err)
	own := getRusage(0).Stime
	r := runLocal(t, o)
	own = getRusage(0).Stime - own
	after, err := procStatSystemTime()
	assert.NilError(t, err)
	for _, res := range []*Result{r.Client, r.Server} {
		st := res.RusageEnd.Stime - res.RusageStart.Stime
		assert.Assert(t, st <= after-before, "%s: system time %v, more than /proc/stat's %v", res.Side, st, after-before)
		assert.Assert(t, st > own+100*time.Millisecond, "%s: system time %v, this process's own %v: dd's does not show", res.Side, st, own)
		last := res.Samples[len(res.Samples)-1]
		assert.Assert(t, last.Stime <= res.RusageEnd.Stime, "%s: a worker's share %v, the side's %v", res.Side, last.Stime, res.RusageEnd.Stime)
	}
}

// TestWaitStart: a client with --wait-start opens its flows that much
// later, and its server, whose peer timeout is shorter than the wait,
// keeps waiting for it (heartbeats go on during the wait).
func TestWaitStart(t *testing.T) {
	o := localOpts(TCPRR)
	o.WaitStart = 600 * time.Millisecond
	o.TestLength = 200 * time.Millisecond
	begin := time.Now()
	short := SideConfig{PeerTimeout: 200 * time.Millisecond}
	r := runConfigs(t, o, short, short)
	waited := r.Client.TimeStart.Sub(begin)
	assert.Assert(t, waited >= o.WaitStart, "the test started %v after the call", waited)
	assert.Assert(t, r.Client.Transactions > 0)
}

// TestStreamCork: tcp_stream's writes carry MSG_MORE, as neper's do,
// unless --no-cork; a send hook sees the flags the write would have.
func TestStreamCork(t *testing.T) {
	for _, noCork := range []bool{false, true} {
		t.Run(fmt.Sprintf("no-cork=%v", noCork), func(t *testing.T) {
			t.Parallel()
			o := localOpts(TCPStream)
			o.TestLength = 200 * time.Millisecond
			o.NoCork = noCork
			var mu sync.Mutex
			flags := map[int]int{} // flags → calls
			hooks := HookProviderFunc(func(WorkerInfo) (*Hooks, error) {
				return &Hooks{SendMsg: func(fd int, m *Msg, f int) (int, error) {
					mu.Lock()
					flags[f]++
					mu.Unlock()
					return SendMsg(fd, m, f)
				}}, nil
			})
			r := runConfigs(t, o, SideConfig{}, SideConfig{Hooks: hooks})
			assert.Assert(t, r.Server.BytesRead > 0)
			want := unix.MSG_MORE
			if noCork {
				want = 0
			}
			assert.Equal(t, len(flags), 1, "flags seen: %v", flags)
			assert.Assert(t, flags[want] > 0, "flags seen: %v, want %#x", flags, want)
		})
	}
}

// TestSourcePort: with --source-port P a client's flow i connects from
// port P + i, on every workload.
func TestSourcePort(t *testing.T) {
	for _, w := range []Workload{TCPRR, TCPCRR, TCPStream, UDPRR, UDPStream} {
		t.Run(string(w), func(t *testing.T) {
			o := localOpts(w)
			o.TestLength = 200 * time.Millisecond
			o.NumFlows, o.NumThreads = 3, 1
			o.SourcePort = freePortRun(t, 3, w.IsUDP())
			var mu sync.Mutex
			seen := map[int]bool{}
			look := func(fd int) {
				if sa, err := unix.Getsockname(fd); err == nil {
					mu.Lock()
					seen[int(addrPortOf(sa).Port())] = true
					mu.Unlock()
				}
			}
			hooks := HookProviderFunc(func(WorkerInfo) (*Hooks, error) {
				return &Hooks{SendMsg: func(fd int, m *Msg, f int) (int, error) { look(fd); return SendMsg(fd, m, f) }}, nil
			})
			runConfigs(t, o, SideConfig{}, SideConfig{Hooks: hooks})
			want := map[int]bool{o.SourcePort: true, o.SourcePort + 1: true, o.SourcePort + 2: true}
			assert.DeepEqual(t, seen, want)
		})
	}
}

// freePortRun finds n consecutive ports that TCP (or UDP) can bind now.
func freePortRun(t *testing.T, n int, udp bool) int {
	t.Helper()
	sotype := unix.SOCK_STREAM
	if udp {
		sotype = unix.SOCK_DGRAM
	}
	for base := 40000 + int(time.Now().UnixNano()%5000); base < 60000; base += n {
		free := true
		for p := base; p < base+n && free; p++ {
			_, err := probePort(sotype, netip.AddrPortFrom(netip.IPv4Unspecified(), uint16(p)))
			free = err == nil
		}
		if free {
			return base
		}
	}
	t.Fatal("no run of free ports")
	return 0
}

// TestNumPorts: with --num-ports N the server listens on N consecutive
// ports and the client's flows take them in turn (flow i: port i mod N).
func TestNumPorts(t *testing.T) {
	for _, w := range []Workload{TCPRR, TCPCRR, TCPStream} {
		t.Run(string(w), func(t *testing.T) {
			t.Parallel()
			o := localOpts(w)
			o.TestLength = 200 * time.Millisecond
			o.NumFlows, o.NumThreads, o.NumPorts = 6, 2, 3
			var mu sync.Mutex
			flows := map[int]map[int]bool{} // server port → client ports
			hooks := HookProviderFunc(func(WorkerInfo) (*Hooks, error) {
				return &Hooks{SendMsg: func(fd int, m *Msg, f int) (int, error) {
					local, err1 := unix.Getsockname(fd)
					peer, err2 := unix.Getpeername(fd)
					if err1 == nil && err2 == nil {
						mu.Lock()
						p := int(addrPortOf(peer).Port())
						if flows[p] == nil {
							flows[p] = map[int]bool{}
						}
						flows[p][int(addrPortOf(local).Port())] = true
						mu.Unlock()
					}
					return SendMsg(fd, m, f)
				}}, nil
			})
			r := runConfigs(t, o, SideConfig{}, SideConfig{Hooks: hooks})
			base := r.Client.Options.DataPort
			assert.Equal(t, len(flows), 3, "server ports used: %v", flows)
			for k := 0; k < 3; k++ {
				conns := flows[base+k]
				assert.Assert(t, len(conns) > 0, "no flow on port %d (%v)", base+k, flows)
				if w != TCPCRR { // a crr flow connects again and again
					assert.Equal(t, len(conns), 2, "port %d: %v", base+k, conns)
				}
			}
		})
	}
}

// TestSkipRxCopy: with --skip-rx-copy a tcp_stream receiver counts every
// byte the sender wrote, yet none reaches its buffer (MSG_TRUNC); a recv
// hook is handed the flag. Without it the bytes arrive.
func TestSkipRxCopy(t *testing.T) {
	for _, skip := range []bool{false, true} {
		t.Run(fmt.Sprintf("skip=%v", skip), func(t *testing.T) {
			t.Parallel()
			o := localOpts(TCPStream)
			o.TestLength = 200 * time.Millisecond
			o.SkipRxCopy = skip
			var mu sync.Mutex
			var copied, calls int
			flags := map[int]bool{}
			hooks := HookProviderFunc(func(WorkerInfo) (*Hooks, error) {
				return &Hooks{RecvMsg: func(fd int, m *Msg, f int) (int, error) {
					clear(m.Buf)
					n, err := RecvMsg(fd, m, f)
					mu.Lock()
					defer mu.Unlock()
					flags[f] = true
					if n > 0 {
						calls++
						if slices.ContainsFunc(m.Buf[:n], func(b byte) bool { return b != 0 }) {
							copied++
						}
					}
					return n, err
				}}, nil
			})
			r := runConfigs(t, o, SideConfig{Hooks: hooks}, SideConfig{})
			assert.Assert(t, r.Server.BytesRead > 0)
			assert.Equal(t, r.Server.BytesRead, r.Client.BytesWritten)
			if skip {
				assert.DeepEqual(t, flags, map[int]bool{unix.MSG_TRUNC: true})
				assert.Equal(t, copied, 0, "%d of %d reads copied bytes", copied, calls)
			} else {
				assert.DeepEqual(t, flags, map[int]bool{0: true})
				assert.Equal(t, copied, calls)
			}
		})
	}
}

// TestZeroCopy: with -Z a stream sender's every send is completed by the
// kernel by the end of the run, as its error queue reports; over loopback
// the kernel copies them all after all (SO_EE_CODE_ZEROCOPY_COPIED). A
// tcp_stream receiver counts every byte.
func TestZeroCopy(t *testing.T) {
	for _, w := range []Workload{TCPStream, UDPStream} {
		t.Run(string(w), func(t *testing.T) {
			o := localOpts(w)
			o.TestLength = 300 * time.Millisecond
			o.ZeroCopy = true
			o.NumFlows = 2
			r := runLocal(t, o)
			c := r.Client
			assert.Assert(t, c.ZerocopySends > 0)
			assert.Equal(t, c.ZerocopyCompletions, c.ZerocopySends)
			assert.Equal(t, c.ZerocopyCopied, c.ZerocopyCompletions, "loopback delivers a copy")
			if w == TCPStream {
				assert.Equal(t, r.Server.BytesRead, c.BytesWritten)
			}
			var out strings.Builder
			assert.NilError(t, WriteKeyValues(&out, c))
			kv := reportTestParseKV(t, out.String())
			assert.Equal(t, kv["zerocopy_sends"], strconv.FormatUint(c.ZerocopySends, 10))
			assert.Equal(t, kv["zerocopy_completions"], strconv.FormatUint(c.ZerocopyCompletions, 10))
		})
	}
}

// TestZerocopyCompletions: the notifications of an error-queue read,
// IPv4 and IPv6, a range wrapping around 2^32, copied or not; other
// errors are not completions.
func TestZerocopyCompletions(t *testing.T) {
	ee := func(level, typ int32, origin, code uint8, lo, hi uint32) []byte {
		data := make([]byte, 16)
		data[4], data[6] = origin, code
		binary.NativeEndian.PutUint32(data[8:], lo)
		binary.NativeEndian.PutUint32(data[12:], hi)
		b := make([]byte, unix.CmsgSpace(len(data)))
		h := (*unix.Cmsghdr)(unsafe.Pointer(&b[0]))
		h.Level, h.Type = level, typ
		h.SetLen(unix.CmsgLen(len(data)))
		copy(b[unix.CmsgLen(0):], data)
		return b
	}
	for _, tt := range []struct {
		name           string
		control        []byte
		done, copiedTo uint64
	}{
		{"v4 range", ee(unix.SOL_IP, unix.IP_RECVERR, soEEOriginZerocopy, 0, 3, 9), 7, 0},
		{"v6 copied", ee(unix.SOL_IPV6, unix.IPV6_RECVERR, soEEOriginZerocopy, soEECodeZerocopyCopied, 0, 0), 1, 1},
		{"wraps", ee(unix.SOL_IP, unix.IP_RECVERR, soEEOriginZerocopy, 0, math.MaxUint32, 1), 3, 0},
		{"an ICMP error", ee(unix.SOL_IP, unix.IP_RECVERR, 2, 0, 0, 0), 0, 0},
		{"two", append(ee(unix.SOL_IP, unix.IP_RECVERR, soEEOriginZerocopy, 0, 0, 1), ee(unix.SOL_IP, unix.IP_RECVERR, soEEOriginZerocopy, soEECodeZerocopyCopied, 2, 2)...), 3, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			done, copied := zerocopyCompletions(tt.control)
			assert.Equal(t, done, tt.done)
			assert.Equal(t, copied, tt.copiedTo)
		})
	}
}

// TestRxZeroCopy: with -z a tcp_stream receiver counts every byte the
// sender wrote, over loopback (which hands over pages that rarely fill
// whole aligned pages, so most come through the fallbacks), and leaves
// no mapping behind (the sockets close: the leak check at exit).
func TestRxZeroCopy(t *testing.T) {
	o := localOpts(TCPStream)
	o.TestLength = 300 * time.Millisecond
	o.RxZeroCopy = true
	o.NumFlows = 2
	r := runLocal(t, o)
	assert.Assert(t, r.Server.BytesRead > 0)
	assert.Equal(t, r.Server.BytesRead, r.Client.BytesWritten)
	assert.Assert(t, r.Server.RxZerocopyBytes <= r.Server.BytesRead)
	t.Logf("%d of %d bytes mapped", r.Server.RxZerocopyBytes, r.Server.BytesRead)
	maps, err := os.ReadFile("/proc/self/maps")
	assert.NilError(t, err)
	assert.Assert(t, !strings.Contains(string(maps), "socket:["), "a socket is still mapped:\n%s", maps)
}

// TestNoBurst: with --noburst N a tcp_rr client sends one request every
// N in all, whatever its flows and workers: 2 ms slots over 1 s make at
// most about 500 transactions, where the same run unpaced makes tens of
// thousands; the workers take their slots in turn.
func TestNoBurst(t *testing.T) {
	o := localOpts(TCPRR)
	o.TestLength = time.Second
	o.NumFlows, o.NumThreads = 4, 2
	o.NoBurst = 2 * time.Millisecond
	r := runLocal(t, o)
	n := r.Client.Transactions
	assert.Assert(t, n >= 350 && n <= 505, "%d transactions in 1 s at one per 2 ms", n)
	for _, wf := range r.Client.Workers {
		share := float64(wf.Transactions) / float64(n)
		assert.Assert(t, share > 0.4 && share < 0.6, "worker %d made %d of %d", wf.Worker, wf.Transactions, n)
	}
}

// TestPinNUMA: with -N every worker runs on the CPUs of NUMA node i
// modulo the nodes (sched_getaffinity from a hook on the worker's
// thread); with -U on one CPU each.
func TestPinNUMA(t *testing.T) {
	nodes, err := numaNodes()
	assert.NilError(t, err)
	for _, numa := range []bool{true, false} {
		t.Run(fmt.Sprintf("numa=%v", numa), func(t *testing.T) {
			o := localOpts(TCPRR)
			o.TestLength = 100 * time.Millisecond
			o.NumFlows, o.NumThreads = 2, 2
			o.PinNUMA, o.PinCPU = numa, !numa
			var mu sync.Mutex
			got := map[int][]int{} // worker → CPUs
			hooks := HookProviderFunc(func(info WorkerInfo) (*Hooks, error) {
				return &Hooks{SocketOpened: func(int, *AddrInfo) error {
					var set unix.CPUSet
					if err := unix.SchedGetaffinity(0, &set); err != nil {
						return err
					}
					var cpus []int
					for c := 0; c < 1024; c++ {
						if set.IsSet(c) {
							cpus = append(cpus, c)
						}
					}
					mu.Lock()
					got[info.Index] = cpus
					mu.Unlock()
					return nil
				}}, nil
			})
			runConfigs(t, o, SideConfig{}, SideConfig{Hooks: hooks})
			assert.Equal(t, len(got), 2)
			for i, cpus := range got {
				if numa {
					assert.DeepEqual(t, cpus, nodes[i%len(nodes)])
				} else {
					assert.Equal(t, len(cpus), 1, "worker %d on %v", i, cpus)
				}
			}
		})
	}
}

func TestParseCPUList(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want []int
		err  bool
	}{
		{"0-1\n", []int{0, 1}, false},
		{"0,2-4,7", []int{0, 2, 3, 4, 7}, false},
		{"", nil, false},
		{"3-1", nil, true},
		{"a", nil, true},
	} {
		got, err := parseCPUList(tt.in)
		assert.Equal(t, err != nil, tt.err, "%q: %v", tt.in, err)
		assert.DeepEqual(t, got, tt.want)
	}
}

// TestSplitBidir: with --split-bidir a tcp_stream goes both ways over a
// socket a direction: the client writes on its odd flows and reads on
// its even ones; the server reads every byte the client wrote and sends
// what the client reads.
func TestSplitBidir(t *testing.T) {
	o := localOpts(TCPStream)
	o.TestLength = 300 * time.Millisecond
	o.SplitBidir, o.EnableRead, o.EnableWrite = true, true, true
	o.NumFlows = 4
	var mu sync.Mutex
	dirs := map[int]string{} // client fd → "r", "w" or "rw"
	note := func(fd int, d string) {
		mu.Lock()
		defer mu.Unlock()
		if dirs[fd] != d && dirs[fd] != "" {
			dirs[fd] = "rw"
			return
		}
		dirs[fd] = d
	}
	hooks := HookProviderFunc(func(WorkerInfo) (*Hooks, error) {
		return &Hooks{
			SendMsg: func(fd int, m *Msg, f int) (int, error) { note(fd, "w"); return SendMsg(fd, m, f) },
			RecvMsg: func(fd int, m *Msg, f int) (int, error) { note(fd, "r"); return RecvMsg(fd, m, f) },
		}, nil
	})
	r := runConfigs(t, o, SideConfig{}, SideConfig{Hooks: hooks})
	c, s := r.Client, r.Server
	assert.Assert(t, c.BytesWritten > 0 && c.BytesRead > 0, "client wrote %d, read %d", c.BytesWritten, c.BytesRead)
	assert.Equal(t, s.BytesRead, c.BytesWritten)
	assert.Assert(t, s.BytesWritten >= c.BytesRead)
	var reads, writes int
	for fd, d := range dirs {
		switch d {
		case "r":
			reads++
		case "w":
			writes++
		default:
			t.Errorf("client socket %d moved data both ways", fd)
		}
	}
	assert.Equal(t, reads, 2)
	assert.Equal(t, writes, 2)
}
