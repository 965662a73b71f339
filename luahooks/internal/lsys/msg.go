package lsys

import (
	"encoding/binary"
	"unsafe"

	lua "github.com/yuin/gopher-lua"
	"golang.org/x/sys/unix"

	"github.com/hookperf/hookperf/kit"
)

// The msghdr of a packet hook. Reading a field of a userdata through a Go
// __index function costs an allocation in gopher-lua (the key is boxed),
// so the msghdr keeps what does not change in plain tables, reached by
// __index chains of tables: msg.msg_iov[0].iov_base, msg:cmsgs(),
// cmsg.cmsg_level... allocate nothing. What the kernel changes with each
// call (msg_controllen, msg_flags, iov_len...) is read through a Go
// function. Control messages are tables made once per position in the
// control buffer and refilled when reached again.

// msgObj is the Go side of a msghdr userdata.
type msgObj struct {
	m     *kit.Msg
	cmsgs []*cmsgSlot // by offset / cmsgAlignTo
}

// cmsgSlot is the control message at one offset of the control buffer.
type cmsgSlot struct {
	proxy  *lua.LTable // what scripts see: read-only, __index = fields
	fields *lua.LTable
	data   *ptrVal
}

var (
	cmsgAlignTo  = int(unsafe.Sizeof(uintptr(0))) // CMSG_ALIGN: sizeof(long)
	cmsgHdrSize  = unix.SizeofCmsghdr
	cmsgLenSize  = int(unsafe.Sizeof(unix.Cmsghdr{}.Len))
	cmsgDataOffs = cmsgAlign(unix.SizeofCmsghdr)
)

func cmsgAlign(n int) int { return (n + cmsgAlignTo - 1) &^ (cmsgAlignTo - 1) }

// control is the part of the control buffer the kernel filled.
func (mo *msgObj) control() []byte {
	c := mo.m.Control
	n := min(mo.m.ControlLen, len(c))
	if n < 0 {
		n = 0
	}
	return c[:n]
}

// cmsgAt parses the header of the control message at off, as
// CMSG_FIRSTHDR/CMSG_NXTHDR accept it: the header fits and cmsg_len
// neither undercuts the header nor runs past the filled buffer.
func cmsgAt(b []byte, off int) (length, level, typ int, ok bool) {
	if off < 0 || off+cmsgHdrSize > len(b) {
		return 0, 0, 0, false
	}
	h := b[off:]
	if cmsgLenSize == 8 {
		length = int(binary.NativeEndian.Uint64(h))
	} else {
		length = int(binary.NativeEndian.Uint32(h))
	}
	if length < cmsgHdrSize || length > len(b)-off {
		return 0, 0, 0, false
	}
	level = int(int32(binary.NativeEndian.Uint32(h[cmsgLenSize:])))
	typ = int(int32(binary.NativeEndian.Uint32(h[cmsgLenSize+4:])))
	return length, level, typ, true
}

// pushCmsg pushes the position and the control message at off, or nil,
// nil if there is none there.
func (st *state) pushCmsg(L *lua.LState, mo *msgObj, off int) int {
	length, level, typ, ok := cmsgAt(mo.control(), off)
	if !ok {
		L.Push(lua.LNil)
		L.Push(lua.LNil)
		return 2
	}
	i := off / cmsgAlignTo
	for len(mo.cmsgs) <= i {
		mo.cmsgs = append(mo.cmsgs, nil)
	}
	s := mo.cmsgs[i]
	if s == nil {
		s = &cmsgSlot{proxy: L.NewTable(), fields: L.NewTable(), data: &ptrVal{mem: msgCtlMem{mo.m}, off: off + cmsgDataOffs}}
		s.fields.Metatable = st.cmsgFieldsMT
		pm := L.NewTable()
		pm.RawSetString("__index", s.fields)
		pm.RawSetString("__newindex", st.readOnly)
		s.proxy.Metatable = pm
		s.fields.RawSetString("cmsg_data", st.newUD(L, tPtr, s.data))
		mo.cmsgs[i] = s
	}
	s.data.lim = max(length-cmsgDataOffs, 0)
	s.fields.RawSetString("cmsg_len", Int(length))
	s.fields.RawSetString("cmsg_level", Int(level))
	s.fields.RawSetString("cmsg_type", Int(typ))
	L.Push(Int(off))
	L.Push(s.proxy)
	return 2
}

// nextCmsg is the offset of the control message after the one at off
// (CMSG_NXTHDR), or -1.
func (mo *msgObj) nextCmsg(off int) int {
	length, _, _, ok := cmsgAt(mo.control(), off)
	if !ok {
		return -1
	}
	return off + cmsgAlign(length)
}

func checkMsg(L *lua.LState, n int) *msgObj { return checkUD[*msgObj](L, n, "msghdr") }

// NewMsg makes the msghdr userdata of one worker, bound to m; the kit
// re-points *m for every hook call, so the same userdata serves every
// call.
func NewMsg(L *lua.LState, m *kit.Msg) *lua.LUserData {
	st := mustState(L)
	mo := &msgObj{m: m}

	ro := func(content *lua.LTable) *lua.LTable {
		proxy, mt := L.NewTable(), L.NewTable()
		mt.RawSetString("__index", content)
		mt.RawSetString("__newindex", st.readOnly)
		proxy.Metatable = mt
		return proxy
	}

	// msg.msg_iov[0]: iov_base static, iov_len read at each access.
	iov := L.NewTable()
	iov.RawSetString("iov_base", st.newUD(L, tPtr, &ptrVal{mem: msgBufMem{m}, lim: -1}))
	iovDyn := L.NewTable()
	iovDyn.RawSetString("__index", st.fn(func(st *state, L *lua.LState) int {
		switch k := L.Get(2).String(); k {
		case "iov_len":
			L.Push(Int(len(m.Buf)))
		default:
			L.RaiseError("iovec has no field %q", k)
		}
		return 1
	}))
	iov.Metatable = iovDyn
	arr := L.NewTable()
	arr.RawSet(lua.LNumber(0), ro(iov))

	idx := L.NewTable()
	idx.RawSetString("msg_iov", ro(arr))
	idx.RawSetString("msg_iovlen", Int(1))
	idx.RawSetString("msg_name", st.newUD(L, tPtr, &ptrVal{mem: msgNameMem{m}, lim: -1}))
	idx.RawSetString("msg_control", st.newUD(L, tPtr, &ptrVal{mem: msgCtlMem{m}, lim: -1}))
	st.msgMethods.ForEach(func(k, v lua.LValue) { idx.RawSet(k, v) })
	dyn := L.NewTable()
	dyn.RawSetString("__index", st.fn(func(st *state, L *lua.LState) int {
		switch k := L.Get(2).String(); k {
		case "msg_namelen":
			L.Push(Int(m.NameLen))
		case "msg_controllen":
			L.Push(Int(m.ControlLen))
		case "msg_flags":
			L.Push(Int(m.Flags))
		default:
			L.RaiseError("msghdr has no field %q", k)
		}
		return 1
	}))
	idx.Metatable = dyn

	mt := L.NewTable()
	mt.RawSetString("__index", idx)
	mt.RawSetString("__newindex", st.fn(func(st *state, L *lua.LState) int {
		k := L.Get(2).String()
		setLen := func(what string, max int) int {
			n := intArg(L, 3)
			if n < 0 || n > max {
				L.RaiseError("%s %d out of bounds (0..%d)", what, n, max)
			}
			return n
		}
		switch k {
		case "msg_namelen":
			m.NameLen = setLen(k, len(m.Name))
		case "msg_controllen":
			m.ControlLen = setLen(k, len(m.Control))
		case "msg_flags":
			m.Flags = intArg(L, 3)
		default:
			L.RaiseError("msghdr: field %s is read-only", k)
		}
		return 0
	}))
	mt.RawSetString("__tostring", st.fn(func(st *state, L *lua.LState) int {
		L.Push(lua.LString("msghdr"))
		return 1
	}))
	ud := L.NewUserData()
	ud.Value = mo
	ud.Metatable = mt
	return ud
}

func (st *state) initMsgType(L *lua.LState) {
	// The methods of a cmsg; self is the cmsg table.
	cmsgLen := func(L *lua.LState) int {
		n, ok := L.GetField(L.Get(1), "cmsg_len").(lua.LNumber)
		if !ok {
			L.ArgError(1, "cmsg expected")
		}
		return int(n)
	}
	st.setMeta(st.cmsgMethods, map[string]func(*state, *lua.LState) int{
		"len": func(st *state, L *lua.LState) int {
			L.Push(Int(cmsgLen(L)))
			return 1
		},
		"datalen": func(st *state, L *lua.LState) int {
			L.Push(Int(cmsgLen(L) - cmsgDataOffs))
			return 1
		},
		"hdrsize": func(st *state, L *lua.LState) int {
			L.Push(Int(cmsgHdrSize))
			return 1
		},
		"align": func(st *state, L *lua.LState) int {
			L.Push(Int(cmsgAlign(cmsgLen(L))))
			return 1
		},
		// data returns the payload as a string (ljsyscall returns a
		// pointer: cmsg_data is that pointer here).
		"data": func(st *state, L *lua.LState) int {
			p := toPtr(L.GetField(L.Get(1), "cmsg_data"))
			if p == nil {
				L.ArgError(1, "cmsg expected")
			}
			L.Push(lua.LString(p.mustWindow(L)))
			return 1
		},
	})
	st.cmsgFieldsMT = L.NewTable()
	st.cmsgFieldsMT.RawSetString("__index", st.cmsgMethods)

	iter := st.fn(func(st *state, L *lua.LState) int {
		mo := checkMsg(L, 1)
		if L.Get(2) == lua.LNil {
			return st.pushCmsg(L, mo, 0)
		}
		return st.pushCmsg(L, mo, mo.nextCmsg(L.CheckInt(2)))
	})
	st.msgMethods = L.NewTable()
	st.setMeta(st.msgMethods, map[string]func(*state, *lua.LState) int{
		// msg:cmsg_firsthdr() → position, cmsg (nil, nil if none).
		"cmsg_firsthdr": func(st *state, L *lua.LState) int {
			return st.pushCmsg(L, checkMsg(L, 1), 0)
		},
		// msg:cmsg_nxthdr(position[, cmsg]) → the next position, cmsg.
		"cmsg_nxthdr": func(st *state, L *lua.LState) int {
			mo := checkMsg(L, 1)
			return st.pushCmsg(L, mo, mo.nextCmsg(L.CheckInt(2)))
		},
		// for pos, cmsg in msg:cmsgs() do ... end
		"cmsgs": func(st *state, L *lua.LState) int {
			checkMsg(L, 1)
			L.Push(iter)
			L.Push(L.Get(1))
			L.Push(lua.LNil)
			return 3
		},
		// msg:name() → the peer's address (a sockaddr copy), nil if none.
		"name": func(st *state, L *lua.LState) int {
			mo := checkMsg(L, 1)
			n := min(mo.m.NameLen, len(mo.m.Name), sockaddrSize)
			if n <= 0 {
				L.Push(lua.LNil)
				return 1
			}
			sa := &sockaddr{n: uint32(n)}
			copy(sa.raw[:], mo.m.Name[:n])
			L.Push(st.newUD(L, tSockaddr, sa))
			return 1
		},
	})
}
