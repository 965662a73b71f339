package luahooks

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"gotest.tools/v3/assert"

	"github.com/hookperf/hookperf/kit"
)

// TestTailCallsDeferred: a packet hook that ends in `return sendmsg(...)`
// or `return recvmsg(...)` has the call made after the interpreter
// returns, with the same result; one that uses the result makes it in
// place. Both move the same bytes.
func TestTailCallsDeferred(t *testing.T) {
	tests := []struct {
		name     string
		src      string
		deferred uint64 // of the three calls below: a send and two receives
	}{
		{"pass-through", passThrough, 3},
		{"realistic", realistic(t), 1}, // its recvmsg hook counts what it got
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, h := clientHooks(t, tc.src)
			fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK, 0)
			assert.NilError(t, err)
			t.Cleanup(func() { unix.Close(fds[0]); unix.Close(fds[1]) })

			out := &kit.Msg{Buf: []byte("request"), Control: make([]byte, 64)}
			n, err := h.SendMsg(fds[0], out, 0)
			assert.NilError(t, err)
			assert.Equal(t, n, 7)

			in := &kit.Msg{Buf: make([]byte, 64), Control: make([]byte, 512)}
			n, err = h.RecvMsg(fds[1], in, 0)
			assert.NilError(t, err)
			assert.Equal(t, string(in.Buf[:n]), "request")

			// Nothing left: the errno comes back as the hook's error.
			_, err = h.RecvMsg(fds[1], in, 0)
			assert.Equal(t, err, error(unix.EAGAIN))
			assert.Equal(t, e.workers[0].tail.Deferred, tc.deferred)
		})
	}
}

// TestTailCallWaitsOnBlockingSocket: a deferred call that would wait on a
// blocking socket is made in Lua instead, and waits for the data as the
// call in place would have.
func TestTailCallWaitsOnBlockingSocket(t *testing.T) {
	e, h := clientHooks(t, passThrough)
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_DGRAM, 0) // blocking
	assert.NilError(t, err)
	t.Cleanup(func() { unix.Close(fds[0]); unix.Close(fds[1]) })
	time.AfterFunc(100*time.Millisecond, func() { unix.Write(fds[0], []byte("late")) })

	in := &kit.Msg{Buf: make([]byte, 64), Control: make([]byte, 512)}
	start := time.Now()
	n, err := h.RecvMsg(fds[1], in, 0)
	assert.NilError(t, err)
	assert.Equal(t, string(in.Buf[:n]), "late")
	assert.Assert(t, time.Since(start) >= 100*time.Millisecond, "returned after %v", time.Since(start))
	assert.Equal(t, e.workers[0].tail.Deferred, uint64(1))
}
