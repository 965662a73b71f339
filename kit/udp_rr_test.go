package kit

import (
	"testing"
	"time"

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
