package lsys

import (
	lua "github.com/yuin/gopher-lua"
	"golang.org/x/sys/unix"

	"github.com/hookperf/hookperf/kit"
)

// A packet hook usually ends the way rushit's examples do:
//
//	return sendmsg(fd, msg, flags)
//
// A tail call: whatever sendmsg returns is the hook's result, and no Lua
// code of the hook runs after it. Made in place, the system call sits in
// the middle of the interpreter: every page of its call path is walked
// on the way in, and walked again on the way out, after the system call
// has emptied the TLB (a kernel that isolates page tables on a CPU without
// PCID flushes it on every call). So a recvmsg or sendmsg that a packet
// hook tail-calls from its own frame is deferred instead: the wrapper
// checks its arguments as always, records the call and returns, the
// interpreter unwinds while its pages are still mapped, and the engine
// makes the call in Go right after (Finish). The hook cannot tell: no
// code of it runs between the two, and the call's result is the hook's
// result either way. A call that would block on a blocking socket is then
// made the ordinary way, in Lua, so that its wait can be stopped as any
// other.

// TailCall is one worker state's deferred data-path call; its zero value
// defers nothing until Bind.
type TailCall struct {
	owner *lua.LState // the state whose packet hooks it serves
	st    *state
	armed bool
	// Deferred counts the calls deferred so far.
	Deferred uint64

	pending bool
	recv    bool
	fd      int
	flags   int
	mo      *msgObj
	msg     lua.LValue // the msghdr the hook passed, for the nested call
	caller  *lua.LFunction
	pc      int
}

// Bind makes t the deferred call of L, the state that runs a worker's
// packet hooks.
func (t *TailCall) Bind(L *lua.LState) {
	*t = TailCall{owner: L, st: mustState(L)}
	t.st.tail = t
}

// Arm lets the next sendmsg or recvmsg that the called hook tail-calls
// be deferred; Disarm ends that once the hook has returned.
func (t *TailCall) Arm()    { t.armed, t.pending = true, false }
func (t *TailCall) Disarm() { t.armed = false }

// Pending reports whether the hook's call ended in a deferred call, which
// Finish must make.
func (t *TailCall) Pending() bool { return t.pending }

// deferCall records the call of a wrapper if L's hook tail-called it.
func (st *state) deferCall(L *lua.LState, recv bool, fd int, mo *msgObj, flags int) bool {
	t := st.tail
	if t == nil || !t.armed || t.owner != L {
		return false
	}
	caller, pc, ok := bottomTailCaller(L)
	if !ok {
		return false
	}
	t.armed, t.pending = false, true
	t.Deferred++
	t.recv, t.fd, t.mo, t.flags, t.msg = recv, fd, mo, flags, L.Get(2)
	t.caller, t.pc = caller, pc
	return true
}

// Finish makes the deferred call as the wrapper would have, without
// waiting: the bytes moved, or -1 and the errno. nested reports a call
// that would have to wait on a blocking socket and was not made: the
// caller makes it through PushNested instead.
func (t *TailCall) Finish() (n int, e unix.Errno, nested bool) {
	t.pending = false
	blocking := t.owner.Context() != nil && t.flags&unix.MSG_DONTWAIT == 0
	flags := t.flags
	if blocking {
		flags |= unix.MSG_DONTWAIT
	}
	var err error
	if t.recv {
		n, err = kit.RecvMsg(t.fd, t.mo.m, flags)
	} else {
		n, err = kit.SendMsg(t.fd, t.mo.m, flags)
	}
	if err == nil {
		return n, 0, false
	}
	e = toErrnoOrZero(err)
	if e == unix.EAGAIN && blocking && isBlocking(t.fd) {
		return 0, 0, true
	}
	return -1, e, false
}

// PushNested pushes the deferred call as a function and its three
// arguments, for a protected call that makes it in Lua (and may wait).
func (t *TailCall) PushNested() {
	name := "sendmsg"
	if t.recv {
		name = "recvmsg"
	}
	L := t.owner
	L.Push(t.st.S.RawGetString(name))
	L.Push(Int(t.fd))
	L.Push(t.msg)
	L.Push(Int(t.flags))
	t.msg = nil
}

// Where is the source position of the deferred call ("chunk:line"), which
// an error raised by its nested call lacks: it was made from Go.
func (t *TailCall) Where() string { return where(t.caller, t.pc) }
