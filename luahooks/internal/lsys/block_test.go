package lsys

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"gotest.tools/v3/assert"
)

// blockingSetup makes, in the test's state, what each blocking call
// below waits on: blocking sockets with nothing to read (r) and with a
// full send buffer (w), and a blocking listener no one connects to.
const blockingSetup = `
local _, _, a, b = socketpair(AF_UNIX, SOCK_STREAM)
r = track(a); track(b)
local _, _, c, d = socketpair(AF_UNIX, SOCK_STREAM)
w = track(c); track(d)
assert(nonblock(w))
while write(w, string.rep("x", 65536)) do end
assert(block(w))
lis = track(assert(socket(AF_INET, SOCK_STREAM, 0)))
assert(bind(lis, sockaddr_in(0, "127.0.0.1")))
assert(listen(lis, 1))
buf = buffer(16)
`

// TestBlockingCallsStop: every call that can block ends with an error
// soon after its state's context ends, and says why.
func TestBlockingCallsStop(t *testing.T) {
	calls := []struct{ name, src string }{
		{"nanosleep", `nanosleep(3600)`},
		{"read into a buffer", `read(r, buf, 16)`},
		{"read to a string", `read(r)`},
		{"recv", `recv(r, buf, 16)`},
		{"recvfrom", `recvfrom(r, buf, 16)`},
		{"recvmsg", `recvmsg(r, msg)`},
		{"write", `write(w, "x")`},
		{"send", `send(w, "x")`},
		{"sendto", `sendto(w, "x")`},
		{"sendmsg", `sendmsg(w, msg)`},
		{"accept", `accept(lis)`},
	}
	stopped := errors.New("the test stopped it")
	for _, tc := range calls {
		t.Run(tc.name, func(t *testing.T) {
			L, _ := newState(t)
			assert.NilError(t, L.DoString(blockingSetup))
			ctx, cancel := context.WithCancelCause(context.Background())
			defer cancel(nil)
			L.SetContext(ctx)
			time.AfterFunc(100*time.Millisecond, func() { cancel(stopped) })
			start := time.Now()
			err := L.DoString(tc.src)
			took := time.Since(start)
			assert.Assert(t, err != nil, "the call returned by itself")
			// gopher-lua raises the context's Err at the next instruction,
			// or the call its own stop: either way, after the cancel.
			assert.Assert(t, strings.Contains(err.Error(), "context canceled"), "%v", err)
			assert.Assert(t, took >= 100*time.Millisecond && took < time.Second, "ended %v after the start", took)
		})
	}
}

// TestBlockingCallsKeepTimeouts: a blocking socket's SO_RCVTIMEO still
// ends a wait with EAGAIN, as the kernel would, in a state with a context.
func TestBlockingCallsKeepTimeouts(t *testing.T) {
	L, _ := newState(t)
	assert.NilError(t, L.DoString(blockingSetup))
	L.SetContext(context.Background())
	start := time.Now()
	assert.NilError(t, L.DoString(`
		assert(setsockopt(r, SOL_SOCKET, SO_RCVTIMEO, timeval{tv_sec = 0, tv_usec = 200000}))
		local n, err = recv(r, buf, 16)
		eq(n, nil, "n")
		eq(err.AGAIN, true, "EAGAIN")`))
	took := time.Since(start)
	assert.Assert(t, took >= 200*time.Millisecond && took < time.Second, "took %v", took)
}

// TestNonBlockingCallsDoNotWait: on a non-blocking socket, or with
// MSG_DONTWAIT, a call returns EAGAIN at once, context or not.
func TestNonBlockingCallsDoNotWait(t *testing.T) {
	L, _ := newState(t)
	assert.NilError(t, L.DoString(blockingSetup))
	L.SetContext(context.Background())
	start := time.Now()
	assert.NilError(t, L.DoString(`
		local _, err = recv(r, buf, 16, MSG_DONTWAIT)
		eq(err.AGAIN, true, "MSG_DONTWAIT")
		assert(nonblock(r))
		local _, err = recv(r, buf, 16)
		eq(err.AGAIN, true, "non-blocking recv")
		local _, err = read(r, buf, 16)
		eq(err.AGAIN, true, "non-blocking read")`))
	assert.Assert(t, time.Since(start) < 100*time.Millisecond, "took %v", time.Since(start))
}
