package lsys

import (
	"encoding/binary"
	"math"
	"reflect"
	"strings"
	"unsafe"

	lua "github.com/yuin/gopher-lua"
	"golang.org/x/sys/unix"
)

// getsockopt(fd, level, name[, len]) → the option's value: an integer for
// integer options; a string for SO_BINDTODEVICE, TCP_CONGESTION, TCP_ULP; a
// table for TCP_INFO (tcpi_* fields), SO_LINGER (l_onoff, l_linger),
// SO_PEERCRED (pid, uid, gid); a timeval for SO_RCVTIMEO/SO_SNDTIMEO; a
// 64-bit number for SO_MAX_PACING_RATE and SO_COOKIE. With len, the raw
// bytes (at most len) as a string, for any option.
func wGetsockopt(st *state, L *lua.LState) int {
	fd := fdArg(L, 1)
	level := flagArg(L, 2, grpSOL)
	name := flagArg(L, 3, optGroup(level))
	if L.Get(4) != lua.LNil {
		n := intArg(L, 4)
		if n < 0 || n > 1<<16 {
			L.ArgError(4, "length out of range")
		}
		b := make([]byte, n)
		l := uint32(n)
		_, _, e := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(fd), uintptr(level), uintptr(name),
			uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(unsafe.Pointer(&l)), 0)
		if e != 0 {
			return st.pushErr(L, e)
		}
		L.Push(lua.LString(b[:min(int(l), n)]))
		return 1
	}
	switch [2]int{level, name} {
	case [2]int{unix.SOL_TCP, unix.TCP_INFO}:
		return getTCPInfo(st, L, fd)
	case [2]int{unix.SOL_TCP, unix.TCP_CONGESTION}, [2]int{unix.SOL_TCP, unix.TCP_ULP},
		[2]int{unix.SOL_SOCKET, unix.SO_BINDTODEVICE}:
		s, err := unix.GetsockoptString(fd, level, name)
		if err != nil {
			return st.pushErr(L, err)
		}
		L.Push(lua.LString(s))
		return 1
	case [2]int{unix.SOL_SOCKET, unix.SO_LINGER}:
		l, err := unix.GetsockoptLinger(fd, level, name)
		if err != nil {
			return st.pushErr(L, err)
		}
		t := L.NewTable()
		t.RawSetString("l_onoff", Int(int(l.Onoff)))
		t.RawSetString("l_linger", Int(int(l.Linger)))
		L.Push(t)
		return 1
	case [2]int{unix.SOL_SOCKET, unix.SO_PEERCRED}:
		c, err := unix.GetsockoptUcred(fd, level, name)
		if err != nil {
			return st.pushErr(L, err)
		}
		t := L.NewTable()
		t.RawSetString("pid", Int(int(c.Pid)))
		t.RawSetString("uid", Int(int(c.Uid)))
		t.RawSetString("gid", Int(int(c.Gid)))
		L.Push(t)
		return 1
	case [2]int{unix.SOL_SOCKET, unix.SO_RCVTIMEO}, [2]int{unix.SOL_SOCKET, unix.SO_SNDTIMEO}:
		tv, err := unix.GetsockoptTimeval(fd, level, name)
		if err != nil {
			return st.pushErr(L, err)
		}
		L.Push(st.newUD(L, tTimeval, &timeval{*tv}))
		return 1
	case [2]int{unix.SOL_SOCKET, unix.SO_MAX_PACING_RATE}, [2]int{unix.SOL_SOCKET, unix.SO_COOKIE},
		[2]int{unix.SOL_SOCKET, unix.SO_NETNS_COOKIE}:
		v, err := unix.GetsockoptUint64(fd, level, name)
		if err != nil {
			return st.pushErr(L, err)
		}
		L.Push(lua.LNumber(v))
		return 1
	}
	v, err := unix.GetsockoptInt(fd, level, name)
	return st.retInt(L, v, err)
}

// tcpInfoField is a field of struct tcp_info, from x/sys's TCPInfo.
type tcpInfoField struct {
	name string // "tcpi_rtt"
	off  uintptr
	size uintptr
}

var tcpInfoFields = func() []tcpInfoField {
	var fs []tcpInfoField
	t := reflect.TypeFor[unix.TCPInfo]()
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Name == "_" {
			continue
		}
		fs = append(fs, tcpInfoField{"tcpi_" + strings.ToLower(f.Name), f.Offset, f.Type.Size()})
	}
	return fs
}()

// getTCPInfo pushes TCP_INFO as a table of the fields the kernel filled,
// plus the bit fields x/sys leaves out (tcpi_snd_wscale, tcpi_rcv_wscale,
// tcpi_delivery_rate_app_limited, tcpi_fastopen_client_fail).
func getTCPInfo(st *state, L *lua.LState, fd int) int {
	var info unix.TCPInfo
	l := uint32(unsafe.Sizeof(info))
	_, _, e := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(fd), unix.SOL_TCP, unix.TCP_INFO,
		uintptr(unsafe.Pointer(&info)), uintptr(unsafe.Pointer(&l)), 0)
	if e != 0 {
		return st.pushErr(L, e)
	}
	raw := unsafe.Slice((*byte)(unsafe.Pointer(&info)), unsafe.Sizeof(info))
	t := L.NewTable()
	for _, f := range tcpInfoFields {
		if f.off+f.size > uintptr(l) {
			break
		}
		b := raw[f.off : f.off+f.size]
		var v lua.LValue
		switch f.size {
		case 1:
			v = Int(int(b[0]))
		case 2:
			v = Int(int(binary.NativeEndian.Uint16(b)))
		case 4:
			v = Int(int(binary.NativeEndian.Uint32(b)))
		case 8:
			v = lua.LNumber(binary.NativeEndian.Uint64(b))
		default:
			continue
		}
		t.RawSetString(f.name, v)
	}
	if l >= 8 {
		t.RawSetString("tcpi_snd_wscale", Int(int(raw[6]&0xf)))
		t.RawSetString("tcpi_rcv_wscale", Int(int(raw[6]>>4)))
		t.RawSetString("tcpi_delivery_rate_app_limited", Int(int(raw[7]&1)))
		t.RawSetString("tcpi_fastopen_client_fail", Int(int(raw[7]>>1&3)))
	}
	L.Push(t)
	return 1
}

// setsockopt(fd, level, name, value[, len]) → true. value is a number or
// a boolean (a C int; a number beyond 32 bits goes as 64 bits, as
// SO_MAX_PACING_RATE takes it; with len 8, always 64 bits), a string (its
// bytes, the first len if given), a bpf_prog or a table of instructions
// (SO_ATTACH_FILTER, SO_ATTACH_REUSEPORT_CBPF), a table {l_onoff=,
// l_linger=} (SO_LINGER), or a typed value passed as its bytes (timeval,
// timespec, in_addr, in6_addr, sockaddr, buffer). For SO_RCVTIMEO and
// SO_SNDTIMEO a number is seconds.
func wSetsockopt(st *state, L *lua.LState) int {
	fd := fdArg(L, 1)
	level := flagArg(L, 2, grpSOL)
	name := flagArg(L, 3, optGroup(level))
	isFilter := level == unix.SOL_SOCKET && (name == unix.SO_ATTACH_FILTER || name == unix.SO_ATTACH_REUSEPORT_CBPF)
	isTimeo := level == unix.SOL_SOCKET && (name == unix.SO_RCVTIMEO || name == unix.SO_SNDTIMEO)

	var b []byte
	switch v := L.Get(4).(type) {
	case lua.LBool, lua.LNumber:
		if _, isNum := v.(lua.LNumber); isNum && isTimeo {
			s, ns := timeArg(L, 4)
			tv := unix.Timeval{Sec: s, Usec: ns / 1000}
			return st.retBool(L, unix.SetsockoptTimeval(fd, level, name, &tv))
		}
		b = intOptBytes(L, v)
	case lua.LString:
		b = []byte(string(v))
	case *lua.LTable:
		switch {
		case isFilter:
			prog := progFromTable(L, v, 4)
			return st.retBool(L, prog.attach(fd, level, name))
		case level == unix.SOL_SOCKET && name == unix.SO_LINGER:
			l := unix.Linger{
				Onoff:  int32(lua.LVAsNumber(L.GetField(v, "l_onoff"))),
				Linger: int32(lua.LVAsNumber(L.GetField(v, "l_linger"))),
			}
			return st.retBool(L, unix.SetsockoptLinger(fd, level, name, &l))
		default:
			L.ArgError(4, "a table is a value only for SO_LINGER and the filter options")
		}
	case *lua.LUserData:
		switch x := v.Value.(type) {
		case *bpfProg:
			if !isFilter {
				L.ArgError(4, "a bpf_prog goes with SO_ATTACH_FILTER or SO_ATTACH_REUSEPORT_CBPF")
			}
			return st.retBool(L, x.attach(fd, level, name))
		case *timeval:
			b = unsafe.Slice((*byte)(unsafe.Pointer(&x.tv)), unsafe.Sizeof(x.tv))
		case *timespec:
			b = unsafe.Slice((*byte)(unsafe.Pointer(&x.ts)), unsafe.Sizeof(x.ts))
		case *inAddr:
			b = x.b[:]
		case *in6Addr:
			b = x.b[:]
		case *sockaddr:
			b = x.bytes()
		default:
			if p := toPtr(v); p != nil {
				b = p.mustWindow(L)
			} else {
				L.ArgError(4, "no option value can be made of a "+typeName(v))
			}
		}
	default:
		L.ArgError(4, "option value expected, got "+typeName(v))
	}
	if _, isNum := L.Get(4).(lua.LNumber); !isNum {
		if _, isBool := L.Get(4).(lua.LBool); !isBool {
			b = lenArg(L, 5, b)
		}
	}
	_, _, e := unix.Syscall6(unix.SYS_SETSOCKOPT, uintptr(fd), uintptr(level), uintptr(name),
		uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)), 0)
	return st.retBool(L, errnoOf(e))
}

// intOptBytes encodes a number or boolean option value: a C int, or 64
// bits when the number does not fit 32 bits or the length argument is 8.
func intOptBytes(L *lua.LState, v lua.LValue) []byte {
	var x int64
	switch v := v.(type) {
	case lua.LBool:
		if v {
			x = 1
		}
	case lua.LNumber:
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			L.ArgError(4, "option value out of range")
		}
		x = int64(v)
	}
	size := 4
	if x < math.MinInt32 || x > math.MaxUint32 {
		size = 8
	}
	if L.Get(5) != lua.LNil {
		switch n := intArg(L, 5); n {
		case 4, 8:
			size = n
		default:
			L.ArgError(5, "a number option has length 4 or 8")
		}
	}
	b := make([]byte, size)
	if size == 8 {
		binary.NativeEndian.PutUint64(b, uint64(x))
	} else {
		binary.NativeEndian.PutUint32(b, uint32(x))
	}
	return b
}
