package kit

import (
	"context"
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
	"gotest.tools/v3/assert"
)

// udpRROpts are the options of an exact udp_rr run of n transactions,
// sampled once a second, as the CLI's default: the resend timer must not
// wait for a sample.
func udpRROpts(n int64) Options {
	o := localOpts(UDPRR)
	o.TestLength, o.Transactions = 0, n
	o.Interval = time.Second
	return o
}

// serverRecvHook is a provider of server hook sets whose recvmsg calls h
// after the plain call read a datagram, with its arrival time and index
// (0 for the first).
func serverRecvHook(h func(i int, at time.Time) error) HookProvider {
	return HookProviderFunc(func(WorkerInfo) (*Hooks, error) {
		i := 0
		return &Hooks{RecvMsg: func(fd int, m *Msg, flags int) (int, error) {
			n, err := RecvMsg(fd, m, flags)
			if err != nil {
				return n, err
			}
			i++
			if err := h(i-1, time.Now()); err != nil {
				return -1, err
			}
			return n, nil
		}}, nil
	})
}

// TestUDPRRResendsALostRequest: the server reads and drops the first
// request; the client resends it after --udp-timeout (200 ms), not at
// its next sample (-I 1), and the run completes its transactions.
func TestUDPRRResendsALostRequest(t *testing.T) {
	const n = 20
	var arrivals []time.Time
	drop := serverRecvHook(func(i int, at time.Time) error {
		arrivals = append(arrivals, at)
		if i == 0 {
			return unix.EAGAIN // read and dropped
		}
		return nil
	})
	r, err := runWithHook(t, udpRROpts(n), ServerSide, drop)
	assert.NilError(t, err)
	assert.Equal(t, len(arrivals), n+1, "requests the server read")
	resentAfter := arrivals[1].Sub(arrivals[0])
	assert.Assert(t, resentAfter >= 150*time.Millisecond && resentAfter <= 600*time.Millisecond, "resent after %v", resentAfter)
	assert.Equal(t, r.Client.Transactions, uint64(n))
	assert.Equal(t, r.Client.Latency.Count, uint64(n))
	assert.Equal(t, r.Server.Transactions, uint64(n), "responses")
}

// TestUDPRRTimeoutOption: --udp-timeout sets the resend delay.
func TestUDPRRTimeoutOption(t *testing.T) {
	var arrivals []time.Time
	drop := serverRecvHook(func(i int, at time.Time) error {
		arrivals = append(arrivals, at)
		if i == 0 {
			return unix.EAGAIN
		}
		return nil
	})
	o := udpRROpts(5)
	o.UDPTimeout = 900 * time.Millisecond
	_, err := runWithHook(t, o, ServerSide, drop)
	assert.NilError(t, err)
	assert.Equal(t, len(arrivals), 6)
	resentAfter := arrivals[1].Sub(arrivals[0])
	assert.Assert(t, resentAfter >= 850*time.Millisecond && resentAfter <= 2*time.Second, "resent after %v", resentAfter)
}

// udpRRCounts are what a udp_rr run with a fault must count, exactly.
type udpRRCounts struct {
	Transactions, Latencies                    uint64 // client
	Resends, Duplicates, Stale                 uint64 // client's, and the server's copy
	RequestsSent, ResponsesRead                uint64 // client's datagrams
	ServerRequestsRead, ServerResponsesWritten uint64 // server's transactions are its responses
}

// faultyServer is a server hook set that passes each call through except
// where drop, delay or duplicate say (by the 0-based index of the call).
type faultyServer struct {
	drop      int           // this request is read and dropped (-1: none)
	delay     int           // this response waits ...
	delayFor  time.Duration // ... this long before it is sent (-1: none)
	duplicate int           // this response is sent twice (-1: none)
	arrivals  []time.Time   // when each request was read
}

func (s *faultyServer) NewHooks(WorkerInfo) (*Hooks, error) {
	sends := 0
	return &Hooks{
		RecvMsg: func(fd int, m *Msg, flags int) (int, error) {
			n, err := RecvMsg(fd, m, flags)
			if err != nil {
				return n, err
			}
			s.arrivals = append(s.arrivals, time.Now())
			if len(s.arrivals)-1 == s.drop {
				return -1, unix.EAGAIN
			}
			return n, nil
		},
		SendMsg: func(fd int, m *Msg, flags int) (int, error) {
			i := sends
			sends++
			if i == s.delay {
				time.Sleep(s.delayFor)
			}
			if i == s.duplicate {
				if _, err := SendMsg(fd, m, flags); err != nil {
					return -1, err
				}
			}
			return SendMsg(fd, m, flags)
		},
	}, nil
}

// TestUDPRRMatchesResponsesToRequests: a request the server drops is
// resent after ~200ms; a late answer to a request since resent is stale,
// a second answer to one already answered a duplicate; neither is a
// transaction or a latency sample, and the run counts exactly -l -N
// transactions. The sequence number takes what -Q and -R leave of 8
// bytes: one byte matches as well as eight here.
func TestUDPRRMatchesResponsesToRequests(t *testing.T) {
	const n = 20
	tests := []struct {
		name   string
		server faultyServer
		want   udpRRCounts
	}{
		{"dropped request", faultyServer{drop: 0, delay: -1, duplicate: -1}, udpRRCounts{
			Transactions: n, Latencies: n, Resends: 1,
			RequestsSent: n + 1, ResponsesRead: n, ServerRequestsRead: n + 1, ServerResponsesWritten: n,
		}},
		{"late response", faultyServer{drop: -1, delay: 0, delayFor: 300 * time.Millisecond, duplicate: -1}, udpRRCounts{
			Transactions: n, Latencies: n, Resends: 1, Stale: 1,
			RequestsSent: n + 1, ResponsesRead: n + 1, ServerRequestsRead: n + 1, ServerResponsesWritten: n + 1,
		}},
		{"duplicated response", faultyServer{drop: -1, delay: -1, duplicate: 0}, udpRRCounts{
			Transactions: n, Latencies: n, Duplicates: 1,
			RequestsSent: n, ResponsesRead: n + 1, ServerRequestsRead: n, ServerResponsesWritten: n,
		}},
	}
	for _, size := range [][2]int{{1, 1}, {8, 8}, {64, 1024}} {
		for _, tc := range tests {
			t.Run(fmt.Sprintf("%s/Q=%d,R=%d", tc.name, size[0], size[1]), func(t *testing.T) {
				o := udpRROpts(n)
				o.RequestSize, o.ResponseSize = size[0], size[1]
				srv := tc.server
				r, err := runWithHook(t, o, ServerSide, &srv)
				assert.NilError(t, err)
				c, s := r.Client, r.Server
				got := udpRRCounts{
					Transactions: c.Transactions, Latencies: c.Latency.Count,
					Resends: c.UDPResends, Duplicates: c.UDPDuplicates, Stale: c.UDPStale,
					RequestsSent: c.PacketsWritten, ResponsesRead: c.PacketsRead,
					ServerRequestsRead: uint64(len(srv.arrivals)), ServerResponsesWritten: s.Transactions,
				}
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("counts (-want +got):\n%s", diff)
				}
				serverCopy := [3]uint64{s.UDPResends, s.UDPDuplicates, s.UDPStale}
				assert.Equal(t, serverCopy, [3]uint64{c.UDPResends, c.UDPDuplicates, c.UDPStale}, "the server reports its client's counts")
				if srv.drop == 0 {
					resentAfter := srv.arrivals[1].Sub(srv.arrivals[0])
					assert.Assert(t, resentAfter >= 150*time.Millisecond && resentAfter <= 600*time.Millisecond, "resent after %v", resentAfter)
				}
				// The resend's latency is its own round trip (in the late
				// case ~100ms of it waits for the server), not measured
				// from the first request (>= 300ms there).
				assert.Assert(t, c.Latency.Max < 250*time.Millisecond, "latency max %v", c.Latency.Max)
			})
		}
	}
}

// TestUDPRRRequestsCarrySequenceNumbers: what a script sees in the
// payload: the first 8 bytes of a request are its sequence number,
// big-endian, from 1, a resend taking the next; a response echoes its
// request's.
func TestUDPRRRequestsCarrySequenceNumbers(t *testing.T) {
	const n = 5
	var sent, read []uint64
	cli := HookProviderFunc(func(WorkerInfo) (*Hooks, error) {
		return &Hooks{
			SendMsg: func(fd int, m *Msg, flags int) (int, error) {
				sent = append(sent, binary.BigEndian.Uint64(m.Buf))
				return SendMsg(fd, m, flags)
			},
			RecvMsg: func(fd int, m *Msg, flags int) (int, error) {
				k, err := RecvMsg(fd, m, flags)
				if err == nil {
					read = append(read, binary.BigEndian.Uint64(m.Buf))
				}
				return k, err
			},
		}, nil
	})
	o := udpRROpts(n)
	o.RequestSize, o.ResponseSize = 32, 16
	srv := &faultyServer{drop: 0, delay: -1, duplicate: -1}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	_, err := RunLocal(ctx, o, SideConfig{Hooks: srv}, SideConfig{Hooks: cli})
	assert.NilError(t, err)
	assert.DeepEqual(t, sent, []uint64{1, 2, 3, 4, 5, 6})
	assert.DeepEqual(t, read, []uint64{2, 3, 4, 5, 6})
}
