package lsys

import (
	"encoding/binary"
	"fmt"
	"math"
	"net/netip"
	"unsafe"

	lua "github.com/yuin/gopher-lua"
	"golang.org/x/sys/unix"
)

type typeCtor struct {
	name   string // under S.types.t
	global string // the global, "" for none
	fn     func(*state, *lua.LState) int
}

var typeCtors []typeCtor

var ptrCtors []typeCtor

func init() {
	typeCtors = []typeCtor{
		{"in_addr", "in_addr", newInAddr},
		{"in6_addr", "in6_addr", newIn6Addr},
		{"sockaddr_in", "sockaddr_in", newSockaddrIn},
		{"sockaddr_in6", "sockaddr_in6", newSockaddrIn6},
		{"sockaddr_storage", "sockaddr_storage", newSockaddrStorage},
		{"timespec", "timespec", newTimespec},
		{"timeval", "timeval", newTimeval},
		{"error", "", newError},
		{"buffer", "buffer", newBuffer},
		{"sock_filter", "sock_filter", newSockFilter},
		{"bpf_prog", "bpf_prog", newBPFProg},
		{"sock_fprog", "", newBPFProg},
	}
	ptrCtors = []typeCtor{
		{name: "uint8", fn: viewCtor(viewU8)},
		{name: "uint16", fn: viewCtor(viewU16)},
		{name: "uint32", fn: viewCtor(viewU32)},
		{name: "int32", fn: viewCtor(viewI32)},
		{name: "uint64", fn: viewCtor(viewU64)},
		{name: "int64", fn: viewCtor(viewI64)},
		{name: "scm_timestamping", fn: viewCtor(viewSCMTimestamping)},
		{name: "sock_extended_err", fn: viewCtor(viewSockExtendedErr)},
		{name: "in_pktinfo", fn: viewCtor(viewInPktinfo)},
		{name: "in6_pktinfo", fn: viewCtor(viewIn6Pktinfo)},
	}
}

// typeSizes are S.types.s: the C sizes of the types.
var typeSizes = []konst{
	{"in_addr", 4},
	{"in6_addr", 16},
	{"sockaddr_in", unix.SizeofSockaddrInet4},
	{"sockaddr_in6", unix.SizeofSockaddrInet6},
	{"sockaddr_storage", sockaddrSize},
	{"timespec", int(unsafe.Sizeof(unix.Timespec{}))},
	{"timeval", int(unsafe.Sizeof(unix.Timeval{}))},
	{"int", 4},
	{"uint32", 4},
	{"uint64", 8},
	{"cmsghdr", unix.SizeofCmsghdr},
	{"scm_timestamping", 3 * int(unsafe.Sizeof(unix.Timespec{}))},
	{"sock_extended_err", 16},
	{"in_pktinfo", unix.SizeofInet4Pktinfo},
	{"in6_pktinfo", unix.SizeofInet6Pktinfo},
	{"sock_filter", unix.SizeofSockFilter},
	{"tcp_info", unix.SizeofTCPInfo},
}

// --- in_addr ---

// inAddr is a struct in_addr: its own bytes, or a sockaddr's.
type inAddr struct {
	b   *[4]byte
	own [4]byte
}

func newInAddrVal(a [4]byte) *inAddr {
	v := &inAddr{own: a}
	v.b = &v.own
	return v
}

// CopyTo implements the engine's cross-state copy (a detached copy).
func (a *inAddr) CopyTo(to *lua.LState) lua.LValue { return udTo(to, tInAddr, newInAddrVal(*a.b)) }

func (a *inAddr) String() string { return netip.AddrFrom4(*a.b).String() }

// sAddr is s_addr as C reads it: the address bytes (network order) read
// as a native integer, so that comparisons between addresses work.
func (a *inAddr) sAddr() uint32 { return binary.NativeEndian.Uint32(a.b[:]) }

func parseIn4(s string) ([4]byte, error) {
	switch s {
	case "any", "":
		return [4]byte{}, nil
	case "loopback", "localhost":
		return [4]byte{127, 0, 0, 1}, nil
	case "broadcast":
		return [4]byte{255, 255, 255, 255}, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is4() {
		return [4]byte{}, fmt.Errorf("invalid IPv4 address %q", s)
	}
	return a.As4(), nil
}

// in4Arg reads an IPv4 address argument: nil (any), a string, an in_addr
// or a number (an s_addr).
func in4Arg(L *lua.LState, n int) [4]byte {
	switch v := L.Get(n).(type) {
	case *lua.LNilType:
		return [4]byte{}
	case lua.LString:
		a, err := parseIn4(string(v))
		if err != nil {
			L.ArgError(n, err.Error())
		}
		return a
	case lua.LNumber:
		var a [4]byte
		binary.NativeEndian.PutUint32(a[:], uint32(int64(v)))
		return a
	case *lua.LUserData:
		if a, ok := v.Value.(*inAddr); ok {
			return *a.b
		}
	}
	L.ArgError(n, "IPv4 address (string or in_addr) expected, got "+typeName(L.Get(n)))
	return [4]byte{}
}

func newInAddr(st *state, L *lua.LState) int {
	L.Push(st.newUD(L, tInAddr, newInAddrVal(in4Arg(L, 1))))
	return 1
}

// --- in6_addr ---

type in6Addr struct {
	b   *[16]byte
	own [16]byte
}

func newIn6AddrVal(a [16]byte) *in6Addr {
	v := &in6Addr{own: a}
	v.b = &v.own
	return v
}

// CopyTo implements the engine's cross-state copy (a detached copy).
func (a *in6Addr) CopyTo(to *lua.LState) lua.LValue {
	return udTo(to, tIn6Addr, newIn6AddrVal(*a.b))
}

func (a *in6Addr) String() string { return netip.AddrFrom16(*a.b).String() }

func parseIn6(s string) ([16]byte, error) {
	switch s {
	case "any", "":
		return [16]byte{}, nil
	case "loopback", "localhost":
		return netip.IPv6Loopback().As16(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is6() {
		return [16]byte{}, fmt.Errorf("invalid IPv6 address %q", s)
	}
	return a.As16(), nil
}

func in6Arg(L *lua.LState, n int) [16]byte {
	switch v := L.Get(n).(type) {
	case *lua.LNilType:
		return [16]byte{}
	case lua.LString:
		a, err := parseIn6(string(v))
		if err != nil {
			L.ArgError(n, err.Error())
		}
		return a
	case *lua.LUserData:
		if a, ok := v.Value.(*in6Addr); ok {
			return *a.b
		}
	}
	L.ArgError(n, "IPv6 address (string or in6_addr) expected, got "+typeName(L.Get(n)))
	return [16]byte{}
}

func newIn6Addr(st *state, L *lua.LState) int {
	L.Push(st.newUD(L, tIn6Addr, newIn6AddrVal(in6Arg(L, 1))))
	return 1
}

func (st *state) initAddrTypes(L *lua.LState) {
	st.setMeta(st.mt[tInAddr], map[string]func(*state, *lua.LState) int{
		"__index": func(st *state, L *lua.LState) int {
			a := checkUD[*inAddr](L, 1, "in_addr")
			switch k := L.CheckString(2); k {
			case "s_addr":
				L.Push(lua.LNumber(a.sAddr()))
			default:
				L.RaiseError("in_addr has no field %q", k)
			}
			return 1
		},
		"__newindex": func(st *state, L *lua.LState) int {
			a := checkUD[*inAddr](L, 1, "in_addr")
			switch k := L.CheckString(2); k {
			case "s_addr":
				binary.NativeEndian.PutUint32(a.b[:], uint32(int64(L.CheckNumber(3))))
			default:
				L.RaiseError("in_addr has no field %q", k)
			}
			return 0
		},
		"__tostring": func(st *state, L *lua.LState) int {
			L.Push(lua.LString(checkUD[*inAddr](L, 1, "in_addr").String()))
			return 1
		},
		"__eq": func(st *state, L *lua.LState) int {
			a := checkUD[*inAddr](L, 1, "in_addr")
			b := checkUD[*inAddr](L, 2, "in_addr")
			L.Push(lua.LBool(*a.b == *b.b))
			return 1
		},
		"__len": func(st *state, L *lua.LState) int {
			L.Push(Int(4))
			return 1
		},
	})
	st.setMeta(st.mt[tIn6Addr], map[string]func(*state, *lua.LState) int{
		"__index": func(st *state, L *lua.LState) int {
			a := checkUD[*in6Addr](L, 1, "in6_addr")
			switch k := L.CheckString(2); k {
			case "s6_addr":
				L.Push(lua.LString(a.b[:]))
			default:
				L.RaiseError("in6_addr has no field %q", k)
			}
			return 1
		},
		"__newindex": func(st *state, L *lua.LState) int {
			L.RaiseError("in6_addr: field %s is read-only", L.Get(2).String())
			return 0
		},
		"__tostring": func(st *state, L *lua.LState) int {
			L.Push(lua.LString(checkUD[*in6Addr](L, 1, "in6_addr").String()))
			return 1
		},
		"__eq": func(st *state, L *lua.LState) int {
			a := checkUD[*in6Addr](L, 1, "in6_addr")
			b := checkUD[*in6Addr](L, 2, "in6_addr")
			L.Push(lua.LBool(*a.b == *b.b))
			return 1
		},
		"__len": func(st *state, L *lua.LState) int {
			L.Push(Int(16))
			return 1
		},
	})
	st.initSockaddrType()
}

// --- sockaddr ---

const sockaddrSize = 128 // sizeof(struct sockaddr_storage)

// Constructor a sockaddr object came from; only its name depends on it.
const (
	kindStorage = iota
	kindIn
	kindIn6
)

// sockaddr is a sockaddr_in, sockaddr_in6 or sockaddr_storage: the bytes
// of a struct sockaddr_storage and the length in use. Its fields follow
// the family the bytes hold, so one object can receive either family.
type sockaddr struct {
	raw  [sockaddrSize]byte
	n    uint32 // length in use; the kernel's for a filled object
	kind int
	// The address fields, aliasing raw, made on first use.
	v4, v6 *lua.LUserData
}

// CopyTo implements the engine's cross-state copy.
func (sa *sockaddr) CopyTo(to *lua.LState) lua.LValue {
	return udTo(to, tSockaddr, &sockaddr{raw: sa.raw, n: sa.n, kind: sa.kind})
}

func (sa *sockaddr) family() int { return int(binary.NativeEndian.Uint16(sa.raw[0:2])) }

func (sa *sockaddr) port() int {
	switch sa.family() {
	case unix.AF_INET, unix.AF_INET6:
		return int(binary.BigEndian.Uint16(sa.raw[2:4]))
	}
	return 0
}

func (sa *sockaddr) setFamily(f int) {
	if sa.family() != f {
		clear(sa.raw[:])
		binary.NativeEndian.PutUint16(sa.raw[0:2], uint16(f))
	}
	switch f {
	case unix.AF_INET:
		sa.n = unix.SizeofSockaddrInet4
	case unix.AF_INET6:
		sa.n = unix.SizeofSockaddrInet6
	}
}

func (sa *sockaddr) setPort(p int) { binary.BigEndian.PutUint16(sa.raw[2:4], uint16(p)) }

func (sa *sockaddr) in4() *[4]byte  { return (*[4]byte)(sa.raw[4:8]) }
func (sa *sockaddr) in6() *[16]byte { return (*[16]byte)(sa.raw[8:24]) }

func (sa *sockaddr) addrPort() (netip.AddrPort, bool) {
	switch sa.family() {
	case unix.AF_INET:
		return netip.AddrPortFrom(netip.AddrFrom4(*sa.in4()), uint16(sa.port())), true
	case unix.AF_INET6:
		a := netip.AddrFrom16(*sa.in6())
		if id := binary.NativeEndian.Uint32(sa.raw[24:28]); id != 0 {
			a = a.WithZone(fmt.Sprint(id))
		}
		return netip.AddrPortFrom(a, uint16(sa.port())), true
	}
	return netip.AddrPort{}, false
}

func (sa *sockaddr) String() string {
	if ap, ok := sa.addrPort(); ok {
		return ap.String()
	}
	return fmt.Sprintf("sockaddr(family %d)", sa.family())
}

// bytes is what bind, connect and sendto pass to the kernel.
func (sa *sockaddr) bytes() []byte {
	n := sa.n
	if n == 0 || n > sockaddrSize {
		n = sockaddrSize
	}
	return sa.raw[:n]
}

func sockaddrFromAddrPort(family int, ap netip.AddrPort) *sockaddr {
	sa := &sockaddr{}
	a := ap.Addr()
	if family == unix.AF_INET6 || (family != unix.AF_INET && a.Is6() && !a.Is4In6()) {
		sa.kind = kindIn6
		sa.setFamily(unix.AF_INET6)
		*sa.in6() = a.As16()
	} else {
		sa.kind = kindIn
		sa.setFamily(unix.AF_INET)
		if a.IsValid() {
			*sa.in4() = a.Unmap().As4()
		}
	}
	sa.setPort(int(ap.Port()))
	return sa
}

// sockaddr_in([port[, addr]])
func newSockaddrIn(st *state, L *lua.LState) int {
	sa := &sockaddr{kind: kindIn}
	sa.setFamily(unix.AF_INET)
	sa.setPort(optIntArg(L, 1, 0))
	*sa.in4() = in4Arg(L, 2)
	L.Push(st.newUD(L, tSockaddr, sa))
	return 1
}

// sockaddr_in6([port[, addr[, flowinfo[, scope_id]]]])
func newSockaddrIn6(st *state, L *lua.LState) int {
	sa := &sockaddr{kind: kindIn6}
	sa.setFamily(unix.AF_INET6)
	sa.setPort(optIntArg(L, 1, 0))
	*sa.in6() = in6Arg(L, 2)
	binary.BigEndian.PutUint32(sa.raw[4:8], uint32(optIntArg(L, 3, 0)))
	binary.NativeEndian.PutUint32(sa.raw[24:28], uint32(optIntArg(L, 4, 0)))
	L.Push(st.newUD(L, tSockaddr, sa))
	return 1
}

// sockaddr_storage([sa]) — empty (family AF_UNSPEC), or a copy of sa.
func newSockaddrStorage(st *state, L *lua.LState) int {
	sa := &sockaddr{kind: kindStorage, n: sockaddrSize}
	if L.Get(1) != lua.LNil {
		o := checkUD[*sockaddr](L, 1, "sockaddr")
		sa.raw, sa.n = o.raw, o.n
	}
	L.Push(st.newUD(L, tSockaddr, sa))
	return 1
}

// sockaddrArg reads a sockaddr argument; false or nil give nil.
func sockaddrArg(L *lua.LState, n int) *sockaddr {
	switch v := L.Get(n).(type) {
	case *lua.LNilType:
		return nil
	case lua.LBool:
		if !v {
			return nil
		}
	}
	return checkUD[*sockaddr](L, n, "sockaddr")
}

func (st *state) initSockaddrType() {
	st.setMeta(st.mt[tSockaddr], map[string]func(*state, *lua.LState) int{
		"__index": func(st *state, L *lua.LState) int {
			sa := checkUD[*sockaddr](L, 1, "sockaddr")
			switch k := L.CheckString(2); k {
			case "family", "sa_family", "sin_family", "sin6_family", "ss_family":
				L.Push(Int(sa.family()))
			case "port", "sin_port", "sin6_port":
				L.Push(Int(sa.port()))
			case "addr", "sin_addr", "sin6_addr":
				switch sa.family() {
				case unix.AF_INET:
					if sa.v4 == nil {
						sa.v4 = st.newUD(L, tInAddr, &inAddr{b: sa.in4()})
					}
					L.Push(sa.v4)
				case unix.AF_INET6:
					if sa.v6 == nil {
						sa.v6 = st.newUD(L, tIn6Addr, &in6Addr{b: sa.in6()})
					}
					L.Push(sa.v6)
				default:
					L.Push(lua.LNil)
				}
			case "address":
				if ap, ok := sa.addrPort(); ok {
					L.Push(lua.LString(ap.Addr().String()))
				} else {
					L.Push(lua.LNil)
				}
			case "flowinfo", "sin6_flowinfo":
				L.Push(lua.LNumber(binary.BigEndian.Uint32(sa.raw[4:8])))
			case "scope_id", "sin6_scope_id":
				L.Push(lua.LNumber(binary.NativeEndian.Uint32(sa.raw[24:28])))
			default:
				L.RaiseError("sockaddr has no field %q", k)
			}
			return 1
		},
		"__newindex": func(st *state, L *lua.LState) int {
			sa := checkUD[*sockaddr](L, 1, "sockaddr")
			switch k := L.CheckString(2); k {
			case "family", "sa_family", "sin_family", "sin6_family", "ss_family":
				sa.setFamily(intArg(L, 3))
			case "port", "sin_port", "sin6_port":
				sa.setPort(intArg(L, 3))
			case "addr", "sin_addr", "sin6_addr":
				f := sa.family()
				if ud, ok := L.Get(3).(*lua.LUserData); ok {
					switch ud.Value.(type) {
					case *inAddr:
						f = unix.AF_INET
					case *in6Addr:
						f = unix.AF_INET6
					}
				}
				switch f {
				case unix.AF_INET:
					a := in4Arg(L, 3)
					sa.setFamily(f)
					*sa.in4() = a
				case unix.AF_INET6:
					a := in6Arg(L, 3)
					sa.setFamily(f)
					*sa.in6() = a
				default:
					L.RaiseError("sockaddr: set the family before a string address")
				}
			case "flowinfo", "sin6_flowinfo":
				binary.BigEndian.PutUint32(sa.raw[4:8], uint32(intArg(L, 3)))
			case "scope_id", "sin6_scope_id":
				binary.NativeEndian.PutUint32(sa.raw[24:28], uint32(intArg(L, 3)))
			default:
				L.RaiseError("sockaddr has no field %q", k)
			}
			return 0
		},
		"__tostring": func(st *state, L *lua.LState) int {
			L.Push(lua.LString(checkUD[*sockaddr](L, 1, "sockaddr").String()))
			return 1
		},
		"__eq": func(st *state, L *lua.LState) int {
			a := checkUD[*sockaddr](L, 1, "sockaddr")
			b := checkUD[*sockaddr](L, 2, "sockaddr")
			pa, oka := a.addrPort()
			pb, okb := b.addrPort()
			L.Push(lua.LBool(oka && okb && pa == pb && a.family() == b.family()))
			return 1
		},
		"__len": func(st *state, L *lua.LState) int {
			L.Push(Int(int(checkUD[*sockaddr](L, 1, "sockaddr").n)))
			return 1
		},
	})
}

// --- timespec, timeval ---

type timespec struct{ ts unix.Timespec }

// CopyTo implements the engine's cross-state copy.
func (t *timespec) CopyTo(to *lua.LState) lua.LValue { return udTo(to, tTimespec, &timespec{t.ts}) }

func (t *timespec) time() float64 { return float64(t.ts.Sec) + float64(t.ts.Nsec)/1e9 }

type timeval struct{ tv unix.Timeval }

// CopyTo implements the engine's cross-state copy.
func (t *timeval) CopyTo(to *lua.LState) lua.LValue { return udTo(to, tTimeval, &timeval{t.tv}) }

func (t *timeval) time() float64 { return float64(t.tv.Sec) + float64(t.tv.Usec)/1e6 }

// secNsec splits float seconds.
func secNsec(f float64) (int64, int64) {
	s := math.Floor(f)
	ns := math.Round((f - s) * 1e9)
	if ns >= 1e9 {
		s, ns = s+1, ns-1e9
	}
	return int64(s), int64(ns)
}

// timeArg reads a time argument as seconds and nanoseconds: nil (0), a
// number of seconds, a timespec, a timeval, or a table {sec, nsec} /
// {tv_sec=, tv_nsec=} / {tv_sec=, tv_usec=}.
func timeArg(L *lua.LState, n int) (int64, int64) {
	switch v := L.Get(n).(type) {
	case *lua.LNilType:
		return 0, 0
	case lua.LNumber:
		return secNsec(float64(v))
	case *lua.LUserData:
		switch t := v.Value.(type) {
		case *timespec:
			return t.ts.Sec, t.ts.Nsec
		case *timeval:
			return t.tv.Sec, t.tv.Usec * 1000
		}
	case *lua.LTable:
		num := func(k lua.LValue) int64 {
			if x, ok := v.RawGet(k).(lua.LNumber); ok {
				return int64(x)
			}
			return 0
		}
		if v.RawGetString("tv_usec") != lua.LNil {
			return num(lua.LString("tv_sec")), num(lua.LString("tv_usec")) * 1000
		}
		if v.RawGetString("tv_sec") != lua.LNil || v.RawGetString("tv_nsec") != lua.LNil {
			return num(lua.LString("tv_sec")), num(lua.LString("tv_nsec"))
		}
		return num(lua.LNumber(1)), num(lua.LNumber(2))
	}
	L.ArgError(n, "time (seconds, timespec, timeval or {sec, nsec}) expected, got "+typeName(L.Get(n)))
	return 0, 0
}

func newTimespec(st *state, L *lua.LState) int {
	s, ns := timeArg(L, 1)
	L.Push(st.newUD(L, tTimespec, &timespec{unix.Timespec{Sec: s, Nsec: ns}}))
	return 1
}

func newTimeval(st *state, L *lua.LState) int {
	s, ns := timeArg(L, 1)
	L.Push(st.newUD(L, tTimeval, &timeval{unix.Timeval{Sec: s, Usec: ns / 1000}}))
	return 1
}

func (st *state) initTimeTypes(L *lua.LState) {
	st.setMeta(st.mt[tTimespec], map[string]func(*state, *lua.LState) int{
		"__index": func(st *state, L *lua.LState) int {
			t := checkUD[*timespec](L, 1, "timespec")
			switch k := L.CheckString(2); k {
			case "sec", "tv_sec":
				L.Push(Int(int(t.ts.Sec)))
			case "nsec", "tv_nsec":
				L.Push(Int(int(t.ts.Nsec)))
			case "time":
				L.Push(lua.LNumber(t.time()))
			default:
				L.RaiseError("timespec has no field %q", k)
			}
			return 1
		},
		"__newindex": func(st *state, L *lua.LState) int {
			t := checkUD[*timespec](L, 1, "timespec")
			switch k := L.CheckString(2); k {
			case "sec", "tv_sec":
				t.ts.Sec = int64(L.CheckNumber(3))
			case "nsec", "tv_nsec":
				t.ts.Nsec = int64(L.CheckNumber(3))
			case "time":
				t.ts.Sec, t.ts.Nsec = secNsec(float64(L.CheckNumber(3)))
			default:
				L.RaiseError("timespec has no field %q", k)
			}
			return 0
		},
		"__tostring": func(st *state, L *lua.LState) int {
			L.Push(lua.LString(lua.LNumber(checkUD[*timespec](L, 1, "timespec").time()).String()))
			return 1
		},
		"__eq": func(st *state, L *lua.LState) int {
			a := checkUD[*timespec](L, 1, "timespec")
			b := checkUD[*timespec](L, 2, "timespec")
			L.Push(lua.LBool(a.ts == b.ts))
			return 1
		},
		"__lt": func(st *state, L *lua.LState) int {
			a := checkUD[*timespec](L, 1, "timespec")
			b := checkUD[*timespec](L, 2, "timespec")
			L.Push(lua.LBool(a.ts.Sec < b.ts.Sec || (a.ts.Sec == b.ts.Sec && a.ts.Nsec < b.ts.Nsec)))
			return 1
		},
		"__le": func(st *state, L *lua.LState) int {
			a := checkUD[*timespec](L, 1, "timespec")
			b := checkUD[*timespec](L, 2, "timespec")
			L.Push(lua.LBool(a.ts.Sec < b.ts.Sec || (a.ts.Sec == b.ts.Sec && a.ts.Nsec <= b.ts.Nsec)))
			return 1
		},
	})
	st.setMeta(st.mt[tTimeval], map[string]func(*state, *lua.LState) int{
		"__index": func(st *state, L *lua.LState) int {
			t := checkUD[*timeval](L, 1, "timeval")
			switch k := L.CheckString(2); k {
			case "sec", "tv_sec":
				L.Push(Int(int(t.tv.Sec)))
			case "usec", "tv_usec":
				L.Push(Int(int(t.tv.Usec)))
			case "time":
				L.Push(lua.LNumber(t.time()))
			default:
				L.RaiseError("timeval has no field %q", k)
			}
			return 1
		},
		"__newindex": func(st *state, L *lua.LState) int {
			t := checkUD[*timeval](L, 1, "timeval")
			switch k := L.CheckString(2); k {
			case "sec", "tv_sec":
				t.tv.Sec = int64(L.CheckNumber(3))
			case "usec", "tv_usec":
				t.tv.Usec = int64(L.CheckNumber(3))
			case "time":
				s, ns := secNsec(float64(L.CheckNumber(3)))
				t.tv.Sec, t.tv.Usec = s, ns/1000
			default:
				L.RaiseError("timeval has no field %q", k)
			}
			return 0
		},
		"__tostring": func(st *state, L *lua.LState) int {
			L.Push(lua.LString(lua.LNumber(checkUD[*timeval](L, 1, "timeval").time()).String()))
			return 1
		},
		"__eq": func(st *state, L *lua.LState) int {
			a := checkUD[*timeval](L, 1, "timeval")
			b := checkUD[*timeval](L, 2, "timeval")
			L.Push(lua.LBool(a.tv == b.tv))
			return 1
		},
	})
}
