package lsys

import (
	"context"
	"fmt"
	"testing"

	lua "github.com/yuin/gopher-lua"
	"golang.org/x/sys/unix"
	"gotest.tools/v3/assert"

	"github.com/hookperf/hookperf/kit"
)

// TestFrameLayout: the gopher-lua fields that tell a tail call are where
// frame.go looks for them. If this fails after a gopher-lua upgrade, no
// tail call is deferred any more (hooks work, slower): update frame.go.
func TestFrameLayout(t *testing.T) {
	assert.Assert(t, frameLayout.ok, "gopher-lua's call frames changed: see frame.go")
}

// TestBottomTailCaller: a Go function knows it was tail-called by the
// bottom Lua frame exactly when no Lua code can run after it returns.
func TestBottomTailCaller(t *testing.T) {
	tests := []struct {
		name string
		src  string // the body of the called function; probe() records
		want bool
		line int // where the recorded call is, when want
	}{
		{"tail call", "return probe()", true, 1},
		{"tail call on a later line", "local x = 1\nreturn probe(x)", true, 2},
		{"tail call of a tail-called function", "local function f(a) return probe(a) end\nreturn f(1)", true, 1},
		{"tail call through __call", "return setmetatable({}, {__call = probe})()", true, 1},
		{"statement", "probe()", false, 0},
		{"result kept", "local n = probe() return n", false, 0},
		{"result adjusted to one", "return (probe())", false, 0},
		{"another value after", "return probe(), 1", false, 0},
		{"argument of another call", "return tostring(probe())", false, 0},
		{"tail call of a called function", "local function f() return probe() end\nlocal n = f() return n", false, 0},
		{"inside pcall", "return pcall(probe)", false, 0},
		{"inside a Lua __index", "return setmetatable({}, {__index = function() return probe() end}).x", false, 0},
		{"as a Go __index", "return setmetatable({}, {__index = probe}).x", false, 0},
		{"as a Go __add", "return setmetatable({}, {__add = probe}) + 1", false, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			L := lua.NewState()
			defer L.Close()
			var got bool
			var at string
			L.SetGlobal("probe", L.NewFunction(func(L *lua.LState) int {
				var fn *lua.LFunction
				var pc int
				fn, pc, got = bottomTailCaller(L)
				at = where(fn, pc)
				L.Push(lua.LTrue)
				return 1
			}))
			fn, err := L.LoadString(tc.src)
			assert.NilError(t, err)
			L.Push(fn)
			assert.NilError(t, L.PCall(0, lua.MultRet, nil))
			assert.Equal(t, got, tc.want)
			if tc.want {
				assert.Equal(t, at, fmt.Sprintf("<string>:%d", tc.line))
			}
		})
	}
}

// tailState is a state with lsys, a deferred call bound to it and a
// msghdr (msg), whose global hook is src.
func tailState(t *testing.T, src string) (*lua.LState, *TailCall, *kit.Msg) {
	t.Helper()
	L, m := newState(t)
	tc := new(TailCall)
	tc.Bind(L)
	assert.NilError(t, L.DoString("hook = "+src))
	return L, tc, m
}

// callHook calls hook(fd, msg, flags) as the engine does, armed; it
// returns the hook's results and whether a call was deferred.
func callHook(t *testing.T, L *lua.LState, tc *TailCall, fd, flags int) ([]lua.LValue, bool) {
	t.Helper()
	base := L.GetTop()
	L.Push(L.GetGlobal("hook"))
	L.Push(Int(fd))
	L.Push(L.GetGlobal("msg"))
	L.Push(Int(flags))
	tc.Arm()
	err := L.PCall(3, lua.MultRet, nil)
	tc.Disarm()
	assert.NilError(t, err)
	var out []lua.LValue
	for i := base + 1; i <= L.GetTop(); i++ {
		out = append(out, L.Get(i))
	}
	L.SetTop(base)
	return out, tc.Pending()
}

// TestDeferredCallResults: a deferred recvmsg or sendmsg moves what the
// call in place would have, and fails as it would have; calls that are
// not the hook's tail call are made in place.
func TestDeferredCallResults(t *testing.T) {
	const pass = `function(fd, msg, flags) return recvmsg(fd, msg, flags) end`
	t.Run("recvmsg", func(t *testing.T) {
		rx, tx := udpPair(t)
		_, err := unix.Write(tx, []byte("datagram"))
		assert.NilError(t, err)
		L, tc, m := tailState(t, pass)
		out, pending := callHook(t, L, tc, rx, 0)
		assert.Assert(t, pending)
		assert.Equal(t, len(out), 0)
		n, e, nested := tc.Finish()
		assert.Equal(t, n, 8)
		assert.Equal(t, e, unix.Errno(0))
		assert.Assert(t, !nested)
		assert.Equal(t, string(m.Buf[:n]), "datagram")
		assert.Equal(t, tc.Deferred, uint64(1))
	})
	t.Run("recvmsg with nothing queued", func(t *testing.T) {
		rx, _ := udpPair(t)
		L, tc, _ := tailState(t, pass)
		_, pending := callHook(t, L, tc, rx, 0)
		assert.Assert(t, pending)
		n, e, nested := tc.Finish()
		assert.Equal(t, n, -1)
		assert.Equal(t, e, unix.EAGAIN)
		assert.Assert(t, !nested)
	})
	t.Run("sendmsg", func(t *testing.T) {
		rx, tx := udpPair(t)
		L, tc, _ := tailState(t, `function(fd, msg, flags) return sendmsg(fd, msg, flags) end`)
		_, pending := callHook(t, L, tc, tx, 0)
		assert.Assert(t, pending)
		n, e, _ := tc.Finish()
		assert.Equal(t, e, unix.Errno(0))
		assert.Equal(t, n, 2048) // the msghdr's whole buffer
		got, err := unix.Read(rx, make([]byte, 4096))
		assert.NilError(t, err)
		assert.Equal(t, got, 2048)
	})
	t.Run("bad descriptor", func(t *testing.T) {
		L, tc, _ := tailState(t, pass)
		_, pending := callHook(t, L, tc, 1<<20, 0)
		assert.Assert(t, pending)
		n, e, _ := tc.Finish()
		assert.Equal(t, n, -1)
		assert.Equal(t, e, unix.EBADF)
	})

	inPlace := []struct {
		name string
		src  string
	}{
		{"result used", `function(fd, msg, flags) local n, err = recvmsg(fd, msg, flags) return n, err end`},
		{"inside a coroutine", `function(fd, msg, flags)
			return coroutine.wrap(function() return recvmsg(fd, msg, flags) end)()
		end`},
		{"inside pcall", `function(fd, msg, flags) return select(2, pcall(recvmsg, fd, msg, flags)) end`},
	}
	for _, c := range inPlace {
		t.Run(c.name, func(t *testing.T) {
			rx, tx := udpPair(t)
			_, err := unix.Write(tx, []byte("datagram"))
			assert.NilError(t, err)
			L, tc, _ := tailState(t, c.src)
			out, pending := callHook(t, L, tc, rx, 0)
			assert.Assert(t, !pending)
			assert.Equal(t, tc.Deferred, uint64(0))
			assert.Equal(t, out[0], lua.LValue(lua.LNumber(8)))
		})
	}

	t.Run("bad argument raises at once", func(t *testing.T) {
		L, tc, _ := tailState(t, `function(fd, msg, flags) return recvmsg(fd, "msg", flags) end`)
		L.Push(L.GetGlobal("hook"))
		L.Push(Int(0))
		L.Push(L.GetGlobal("msg"))
		L.Push(Int(0))
		tc.Arm()
		err := L.PCall(3, lua.MultRet, nil)
		tc.Disarm()
		assert.ErrorContains(t, err, "msghdr expected")
		assert.Assert(t, !tc.Pending())
	})
	t.Run("not armed", func(t *testing.T) {
		rx, _ := udpPair(t)
		L, tc, _ := tailState(t, pass)
		assert.NilError(t, L.CallByParam(lua.P{Fn: L.GetGlobal("hook"), NRet: 2, Protect: true}, Int(rx), L.GetGlobal("msg"), Int(0)))
		assert.Assert(t, !tc.Pending())
		assert.Equal(t, L.Get(-2), lua.LValue(lua.LNil)) // EAGAIN, in place
	})
}

// TestDeferredCallOnBlockingSocket: a deferred call that would wait on a
// blocking socket is left to be made in Lua (PushNested), where its wait
// can be stopped, and Where names the hook's line.
func TestDeferredCallOnBlockingSocket(t *testing.T) {
	L, tc, _ := tailState(t, "function(fd, msg, flags)\n  return recvmsg(fd, msg, flags)\nend")
	assert.NilError(t, L.DoString(blockingSetup))
	L.SetContext(context.Background())
	r := int(L.GetGlobal("r").(lua.LNumber))
	_, pending := callHook(t, L, tc, r, 0)
	assert.Assert(t, pending)
	_, _, nested := tc.Finish()
	assert.Assert(t, nested)
	assert.Equal(t, tc.Where(), "<string>:2")

	// With MSG_DONTWAIT the caller asked not to wait: EAGAIN at once.
	_, pending = callHook(t, L, tc, r, unix.MSG_DONTWAIT)
	assert.Assert(t, pending)
	n, e, nested := tc.Finish()
	assert.Assert(t, !nested)
	assert.Equal(t, n, -1)
	assert.Equal(t, e, unix.EAGAIN)
}
