package lsys

import (
	"encoding/binary"
	"fmt"
	"unsafe"

	lua "github.com/yuin/gopher-lua"
	"golang.org/x/sys/unix"

	"github.com/hookperf/hookperf/kit"
)

// Pointers stand in for C's void* and char*: a window onto some memory
// (the worker's message buffer, its control buffer, or a buffer() of the
// script's), checked on every access. The memory of a msghdr is looked up
// at each access, since the kit re-points its Msg for every hook call.

// mem is memory a pointer points into.
type mem interface{ bytes() []byte }

type ownMem struct{ b []byte }

func (m *ownMem) bytes() []byte { return m.b }

type msgBufMem struct{ m *kit.Msg }

func (m msgBufMem) bytes() []byte { return m.m.Buf }

type msgCtlMem struct{ m *kit.Msg }

func (m msgCtlMem) bytes() []byte { return m.m.Control }

type msgNameMem struct{ m *kit.Msg }

func (m msgNameMem) bytes() []byte { return m.m.Name }

// ptrVal is a pointer: offset off into mem, at most lim bytes (lim < 0:
// to the end of mem).
type ptrVal struct {
	mem mem
	off int
	lim int
	// views made by casts (uint32_ptr(p)...), kept so that a cast in a
	// hook allocates once.
	views [numViews]*lua.LUserData
}

// bufVal is a pointer into a buffer() of the script's; unlike a pointer
// into a msghdr it can be copied to another state (with its bytes).
type bufVal struct{ ptrVal }

// CopyTo implements the engine's cross-state copy: a copy of the bytes.
func (b *bufVal) CopyTo(to *lua.LState) lua.LValue {
	c := &bufVal{ptrVal{mem: &ownMem{append([]byte(nil), b.mem.bytes()...)}, off: b.off, lim: b.lim}}
	return udTo(to, tPtr, c)
}

// window is the memory p gives access to, or an error if p points past
// the end of its memory.
func (p *ptrVal) window() ([]byte, error) {
	b := p.mem.bytes()
	if p.off > len(b) {
		return nil, fmt.Errorf("pointer at offset %d is past the end of its %d-byte buffer", p.off, len(b))
	}
	b = b[p.off:]
	if p.lim >= 0 && p.lim < len(b) {
		b = b[:p.lim]
	}
	return b, nil
}

func (p *ptrVal) mustWindow(L *lua.LState) []byte {
	b, err := p.window()
	if err != nil {
		L.RaiseError("%s", err.Error())
	}
	return b
}

// toPtr returns the pointer a value holds: a pointer, a buffer, or a view
// (a cast pointer).
func toPtr(v lua.LValue) *ptrVal {
	if ud, ok := v.(*lua.LUserData); ok {
		switch x := ud.Value.(type) {
		case *ptrVal:
			return x
		case *bufVal:
			return &x.ptrVal
		case *view:
			return x.p
		}
	}
	return nil
}

// checkPtr returns argument n's pointer, or raises.
func checkPtr(L *lua.LState, n int) *ptrVal {
	p := toPtr(L.Get(n))
	if p == nil {
		L.ArgError(n, "pointer expected, got "+typeName(L.Get(n)))
	}
	return p
}

// newBuffer is buffer(n) (n zero bytes) or buffer(s) (a copy of s).
func newBuffer(st *state, L *lua.LState) int {
	var b []byte
	switch v := L.Get(1).(type) {
	case lua.LNumber:
		if v < 0 || v > 1<<30 {
			L.ArgError(1, "buffer size out of range")
		}
		b = make([]byte, int(v))
	case lua.LString:
		b = []byte(string(v))
	default:
		L.ArgError(1, "size or string expected, got "+typeName(L.Get(1)))
	}
	L.Push(st.newUD(L, tPtr, &bufVal{ptrVal{mem: &ownMem{b}, lim: -1}}))
	return 1
}

// pushPtrLike makes a pointer of the same kind as p (buffer or not).
func (st *state) newPtrUD(L *lua.LState, like lua.LValue, p ptrVal) *lua.LUserData {
	if ud, ok := like.(*lua.LUserData); ok {
		if _, ok := ud.Value.(*bufVal); ok {
			return st.newUD(L, tPtr, &bufVal{p})
		}
	}
	return st.newUD(L, tPtr, &p)
}

// --- views: pointer casts ---

const (
	viewU8 = iota
	viewU16
	viewU32
	viewI32
	viewU64
	viewI64
	viewSCMTimestamping
	viewTsArray
	viewSockExtendedErr
	viewInPktinfo
	viewIn6Pktinfo
	numViews
)

var viewNames = [numViews]string{
	viewU8:              "uint8_ptr",
	viewU16:             "uint16_ptr",
	viewU32:             "uint32_ptr",
	viewI32:             "int32_ptr",
	viewU64:             "uint64_ptr",
	viewI64:             "int64_ptr",
	viewSCMTimestamping: "scm_timestamping_ptr",
	viewTsArray:         "scm_timestamping.ts",
	viewSockExtendedErr: "sock_extended_err_ptr",
	viewInPktinfo:       "in_pktinfo_ptr",
	viewIn6Pktinfo:      "in6_pktinfo_ptr",
}

// elemSize is the element size of the array views, 0 for structs.
var elemSize = [numViews]int{viewU8: 1, viewU16: 2, viewU32: 4, viewI32: 4, viewU64: 8, viewI64: 8, viewTsArray: sizeofTimespec}

// structSize is the size the struct views need.
var structSize = [numViews]int{
	viewSCMTimestamping: 3 * sizeofTimespec,
	viewSockExtendedErr: 16,
	viewInPktinfo:       unix.SizeofInet4Pktinfo,
	viewIn6Pktinfo:      unix.SizeofInet6Pktinfo,
}

const sizeofTimespec = int(unsafe.Sizeof(unix.Timespec{}))

// view is a pointer cast to a type: p[i] of an array, or the fields of a
// struct, read from the memory at each access.
type view struct {
	p    *ptrVal
	kind int
}

// viewOf returns the (cached) view of kind on pointer p.
func (st *state) viewOf(L *lua.LState, p *ptrVal, kind int) *lua.LUserData {
	if ud := p.views[kind]; ud != nil {
		return ud
	}
	ud := st.newUD(L, tView, &view{p: p, kind: kind})
	p.views[kind] = ud
	return ud
}

// viewCtor makes a cast function (uint32_ptr...): it takes a pointer (a
// cmsg's cmsg_data, a buffer, another view) or a string (cmsg:data()).
func viewCtor(kind int) func(*state, *lua.LState) int {
	return func(st *state, L *lua.LState) int {
		p := toPtr(L.Get(1))
		if p == nil {
			s, ok := L.Get(1).(lua.LString)
			if !ok {
				L.ArgError(1, "pointer or string expected, got "+typeName(L.Get(1)))
			}
			p = &ptrVal{mem: &ownMem{[]byte(string(s))}, lim: -1}
		}
		if need := structSize[kind]; need > 0 {
			if b := p.mustWindow(L); len(b) < need {
				L.RaiseError("%s: %d bytes needed, the pointer has %d", viewNames[kind], need, len(b))
			}
		}
		L.Push(st.viewOf(L, p, kind))
		return 1
	}
}

// elem returns the bytes of element i of an array view, or raises.
func (v *view) elem(L *lua.LState, i int) []byte {
	b := v.p.mustWindow(L)
	size := elemSize[v.kind]
	if i < 0 || (i+1)*size > len(b) {
		L.RaiseError("%s: index %d out of bounds (%d elements)", viewNames[v.kind], i, len(b)/size)
	}
	return b[i*size : (i+1)*size]
}

func readElem(kind int, b []byte) lua.LValue {
	switch kind {
	case viewU8:
		return Int(int(b[0]))
	case viewU16:
		return Int(int(binary.NativeEndian.Uint16(b)))
	case viewU32:
		return Int(int(binary.NativeEndian.Uint32(b)))
	case viewI32:
		return Int(int(int32(binary.NativeEndian.Uint32(b))))
	case viewU64:
		return lua.LNumber(binary.NativeEndian.Uint64(b))
	case viewI64:
		return Int(int(int64(binary.NativeEndian.Uint64(b))))
	}
	return lua.LNil
}

func writeElem(L *lua.LState, kind int, b []byte, n int) {
	x := L.CheckNumber(n)
	switch kind {
	case viewU8:
		b[0] = byte(int64(x))
	case viewU16:
		binary.NativeEndian.PutUint16(b, uint16(int64(x)))
	case viewU32, viewI32:
		binary.NativeEndian.PutUint32(b, uint32(int64(x)))
	case viewU64:
		binary.NativeEndian.PutUint64(b, uint64(x))
	case viewI64:
		binary.NativeEndian.PutUint64(b, uint64(int64(x)))
	}
}

// readTimespec reads a struct timespec (native layout).
func readTimespec(b []byte) unix.Timespec {
	return unix.Timespec{
		Sec:  int64(binary.NativeEndian.Uint64(b[0:8])),
		Nsec: int64(binary.NativeEndian.Uint64(b[8:16])),
	}
}

// field reads a field of a struct view.
func (st *state) field(L *lua.LState, v *view, k string) lua.LValue {
	b := v.p.mustWindow(L)
	if len(b) < structSize[v.kind] {
		L.RaiseError("%s: %d bytes needed, the pointer has %d", viewNames[v.kind], structSize[v.kind], len(b))
	}
	u32 := func(off int) lua.LValue { return Int(int(binary.NativeEndian.Uint32(b[off:]))) }
	switch v.kind {
	case viewSCMTimestamping:
		if k == "ts" {
			return st.viewOf(L, v.p, viewTsArray)
		}
	case viewSockExtendedErr:
		switch k {
		case "ee_errno":
			return u32(0)
		case "ee_origin":
			return Int(int(b[4]))
		case "ee_type":
			return Int(int(b[5]))
		case "ee_code":
			return Int(int(b[6]))
		case "ee_pad":
			return Int(int(b[7]))
		case "ee_info":
			return u32(8)
		case "ee_data":
			return u32(12)
		}
	case viewInPktinfo:
		switch k {
		case "ipi_ifindex":
			return Int(int(int32(binary.NativeEndian.Uint32(b[0:]))))
		case "ipi_spec_dst":
			return st.newUD(L, tInAddr, newInAddrVal([4]byte(b[4:8])))
		case "ipi_addr":
			return st.newUD(L, tInAddr, newInAddrVal([4]byte(b[8:12])))
		}
	case viewIn6Pktinfo:
		switch k {
		case "ipi6_addr":
			return st.newUD(L, tIn6Addr, newIn6AddrVal([16]byte(b[0:16])))
		case "ipi6_ifindex":
			return u32(16)
		}
	}
	L.RaiseError("%s has no field %q", viewNames[v.kind], k)
	return lua.LNil
}

func (st *state) initPtrTypes(L *lua.LState) {
	methods := map[string]func(*state, *lua.LState) int{
		// p:string([len]): the bytes as a Lua string.
		"string": func(st *state, L *lua.LState) int {
			p := checkPtr(L, 1)
			b := p.mustWindow(L)
			n := optIntArg(L, 2, len(b))
			if n < 0 || n > len(b) {
				L.RaiseError("length %d out of bounds (%d bytes)", n, len(b))
			}
			L.Push(lua.LString(b[:n]))
			return 1
		},
		// p:copy(s[, len]): copies s into the memory, returns the bytes copied.
		"copy": func(st *state, L *lua.LState) int {
			p := checkPtr(L, 1)
			src := dataArg(L, 2)
			n := optIntArg(L, 3, len(src))
			if n < 0 || n > len(src) {
				L.RaiseError("length %d out of bounds (%d bytes given)", n, len(src))
			}
			b := p.mustWindow(L)
			if n > len(b) {
				L.RaiseError("copy of %d bytes past the end of a %d-byte buffer", n, len(b))
			}
			copy(b, src[:n])
			L.Push(Int(n))
			return 1
		},
	}
	mtab := L.NewTable()
	for name, f := range methods {
		mtab.RawSetString(name, st.fn(f))
	}
	st.setMeta(st.mt[tPtr], map[string]func(*state, *lua.LState) int{
		"__index": func(st *state, L *lua.LState) int {
			p := checkPtr(L, 1)
			switch k := L.Get(2).(type) {
			case lua.LNumber:
				b := p.mustWindow(L)
				i := int(k)
				if i < 0 || i >= len(b) {
					L.RaiseError("index %d out of bounds (%d bytes)", i, len(b))
				}
				L.Push(Int(int(b[i])))
			case lua.LString:
				m := mtab.RawGetString(string(k))
				if m == lua.LNil {
					L.RaiseError("pointer has no field %q", string(k))
				}
				L.Push(m)
			default:
				L.RaiseError("pointer index must be a number")
			}
			return 1
		},
		"__newindex": func(st *state, L *lua.LState) int {
			b := checkPtr(L, 1).mustWindow(L)
			i := L.CheckInt(2)
			if i < 0 || i >= len(b) {
				L.RaiseError("index %d out of bounds (%d bytes)", i, len(b))
			}
			b[i] = byte(int64(L.CheckNumber(3)))
			return 0
		},
		"__len": func(st *state, L *lua.LState) int {
			L.Push(Int(len(checkPtr(L, 1).mustWindow(L))))
			return 1
		},
		"__add": func(st *state, L *lua.LState) int {
			pv, nv := L.Get(1), L.Get(2)
			p := toPtr(pv)
			if p == nil {
				pv, nv = nv, pv
				p = toPtr(pv)
			}
			d, ok := nv.(lua.LNumber)
			if p == nil || !ok {
				L.RaiseError("pointer arithmetic needs a pointer and a number")
			}
			b := p.mustWindow(L)
			if int(d) < 0 || int(d) > len(b) {
				L.RaiseError("pointer + %d is out of bounds (%d bytes)", int(d), len(b))
			}
			q := ptrVal{mem: p.mem, off: p.off + int(d), lim: p.lim}
			if q.lim >= 0 {
				q.lim -= int(d)
			}
			L.Push(st.newPtrUD(L, pv, q))
			return 1
		},
		"__eq": func(st *state, L *lua.LState) int {
			a, b := toPtr(L.Get(1)), toPtr(L.Get(2))
			L.Push(lua.LBool(a != nil && b != nil && a.mem == b.mem && a.off == b.off))
			return 1
		},
		"__tostring": func(st *state, L *lua.LState) int {
			b, err := checkPtr(L, 1).window()
			if err != nil {
				L.Push(lua.LString("pointer: " + err.Error()))
			} else {
				L.Push(lua.LString(fmt.Sprintf("pointer: %d bytes", len(b))))
			}
			return 1
		},
	})
	st.setMeta(st.mt[tView], map[string]func(*state, *lua.LState) int{
		"__index": func(st *state, L *lua.LState) int {
			v := checkUD[*view](L, 1, "view")
			if elemSize[v.kind] > 0 {
				i := L.CheckInt(2)
				b := v.elem(L, i)
				if v.kind == viewTsArray {
					L.Push(st.newUD(L, tTimespec, &timespec{readTimespec(b)}))
				} else {
					L.Push(readElem(v.kind, b))
				}
				return 1
			}
			L.Push(st.field(L, v, L.CheckString(2)))
			return 1
		},
		"__newindex": func(st *state, L *lua.LState) int {
			v := checkUD[*view](L, 1, "view")
			if elemSize[v.kind] == 0 || v.kind == viewTsArray {
				L.RaiseError("%s is read-only", viewNames[v.kind])
			}
			writeElem(L, v.kind, v.elem(L, L.CheckInt(2)), 3)
			return 0
		},
		"__len": func(st *state, L *lua.LState) int {
			v := checkUD[*view](L, 1, "view")
			b := v.p.mustWindow(L)
			if s := elemSize[v.kind]; s > 0 {
				L.Push(Int(len(b) / s))
			} else {
				L.Push(Int(structSize[v.kind]))
			}
			return 1
		},
		"__tostring": func(st *state, L *lua.LState) int {
			v := checkUD[*view](L, 1, "view")
			L.Push(lua.LString(viewNames[v.kind]))
			return 1
		},
	})
}

// dataArg reads bytes to send: a string (not copied: the kernel only
// reads it) or a pointer.
func dataArg(L *lua.LState, n int) []byte {
	switch v := L.Get(n).(type) {
	case lua.LString:
		return unsafe.Slice(unsafe.StringData(string(v)), len(v))
	default:
		if p := toPtr(v); p != nil {
			return p.mustWindow(L)
		}
	}
	L.ArgError(n, "string or buffer expected, got "+typeName(L.Get(n)))
	return nil
}

// bufArg reads a buffer to receive into: a pointer (a string is
// immutable).
func bufArg(L *lua.LState, n int) []byte {
	if p := toPtr(L.Get(n)); p != nil {
		return p.mustWindow(L)
	}
	L.ArgError(n, "buffer expected, got "+typeName(L.Get(n)))
	return nil
}

// lenArg reads the optional length argument n for buffer b: it must fit.
func lenArg(L *lua.LState, n int, b []byte) []byte {
	if L.Get(n) == lua.LNil {
		return b
	}
	c := intArg(L, n)
	if c < 0 || c > len(b) {
		L.RaiseError("length %d out of bounds: the buffer has %d bytes", c, len(b))
	}
	return b[:c]
}
