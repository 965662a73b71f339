package luahooks

import (
	"errors"
	"fmt"

	lua "github.com/yuin/gopher-lua"

	"github.com/hookperf/hookperf/kit"
	"github.com/hookperf/hookperf/luahooks/internal/lsys"
	"github.com/hookperf/hookperf/luahooks/internal/luacopy"
)

// The hook points of one side, in the order of hookSlots.
const (
	hookSocket = iota
	hookClose
	hookSendmsg
	hookRecvmsg
	hookRecverr
	numHooks
)

var hookSlots = [numHooks]string{"socket", "close", "sendmsg", "recvmsg", "recverr"}

// workerState is one worker's Lua state: copies of the hooks, their
// upvalues and the script's globals, used only on the worker's thread.
// What every hook call touches is held in it, not pointed to: after each
// system call the TLB is empty (PTI without PCID), and every other page a
// call reaches costs a page walk.
type workerState struct {
	info  kit.WorkerInfo
	L     *lua.LState
	fns   [numHooks]*lua.LFunction
	names [numHooks]string
	slots []luacopy.Slot
	stop  hookStop      // L's context
	tail  lsys.TailCall // the packet hooks' deferred tail call

	msg    *lua.LUserData // the msghdr object, made once and re-pointed by the kit
	msgFor *kit.Msg
	ai     map[*kit.AddrInfo]lua.LValue
}

// NewHooks makes worker w's state and hook set (kit.HookProvider). The
// kit calls it on the worker's thread while the main state waits in
// run(), so the copy reads an idle state.
func (e *engine) NewHooks(info kit.WorkerInfo) (*kit.Hooks, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	ws, err := e.newWorkerState(info)
	if err != nil {
		return nil, err
	}
	for len(e.workers) <= info.Index {
		e.workers = append(e.workers, nil)
	}
	if old := e.workers[info.Index]; old != nil {
		// A server that lost its client before the start runs its workers
		// again for the next: the new state replaces the ended worker's.
		old.L.Close()
	}
	e.workers[info.Index] = ws
	h := &kit.Hooks{Close: func() {}, Interrupt: ws.stop.interrupt}
	if ws.fns[hookSocket] != nil {
		h.SocketOpened = ws.socketHook(hookSocket)
	}
	if ws.fns[hookClose] != nil {
		h.SocketClosing = ws.socketHook(hookClose)
	}
	if ws.fns[hookSendmsg] != nil {
		h.SendMsg = ws.packetHook(hookSendmsg)
	}
	if ws.fns[hookRecvmsg] != nil {
		h.RecvMsg = ws.packetHook(hookRecvmsg)
	}
	if ws.fns[hookRecverr] != nil {
		h.RecvErr = ws.packetHook(hookRecverr)
	}
	return h, nil
}

// newWorkerState copies the script's state as it is at run(): the
// globals it defined and this side's hooks with their upvalues. Upvalues
// shared by several hooks stay shared within the worker.
func (e *engine) newWorkerState(info kit.WorkerInfo) (*workerState, error) {
	L := e.newState(false)
	ws := &workerState{info: info, L: L, ai: map[*kit.AddrInfo]lua.LValue{}}
	c := newCopier(e.L, L)
	c.IsWrapper = e.isWrapper
	var err error
	e.L.G.Global.ForEach(func(k, v lua.LValue) {
		ks, ok := k.(lua.LString)
		if err != nil || !ok || e.prelude[string(ks)] == v {
			return
		}
		err = c.CopyField(L.G.Global, k, v, "global "+string(ks))
	})
	if err != nil {
		L.Close()
		return nil, err
	}
	prefix := info.Side.String() + "_"
	for i, slot := range hookSlots {
		name := prefix + slot
		fn := e.hooks[name]
		if fn == nil {
			continue
		}
		cv, err := c.Copy(fn, name)
		if err != nil {
			L.Close()
			return nil, err
		}
		ws.fns[i], ws.names[i] = cv.(*lua.LFunction), name
	}
	ws.slots = c.Slots
	ws.tail.Bind(L)
	L.SetContext(&ws.stop)
	return ws, nil
}

// newCopier makes a copier between two states with the script API: the
// globals table, the standard streams and the Go functions of one are
// those of the other.
func newCopier(from, to *lua.LState) *luacopy.Copier {
	c := luacopy.New(from, to)
	c.Map(from.G.Global, to.G.Global)
	c.GoFunction = luacopy.MatchGoFunctions(from.G.Global, to.G.Global, 2)
	fio, ok1 := from.G.Global.RawGetString("io").(*lua.LTable)
	tio, ok2 := to.G.Global.RawGetString("io").(*lua.LTable)
	if ok1 && ok2 {
		for _, f := range []string{"stdin", "stdout", "stderr"} {
			if ud, ok := fio.RawGetString(f).(*lua.LUserData); ok {
				c.MapUserData(ud, tio.RawGetString(f))
			}
		}
	}
	return c
}

// socketHook adapts a socket hook: fn(sockfd, ai).
func (ws *workerState) socketHook(i int) kit.SocketHook {
	fn, L := ws.fns[i], ws.L
	return func(fd int, ai *kit.AddrInfo) error {
		lai, ok := ws.ai[ai]
		if !ok {
			lai = lsys.NewAddrInfo(L, ai)
			ws.ai[ai] = lai
		}
		base := L.GetTop()
		L.Push(fn)
		L.Push(lsys.Int(fd))
		L.Push(lai)
		ws.stop.enter()
		err := L.PCall(2, 0, nil)
		L.SetTop(base)
		if err != nil {
			err = ws.callFailed(err, "")
		}
		ws.stop.leave()
		return err
	}
}

// packetHook adapts a packet hook: fn(sockfd, msg, flags) returning the
// bytes moved, -1, or a wrapper's nil, err. A hook that ends in a tail
// call of sendmsg or recvmsg leaves that call to be made here, once the
// interpreter has returned (lsys.TailCall).
func (ws *workerState) packetHook(i int) kit.PacketHook {
	fn, L := ws.fns[i], ws.L
	return func(fd int, m *kit.Msg, flags int) (int, error) {
		if ws.msgFor != m {
			ws.msg, ws.msgFor = lsys.NewMsg(L, m), m
		}
		base := L.GetTop()
		L.Push(fn)
		L.Push(lsys.Int(fd))
		L.Push(ws.msg)
		L.Push(lsys.Int(flags))
		ws.stop.enter()
		ws.tail.Arm()
		err := L.PCall(3, lua.MultRet, nil)
		ws.tail.Disarm()
		where := ""
		if err == nil && ws.tail.Pending() {
			L.SetTop(base)
			n, e, nested := ws.tail.Finish()
			if !nested {
				ws.stop.leave()
				if e != 0 {
					return -1, e
				}
				return n, nil
			}
			// It would wait on a blocking socket: made in Lua, the wait
			// can be stopped, and a stop names the hook's line.
			ws.tail.PushNested()
			err, where = L.PCall(3, lua.MultRet, nil), ws.tail.Where()
		}
		if err != nil {
			L.SetTop(base)
			err = ws.callFailed(err, where)
			ws.stop.leave()
			return -1, err
		}
		ws.stop.leave()
		n, err := packetResult(L, base)
		L.SetTop(base)
		return n, err
	}
}

// callFailed is the error of a hook call that raised err: stopped, if the
// kit interrupted it, at the position err names or else at where.
func (ws *workerState) callFailed(err error, where string) error {
	if ws.stop.isStopped() {
		s := stoppedHook(err)
		if s.Where == "" {
			s.Where = where
		}
		return s
	}
	return scriptErr(err)
}

// packetResult reads what a packet hook returned.
func packetResult(L *lua.LState, base int) (int, error) {
	if L.GetTop() == base {
		return -1, errors.New("returned nothing: a packet hook returns the bytes it moved or -1, e.g. `return recvmsg(sockfd, msg, flags)`")
	}
	switch v := L.Get(base + 1).(type) {
	case lua.LNumber:
		if v >= 0 {
			return int(v), nil
		}
		if e, ok := lsys.Errno(L.Get(base + 2)); ok {
			return -1, e
		}
		return -1, nil // a bare -1: the kit says so
	case *lua.LNilType:
		if e, ok := lsys.Errno(L.Get(base + 2)); ok {
			return -1, e
		}
		return -1, fmt.Errorf("returned nil without an error object: a packet hook returns the bytes it moved, -1, or a wrapper's nil, err")
	default:
		return -1, fmt.Errorf("returned a %s (%s): a packet hook returns the bytes it moved, -1, or a wrapper's nil, err", v.Type(), describe(v))
	}
}

func describe(v lua.LValue) string {
	s := v.String()
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return s
}
