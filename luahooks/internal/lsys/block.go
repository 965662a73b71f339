package lsys

import (
	"time"

	lua "github.com/yuin/gopher-lua"
	"golang.org/x/sys/unix"
)

// Calls that may block (nanosleep, and socket calls on a blocking socket)
// must end when the script is stopped: the run is over, or the process was
// interrupted. A Lua state with a context (L.Context(), which the engine
// sets) has them wait in slices of waitSlice, checking the context between
// slices; a call on a blocking socket is made non-blocking (MSG_DONTWAIT)
// and, when it would block, waits in poll(2) instead. A state without a
// context makes the plain calls.

// waitSlice is the longest a blocking call waits before it checks whether
// its state was stopped.
const waitSlice = 50 * time.Millisecond

// checkStop raises the state's stop as a Lua error if it has been stopped.
func checkStop(L *lua.LState) {
	if ctx := L.Context(); ctx != nil {
		if err := ctx.Err(); err != nil {
			L.RaiseError("%s", err.Error())
		}
	}
}

// sleep sleeps for d, or until the state is stopped.
func sleep(L *lua.LState, d time.Duration) error {
	if L.Context() == nil {
		ts := unix.NsecToTimespec(d.Nanoseconds())
		return unix.Nanosleep(&ts, nil)
	}
	end := time.Now().Add(d)
	for {
		checkStop(L)
		left := time.Until(end)
		if left <= 0 {
			return nil
		}
		time.Sleep(min(left, waitSlice))
	}
}

// blockingCall runs try, a socket call on fd with flags, as the caller
// asked: try gets MSG_DONTWAIT added, and if it would block on a socket
// that blocks, blockingCall waits for events on fd (bounded by the
// socket's SO_RCVTIMEO or SO_SNDTIMEO, as the kernel would) and tries
// again. A state without a context makes the plain call.
func blockingCall(L *lua.LState, fd, flags int, events int16, try func(flags int) (uintptr, unix.Errno)) (uintptr, unix.Errno) {
	if L.Context() == nil || flags&unix.MSG_DONTWAIT != 0 {
		return try(flags)
	}
	r, e := try(flags | unix.MSG_DONTWAIT)
	if e != unix.EAGAIN || !isBlocking(fd) {
		return r, e
	}
	var deadline time.Time
	if t := sockTimeout(fd, events); t > 0 {
		deadline = time.Now().Add(t)
	}
	for {
		if e := waitFor(L, fd, events, deadline); e != 0 {
			return 0, e
		}
		r, e = try(flags | unix.MSG_DONTWAIT)
		if e != unix.EAGAIN {
			return r, e
		}
	}
}

// waitReady waits until fd has events, for a call that takes no flags
// (read, write, accept): at once on a non-blocking fd or a state without
// a context, which make the call as it is.
func waitReady(L *lua.LState, fd int, events int16) unix.Errno {
	if L.Context() == nil || !isBlocking(fd) {
		return 0
	}
	var deadline time.Time
	if t := sockTimeout(fd, events); t > 0 {
		deadline = time.Now().Add(t)
	}
	return waitFor(L, fd, events, deadline)
}

// waitFor polls fd for events in slices, raising the state's stop as an
// error, until an event comes (0) or the deadline (if any) passes (EAGAIN).
func waitFor(L *lua.LState, fd int, events int16, deadline time.Time) unix.Errno {
	for {
		checkStop(L)
		slice := waitSlice
		if !deadline.IsZero() {
			left := time.Until(deadline)
			if left <= 0 {
				return unix.EAGAIN
			}
			slice = min(slice, left)
		}
		fds := []unix.PollFd{{Fd: int32(fd), Events: events}}
		n, err := unix.Poll(fds, int(max(slice/time.Millisecond, 1)))
		switch {
		case err == unix.EINTR:
		case err != nil:
			return toErrno(err)
		case n > 0:
			return 0
		}
	}
}

// isBlocking reports whether fd lacks O_NONBLOCK.
func isBlocking(fd int) bool {
	fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	return err == nil && fl&unix.O_NONBLOCK == 0
}

// sockTimeout is the socket's SO_RCVTIMEO (events with POLLIN) or
// SO_SNDTIMEO; 0 when unset or fd is not a socket.
func sockTimeout(fd int, events int16) time.Duration {
	opt := unix.SO_SNDTIMEO
	if events&unix.POLLIN != 0 {
		opt = unix.SO_RCVTIMEO
	}
	tv, err := unix.GetsockoptTimeval(fd, unix.SOL_SOCKET, opt)
	if err != nil {
		return 0
	}
	return time.Duration(tv.Nano())
}

// connectStoppable connects a blocking socket so that the state's stop
// can end the wait for the handshake: the socket is made non-blocking for
// the call and restored afterwards.
func connectStoppable(L *lua.LState, fd int, connect func() unix.Errno) unix.Errno {
	if L.Context() == nil || !isBlocking(fd) {
		return connect()
	}
	fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if err != nil {
		return connect()
	}
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFL, fl|unix.O_NONBLOCK); err != nil {
		return connect()
	}
	defer unix.FcntlInt(uintptr(fd), unix.F_SETFL, fl)
	e := connect()
	if e != unix.EINPROGRESS {
		return e
	}
	var deadline time.Time
	if t := sockTimeout(fd, unix.POLLOUT); t > 0 {
		deadline = time.Now().Add(t)
	}
	if e := waitFor(L, fd, unix.POLLOUT, deadline); e != 0 {
		if e == unix.EAGAIN {
			return unix.EINPROGRESS // as a blocking connect that timed out
		}
		return e
	}
	v, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
	if err != nil {
		return toErrno(err)
	}
	return unix.Errno(v)
}
