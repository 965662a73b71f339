package kit

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
	"gotest.tools/v3/assert"
)

// hookCall is one recorded hook call.
type hookCall struct {
	Hook  string // socket, close, sendmsg, recvmsg, recverr
	FD    int
	N     int // bytes the call moved (packet hooks)
	Flags int
	AI    AddrInfo
}

// recorder is a HookProvider whose hooks pass every call through to the
// plain syscall and record it, per worker, with the thread it ran on.
type recorder struct {
	mu      sync.Mutex
	calls   map[WorkerInfo][]hookCall
	wrongTh []string
	opened  func(fd int) error // extra work in the socket hook
}

func newRecorder() *recorder { return &recorder{calls: map[WorkerInfo][]hookCall{}} }

func (r *recorder) NewHooks(w WorkerInfo) (*Hooks, error) {
	tid := unix.Gettid()
	var calls []hookCall
	check := func(hook string) {
		if unix.Gettid() != tid {
			r.mu.Lock()
			r.wrongTh = append(r.wrongTh, hook)
			r.mu.Unlock()
		}
	}
	packet := func(name string, call func(int, *Msg, int) (int, error)) PacketHook {
		return func(fd int, m *Msg, flags int) (int, error) {
			check(name)
			n, err := call(fd, m, flags)
			calls = append(calls, hookCall{Hook: name, FD: fd, N: n, Flags: flags})
			return n, err
		}
	}
	return &Hooks{
		SocketOpened: func(fd int, ai *AddrInfo) error {
			check("socket")
			calls = append(calls, hookCall{Hook: "socket", FD: fd, AI: *ai})
			if r.opened != nil {
				return r.opened(fd)
			}
			return nil
		},
		SocketClosing: func(fd int, ai *AddrInfo) error {
			check("close")
			calls = append(calls, hookCall{Hook: "close", FD: fd, AI: *ai})
			return nil
		},
		SendMsg: packet("sendmsg", SendMsg),
		RecvMsg: packet("recvmsg", RecvMsg),
		RecvErr: packet("recverr", RecvMsg),
		Close: func() {
			r.mu.Lock()
			r.calls[w] = calls
			r.mu.Unlock()
		},
	}, nil
}

// summary compresses a call list: runs of the same hook on the same fd
// become one entry with a count.
func summary(calls []hookCall) []string {
	var out []string
	for i := 0; i < len(calls); {
		j := i
		for j < len(calls) && calls[j].Hook == calls[i].Hook && calls[j].FD == calls[i].FD {
			j++
		}
		out = append(out, calls[i].Hook)
		i = j
	}
	return out
}

func count(calls []hookCall, hook string) (n int) {
	for _, c := range calls {
		if c.Hook == hook {
			n++
		}
	}
	return n
}

func TestHookPointsTCPRR(t *testing.T) {
	o := localOpts(TCPRR)
	o.TestLength, o.Transactions = 0, 50
	o.RequestSize, o.ResponseSize = 10, 20
	cli, srv := newRecorder(), newRecorder()
	res, err := RunLocal(context.Background(), o, SideConfig{Hooks: srv}, SideConfig{Hooks: cli})
	assert.NilError(t, err)
	assert.DeepEqual(t, cli.wrongTh, []string(nil))
	assert.DeepEqual(t, srv.wrongTh, []string(nil))

	c := cli.calls[WorkerInfo{Side: ClientSide, Index: 0, Workers: 1}]
	s := srv.calls[WorkerInfo{Side: ServerSide, Index: 0, Workers: 1}]
	// Every packet hook call is counted: the client's 50 sendmsg and 50
	// recvmsg, the server's 50 and 51 (the client's EOF).
	assert.Equal(t, res.Client.Workers[0].PacketHookCalls, uint64(100))
	assert.Equal(t, res.Server.Workers[0].PacketHookCalls, uint64(101))

	// Client: socket, then request/response pairs on the connection, then close.
	assert.Equal(t, c[0].Hook, "socket")
	assert.Equal(t, c[len(c)-1].Hook, "close")
	assert.Equal(t, c[0].FD, c[len(c)-1].FD)
	wantAI := AddrInfo{Family: unix.AF_INET, SockType: unix.SOCK_STREAM, Protocol: unix.IPPROTO_TCP, Addr: c[0].AI.Addr}
	assert.Equal(t, c[0].AI, wantAI)
	assert.Assert(t, c[0].AI.Addr.Addr() == netip.MustParseAddr("127.0.0.1") && c[0].AI.Addr.Port() != 0)
	var want []string
	want = append(want, "socket")
	for i := 0; i < 50; i++ {
		want = append(want, "sendmsg", "recvmsg")
	}
	want = append(want, "close")
	if diff := cmp.Diff(want, summary(c)); diff != "" {
		t.Fatalf("client hook order (-want +got):\n%s", diff)
	}
	for _, call := range c[1 : len(c)-1] {
		assert.Equal(t, call.FD, c[0].FD, "packet hooks see the connection socket")
		assert.Equal(t, call.Flags, 0)
		if call.Hook == "sendmsg" {
			assert.Equal(t, call.N, 10)
		}
	}

	// Server: the listening socket's hooks around packet hooks on the
	// accepted connection; the last read is the client's EOF.
	assert.Equal(t, s[0].Hook, "socket")
	assert.Equal(t, s[len(s)-1].Hook, "close")
	listenFD := s[0].FD
	assert.Equal(t, s[len(s)-1].FD, listenFD)
	assert.Equal(t, s[0].AI.Addr.Port(), c[0].AI.Addr.Port(), "listener bound to the port the client connects to")
	assert.Equal(t, s[0].AI.Addr.Addr(), netip.IPv4Unspecified())
	assert.Equal(t, count(s, "sendmsg"), 50)
	assert.Equal(t, count(s, "recvmsg"), 51)
	last := s[len(s)-2]
	assert.Equal(t, last.Hook, "recvmsg")
	assert.Equal(t, last.N, 0, "EOF")
	for _, call := range s[1 : len(s)-1] {
		assert.Assert(t, call.FD != listenFD, "packet hooks see the connection, not the listener")
	}
}

func TestHookPointsSocketPerConnection(t *testing.T) {
	o := localOpts(TCPCRR)
	o.TestLength, o.Transactions = 0, 20
	cli := newRecorder()
	_, err := RunLocal(context.Background(), o, SideConfig{}, SideConfig{Hooks: cli})
	assert.NilError(t, err)
	c := cli.calls[WorkerInfo{Side: ClientSide, Index: 0, Workers: 1}]
	var want []string
	for i := 0; i < 20; i++ {
		want = append(want, "socket", "sendmsg", "recvmsg", "close")
	}
	if diff := cmp.Diff(want, summary(c)); diff != "" {
		t.Fatalf("tcp_crr client hook order (-want +got):\n%s", diff)
	}
}

func TestRecvErrHookSeesErrorQueue(t *testing.T) {
	for _, w := range []Workload{TCPRR, UDPRR} {
		t.Run(string(w), func(t *testing.T) {
			o := localOpts(w)
			o.TestLength, o.Transactions = 0, 20
			cli := newRecorder()
			cli.opened = func(fd int) error {
				// Software transmit timestamps land on the error queue.
				flags := unix.SOF_TIMESTAMPING_TX_SOFTWARE | unix.SOF_TIMESTAMPING_SOFTWARE
				return unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPING, flags)
			}
			_, err := RunLocal(context.Background(), o, SideConfig{}, SideConfig{Hooks: cli})
			assert.NilError(t, err)
			c := cli.calls[WorkerInfo{Side: ClientSide, Index: 0, Workers: 1}]
			var got int
			for _, call := range c {
				if call.Hook == "recverr" && call.N >= 0 {
					assert.Equal(t, call.Flags, unix.MSG_ERRQUEUE)
					got++
				}
			}
			assert.Assert(t, got > 0, "no error-queue read among %d calls", len(c))
		})
	}
}

func TestHookErrorStopsBothSides(t *testing.T) {
	o := localOpts(TCPRR)
	o.TestLength = 20 * time.Second
	boom := errors.New("boom")
	calls := 0
	failing := HookProviderFunc(func(w WorkerInfo) (*Hooks, error) {
		return &Hooks{SendMsg: func(fd int, m *Msg, flags int) (int, error) {
			if calls++; calls == 100 {
				return -1, boom
			}
			return SendMsg(fd, m, flags)
		}}, nil
	})
	start := time.Now()
	r, err := RunLocal(context.Background(), o, SideConfig{}, SideConfig{Hooks: failing})
	assert.Assert(t, time.Since(start) < 5*time.Second, "took %v", time.Since(start))
	assert.ErrorIs(t, err, boom)
	var he *HookError
	assert.Assert(t, errors.As(err, &he))
	assert.Equal(t, he.Hook, "client_sendmsg")
	assert.Assert(t, strings.Contains(err.Error(), "client_sendmsg: boom"), err.Error())
	assert.Assert(t, r.Server != nil)
}

func TestHookProviderErrorStopsRun(t *testing.T) {
	o := localOpts(UDPStream)
	bad := HookProviderFunc(func(w WorkerInfo) (*Hooks, error) { return nil, errors.New("no state for you") })
	_, err := RunLocal(context.Background(), o, SideConfig{Hooks: bad}, SideConfig{})
	assert.ErrorContains(t, err, "no state for you")
}

func TestStuckHookIsInterruptedAtTheEnd(t *testing.T) {
	o := localOpts(TCPRR)
	o.TestLength = 300 * time.Millisecond
	stuck := HookProviderFunc(func(w WorkerInfo) (*Hooks, error) {
		var stop atomic.Bool
		calls := 0
		return &Hooks{
			SendMsg: func(fd int, m *Msg, flags int) (int, error) {
				if calls++; calls == 10 {
					for !stop.Load() { // a hook that never returns by itself
					}
					return -1, errors.New("interrupted")
				}
				return SendMsg(fd, m, flags)
			},
			Interrupt: func() { stop.Store(true) },
		}, nil
	})
	start := time.Now()
	_, err := RunLocal(context.Background(), o, SideConfig{}, SideConfig{Hooks: stuck})
	assert.ErrorContains(t, err, "client_sendmsg: interrupted")
	// Interrupted StopGrace after the end; the process would end within 2 s of it.
	assert.Assert(t, time.Since(start) < o.TestLength+2*time.Second, "took %v", time.Since(start))
}

func TestUDPRRServerWithOnlyARecvHookAnswers(t *testing.T) {
	o := localOpts(UDPRR)
	o.TestLength, o.Transactions = 0, 50
	recvOnly := HookProviderFunc(func(w WorkerInfo) (*Hooks, error) {
		return &Hooks{RecvMsg: RecvMsg}, nil
	})
	r, err := RunLocal(context.Background(), o, SideConfig{Hooks: recvOnly}, SideConfig{})
	assert.NilError(t, err)
	assert.Equal(t, r.Server.Transactions, uint64(50))
}

// TestMarkIsSetOnDataSockets: --mark reaches every data socket before the
// socket hook sees it, on both sides; without CAP_NET_ADMIN the run is
// refused with the reason.
func TestMarkIsSetOnDataSockets(t *testing.T) {
	for _, w := range []Workload{TCPRR, UDPStream} {
		t.Run(string(w), func(t *testing.T) {
			o := localOpts(w)
			o.TestLength, o.Mark = 200*time.Millisecond, 0x2a
			if w == UDPStream {
				o.BufferSize = 1400
			}
			var mu sync.Mutex
			var marks []int
			readMark := func(fd int) error {
				m, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_MARK)
				mu.Lock()
				defer mu.Unlock()
				marks = append(marks, m)
				return err
			}
			srv, cli := newRecorder(), newRecorder()
			srv.opened, cli.opened = readMark, readMark
			_, err := RunLocal(context.Background(), o, SideConfig{Hooks: srv}, SideConfig{Hooks: cli})
			if os.Geteuid() != 0 {
				assert.ErrorContains(t, err, "--mark: setsockopt SO_MARK 42")
				return
			}
			assert.NilError(t, err)
			// One socket per side: the server's listener or bound socket,
			// the client's flow.
			assert.DeepEqual(t, marks, []int{0x2a, 0x2a})
		})
	}
}
