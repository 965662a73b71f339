package lsys

import (
	"testing"

	lua "github.com/yuin/gopher-lua"
	"golang.org/x/sys/unix"
	"gotest.tools/v3/assert"

	"github.com/hookperf/hookperf/kit"
)

// udpPair is a non-blocking UDP receiver and a sender connected to it,
// over loopback.
func udpPair(tb testing.TB) (rx, tx int) {
	tb.Helper()
	rx, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK, 0)
	assert.NilError(tb, err)
	tb.Cleanup(func() { unix.Close(rx) })
	assert.NilError(tb, unix.Bind(rx, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}))
	sa, err := unix.Getsockname(rx)
	assert.NilError(tb, err)
	tx, err = unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK, 0)
	assert.NilError(tb, err)
	tb.Cleanup(func() { unix.Close(tx) })
	assert.NilError(tb, unix.Connect(tx, sa))
	return rx, tx
}

// hookCaller calls a Lua hook function(fd, msg, flags) as the engine
// would: pushed arguments, a protected call, one result.
type hookCaller struct {
	L         *lua.LState
	fn        lua.LValue
	msg       *lua.LUserData
	fd, flags lua.LValue
}

func newHookCaller(tb testing.TB, src string, fd, flags int) (*hookCaller, *kit.Msg) {
	tb.Helper()
	L := lua.NewState()
	tb.Cleanup(L.Close)
	Open(L)
	m := &kit.Msg{Buf: make([]byte, 16384), Control: make([]byte, 512)}
	assert.NilError(tb, L.DoString("hook = "+src))
	return &hookCaller{L: L, fn: L.GetGlobal("hook"), msg: NewMsg(L, m), fd: Int(fd), flags: Int(flags)}, m
}

func (h *hookCaller) call(tb testing.TB) lua.LValue {
	L := h.L
	L.Push(h.fn)
	L.Push(h.fd)
	L.Push(h.msg)
	L.Push(h.flags)
	if err := L.PCall(3, 1, nil); err != nil {
		tb.Fatal(err)
	}
	r := L.Get(-1)
	L.Pop(1)
	return r
}

const (
	passRecv = `function(fd, msg, flags) return recvmsg(fd, msg, flags) end`
	passSend = `function(fd, msg, flags) return sendmsg(fd, msg, flags) end`
	// reading a control message and the buffer, allocation-free
	cmsgRead = `function(fd, msg, flags)
		local n, err = recvmsg(fd, msg, flags)
		if not n then return nil, err end
		local _, cmsg = msg:cmsg_firsthdr()
		if cmsg and cmsg.cmsg_level == SOL_SOCKET and cmsg.cmsg_type == SO_RXQ_OVFL then
			drops = uint32_ptr(cmsg.cmsg_data)[0] -- (tonumber would allocate: it re-boxes)
		end
		local b = msg.msg_iov[0].iov_base
		first = b[0]
		return n
	end`
	// rushit's drop-count.lua hook as written
	dropCount = `function(sockfd, msg, flags)
		local n_recv, err = recvmsg(sockfd, msg, flags)
		assert(n_recv, tostring(err))
		stats.recv_pkts = stats.recv_pkts + 1
		local _, cmsg = msg:cmsg_firsthdr()
		if cmsg then
			if cmsg.cmsg_level == SOL_SOCKET and cmsg.cmsg_type == SO_RXQ_OVFL then
				local n_drop = tonumber(uint32_ptr(cmsg.cmsg_data)[0])
				stats.drop_pkts = n_drop
			end
		end
		return n_recv
	end`
)

// overflowed is a UDP receiver whose queue head carries SO_RXQ_OVFL:
// its queue overflowed, was drained, then got one more datagram.
func overflowed(tb testing.TB) int {
	rx, tx := udpPair(tb)
	assert.NilError(tb, unix.SetsockoptInt(rx, unix.SOL_SOCKET, unix.SO_RXQ_OVFL, 1))
	assert.NilError(tb, unix.SetsockoptInt(rx, unix.SOL_SOCKET, unix.SO_RCVBUF, 1))
	b := make([]byte, 1000)
	for range 64 {
		unix.Write(tx, b)
	}
	for {
		if _, err := unix.Read(rx, b); err != nil {
			break
		}
	}
	_, err := unix.Write(tx, b)
	assert.NilError(tb, err)
	return rx
}

// TestPassThroughAllocs checks that the common hooks allocate nothing per
// call once warm.
func TestPassThroughAllocs(t *testing.T) {
	rx, tx := udpPair(t)
	_, err := unix.Write(tx, make([]byte, 64))
	assert.NilError(t, err)
	drx := overflowed(t)
	empty, _ := udpPair(t)

	tests := []struct {
		name   string
		src    string
		fd     int
		flags  int
		result lua.LValue
	}{
		{"recvmsg", passRecv, rx, unix.MSG_PEEK, lua.LNumber(64)},
		{"recvmsg EAGAIN", passRecv, empty, 0, lua.LNil},
		{"sendmsg", passSend, tx, 0, lua.LNumber(16384)},
		{"recvmsg with a cmsg", cmsgRead, drx, unix.MSG_PEEK, lua.LNumber(1000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, _ := newHookCaller(t, tt.src, tt.fd, tt.flags)
			assert.Equal(t, h.call(t), tt.result)
			if tt.src == cmsgRead {
				drops, ok := h.L.GetGlobal("drops").(lua.LNumber)
				assert.Assert(t, ok && drops > 0, "drops = %v", h.L.GetGlobal("drops"))
			}
			allocs := testing.AllocsPerRun(1000, func() { h.call(t) })
			assert.Equal(t, allocs, 0.0)
		})
	}
}

// BenchmarkPassThroughRecvmsg calls `function(fd, msg, flags) return
// recvmsg(fd, msg, flags) end` on a UDP socket with a datagram queued
// (MSG_PEEK leaves it there), and variants.
func BenchmarkPassThroughRecvmsg(b *testing.B) {
	rx, tx := udpPair(b)
	if _, err := unix.Write(tx, make([]byte, 64)); err != nil {
		b.Fatal(err)
	}
	b.Run("peek", func(b *testing.B) {
		h, _ := newHookCaller(b, passRecv, rx, unix.MSG_PEEK)
		b.ReportAllocs()
		for b.Loop() {
			h.call(b)
		}
	})
	b.Run("peek/CallByParam", func(b *testing.B) {
		h, _ := newHookCaller(b, passRecv, rx, unix.MSG_PEEK)
		p := lua.P{Fn: h.fn, NRet: 1, Protect: true}
		b.ReportAllocs()
		for b.Loop() {
			if err := h.L.CallByParam(p, h.fd, h.msg, h.flags); err != nil {
				b.Fatal(err)
			}
			h.L.Pop(1)
		}
	})
	b.Run("peek/Go", func(b *testing.B) { // the same syscall without Lua
		m := &kit.Msg{Buf: make([]byte, 16384), Control: make([]byte, 512)}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := kit.RecvMsg(rx, m, unix.MSG_PEEK); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("EAGAIN", func(b *testing.B) {
		empty, _ := udpPair(b)
		h, _ := newHookCaller(b, passRecv, empty, 0)
		b.ReportAllocs()
		for b.Loop() {
			h.call(b)
		}
	})
	b.Run("send+recv", func(b *testing.B) {
		rx, tx := udpPair(b)
		h, _ := newHookCaller(b, passRecv, rx, 0)
		payload := make([]byte, 64)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := unix.Write(tx, payload); err != nil {
				b.Fatal(err)
			}
			h.call(b)
		}
	})
	b.Run("cmsg", func(b *testing.B) {
		h, _ := newHookCaller(b, cmsgRead, overflowed(b), unix.MSG_PEEK)
		b.ReportAllocs()
		for b.Loop() {
			h.call(b)
		}
	})
	b.Run("rushit-drop-count", func(b *testing.B) {
		h, _ := newHookCaller(b, dropCount, overflowed(b), unix.MSG_PEEK)
		assert.NilError(b, h.L.DoString(`stats = {recv_pkts = 0, drop_pkts = 0}`))
		b.ReportAllocs()
		for b.Loop() {
			h.call(b)
		}
	})
}

// BenchmarkPassThroughSendmsg: `return sendmsg(fd, msg, flags)` of a
// 64-byte message on a connected UDP socket.
func BenchmarkPassThroughSendmsg(b *testing.B) {
	_, tx := udpPair(b)
	h, m := newHookCaller(b, passSend, tx, 0)
	m.Buf = m.Buf[:64]
	b.ReportAllocs()
	for b.Loop() {
		h.call(b)
	}
}
