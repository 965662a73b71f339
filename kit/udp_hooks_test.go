package kit

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
	"gotest.tools/v3/assert"
)

// udpHookCase is one packet hook of one side, alone.
type udpHookCase struct {
	side Side
	slot string // "sendmsg" or "recvmsg"
}

func (c udpHookCase) name() string { return c.side.String() + "_" + c.slot }

// udpHookCases are the packet hooks a side of w calls: a udp_stream
// client only sends and its server only receives.
func udpHookCases(w Workload) []udpHookCase {
	cases := []udpHookCase{{ClientSide, "sendmsg"}, {ServerSide, "recvmsg"}}
	if w == UDPRR {
		cases = append(cases, udpHookCase{ClientSide, "recvmsg"}, udpHookCase{ServerSide, "sendmsg"})
	}
	return cases
}

// oneHook is a provider whose hook sets hold only h, in slot.
func oneHook(slot string, h PacketHook) HookProvider {
	return HookProviderFunc(func(WorkerInfo) (*Hooks, error) {
		if slot == "sendmsg" {
			return &Hooks{SendMsg: h}, nil
		}
		return &Hooks{RecvMsg: h}, nil
	})
}

// runWithHook runs o locally with p on side, bounded by a deadline.
func runWithHook(t *testing.T, o Options, side Side, p HookProvider) (*LocalResult, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	var srv, cli SideConfig
	if side == ServerSide {
		srv.Hooks = p
	} else {
		cli.Hooks = p
	}
	return RunLocal(ctx, o, srv, cli)
}

func udpHookOpts(w Workload) Options {
	o := localOpts(w)
	if w == UDPRR {
		o.TestLength, o.Transactions = 0, 50
	} else {
		o.TestLength = 300 * time.Millisecond
	}
	return o
}

// TestUDPHookAlonePassesThrough: each packet hook alone, passing the call
// through, leaves the workload measuring; a server's sendmsg hook gets a
// msg addressed to the request's sender even with no recvmsg hook.
func TestUDPHookAlonePassesThrough(t *testing.T) {
	for _, w := range []Workload{UDPRR, UDPStream} {
		for _, tc := range udpHookCases(w) {
			t.Run(string(w)+"/"+tc.name(), func(t *testing.T) {
				var calls int
				var names []string
				h := func(fd int, m *Msg, flags int) (int, error) {
					calls++
					if tc.side == ServerSide && tc.slot == "sendmsg" {
						names = append(names, nameOf(m).String())
					}
					if tc.slot == "sendmsg" {
						return SendMsg(fd, m, flags)
					}
					return RecvMsg(fd, m, flags)
				}
				r, err := runWithHook(t, udpHookOpts(w), tc.side, oneHook(tc.slot, h))
				assert.NilError(t, err)
				assert.Assert(t, calls > 0, "the hook never ran")
				if w == UDPRR {
					assert.Equal(t, r.Client.Transactions, uint64(50))
					assert.Equal(t, r.Server.Transactions, uint64(50))
				} else {
					assert.Assert(t, r.Server.PacketsRead > 0, "nothing received")
				}
				if names != nil {
					// Every response goes to the client flow's address.
					want := make([]string, len(names))
					for i := range want {
						want[i] = names[0]
					}
					first, err := netip.ParseAddrPort(names[0])
					assert.NilError(t, err, "msg_name")
					assert.Assert(t, first.Addr() == netip.MustParseAddr("127.0.0.1") && first.Port() != 0, "msg_name %v", first)
					if diff := cmp.Diff(want, names); diff != "" {
						t.Fatalf("server_sendmsg msg_name (-want +got):\n%s", diff)
					}
				}
			})
		}
	}
}

// nameOf decodes the msg_name a hook was given (an invalid AddrPort when
// there is none).
func nameOf(m *Msg) netip.AddrPort {
	if m.NameLen < unix.SizeofSockaddrInet4 || len(m.Name) < m.NameLen {
		return netip.AddrPort{}
	}
	var sa unix.RawSockaddrInet4
	b := m.Name
	sa.Family = uint16(b[0]) | uint16(b[1])<<8
	if sa.Family != unix.AF_INET {
		return netip.AddrPort{}
	}
	port := uint16(b[2])<<8 | uint16(b[3])
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte(b[4:8])), port)
}

// TestUDPHookErrnoFailsTheRun: a packet hook that returns an errno the
// plain path would not tolerate stops the run with an error naming the
// hook and the errno; one that returns a passing errno (EAGAIN, ENOBUFS)
// now and then costs a datagram, not the run.
func TestUDPHookErrnoFailsTheRun(t *testing.T) {
	for _, w := range []Workload{UDPRR, UDPStream} {
		for _, tc := range udpHookCases(w) {
			for _, e := range []unix.Errno{unix.EINVAL, unix.EBADF} {
				t.Run(string(w)+"/"+tc.name()+"/"+unix.ErrnoName(e), func(t *testing.T) {
					o := udpHookOpts(w)
					o.TestLength, o.Transactions = 20*time.Second, 0
					h := func(fd int, m *Msg, flags int) (int, error) { return -1, e }
					start := time.Now()
					_, err := runWithHook(t, o, tc.side, oneHook(tc.slot, h))
					assert.Assert(t, time.Since(start) < 10*time.Second, "took %v", time.Since(start))
					var he *HookError
					assert.Assert(t, errors.As(err, &he), "got %v", err)
					assert.Equal(t, he.Hook, tc.name())
					assert.ErrorIs(t, err, e)
					want := tc.name() + " returned " + unix.ErrnoName(e) + " (" + e.Error() + ")"
					assert.ErrorContains(t, err, tc.side.String()+" worker 0: ")
					assert.ErrorContains(t, err, want)
				})
			}
		}
	}
}
