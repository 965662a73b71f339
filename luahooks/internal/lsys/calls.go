package lsys

import (
	"encoding/binary"
	"math"
	"net"
	"time"
	"unsafe"

	lua "github.com/yuin/gopher-lua"
	"golang.org/x/sys/unix"

	"github.com/hookperf/hookperf/kit"
)

// The syscall wrappers, ljsyscall's way: success returns the result (a
// number, an object, or true), failure returns nil and an error object.
// File descriptors are plain numbers (ljsyscall wraps them in objects).
// Constant arguments take numbers or ljsyscall's names ("inet", "dgram").

type wrapper struct {
	name string
	fn   func(*state, *lua.LState) int
}

var wrappers []wrapper

func init() {
	wrappers = []wrapper{
		{"socket", wSocket},
		{"socketpair", wSocketpair},
		{"bind", wBind},
		{"connect", wConnect},
		{"listen", wListen},
		{"accept", wAccept},
		{"accept4", wAccept4},
		{"close", wClose},
		{"shutdown", wShutdown},
		{"getsockname", wGetsockname},
		{"getpeername", wGetpeername},
		{"getsockopt", wGetsockopt},
		{"setsockopt", wSetsockopt},
		{"read", wRead},
		{"write", wWrite},
		{"recv", wRecv},
		{"recvfrom", wRecvfrom},
		{"recvmsg", wRecvmsg},
		{"send", wSend},
		{"sendto", wSendto},
		{"sendmsg", wSendmsg},
		{"fcntl", wFcntl},
		{"nonblock", wNonblock},
		{"block", wBlock},
		{"getpid", wGetpid},
		{"getppid", func(_ *state, L *lua.LState) int { L.Push(Int(unix.Getppid())); return 1 }},
		{"gettid", func(_ *state, L *lua.LState) int { L.Push(Int(unix.Gettid())); return 1 }},
		{"getuid", func(_ *state, L *lua.LState) int { L.Push(Int(unix.Getuid())); return 1 }},
		{"geteuid", func(_ *state, L *lua.LState) int { L.Push(Int(unix.Geteuid())); return 1 }},
		{"getgid", func(_ *state, L *lua.LState) int { L.Push(Int(unix.Getgid())); return 1 }},
		{"getegid", func(_ *state, L *lua.LState) int { L.Push(Int(unix.Getegid())); return 1 }},
		{"getcpu", wGetcpu},
		{"clock_gettime", wClockGettime},
		{"clock_getres", wClockGetres},
		{"gettimeofday", wGettimeofday},
		{"time", wTime},
		{"nanosleep", wNanosleep},
		{"strerror", func(_ *state, L *lua.LState) int {
			L.Push(lua.LString(unix.Errno(flagArg(L, 1, grpE)).Error()))
			return 1
		}},
		{"if_nametoindex", wIfNametoindex},
		{"htons", func(_ *state, L *lua.LState) int { L.Push(Int(int(swap16(uint16(intArg(L, 1)))))); return 1 }},
		{"ntohs", func(_ *state, L *lua.LState) int { L.Push(Int(int(swap16(uint16(intArg(L, 1)))))); return 1 }},
		{"htonl", func(_ *state, L *lua.LState) int { L.Push(lua.LNumber(swap32(uint32(intArg(L, 1))))); return 1 }},
		{"ntohl", func(_ *state, L *lua.LState) int { L.Push(lua.LNumber(swap32(uint32(intArg(L, 1))))); return 1 }},
	}
}

func fdArg(L *lua.LState, n int) int {
	if v, ok := L.Get(n).(lua.LNumber); ok {
		return int(v)
	}
	L.ArgError(n, "file descriptor (number) expected, got "+typeName(L.Get(n)))
	return -1
}

func errnoOf(e unix.Errno) error {
	if e != 0 {
		return e
	}
	return nil
}

// --- sockets ---

func wSocket(st *state, L *lua.LState) int {
	fd, err := unix.Socket(flagArg(L, 1, grpAF), flagArg(L, 2, grpSOCK), flagArg(L, 3, grpIPPROTO))
	return st.retInt(L, fd, err)
}

// socketpair(domain, type[, protocol]) → true, nil, fd1, fd2
func wSocketpair(st *state, L *lua.LState) int {
	fds, err := unix.Socketpair(flagArg(L, 1, grpAF), flagArg(L, 2, grpSOCK), flagArg(L, 3, grpIPPROTO))
	if err != nil {
		return st.pushErr(L, err)
	}
	L.Push(lua.LTrue)
	L.Push(lua.LNil)
	L.Push(Int(fds[0]))
	L.Push(Int(fds[1]))
	return 4
}

// saLenArg is the sockaddr at n and its length (the optional argument
// n+1, at most the object's size).
func saLenArg(L *lua.LState, n int) (*sockaddr, []byte) {
	sa := checkUD[*sockaddr](L, n, "sockaddr")
	b := sa.bytes()
	if L.Get(n+1) != lua.LNil {
		b = lenArg(L, n+1, sa.raw[:])
	}
	return sa, b
}

func wBind(st *state, L *lua.LState) int {
	fd := fdArg(L, 1)
	_, b := saLenArg(L, 2)
	_, _, e := unix.Syscall(unix.SYS_BIND, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)))
	return st.retBool(L, errnoOf(e))
}

func wConnect(st *state, L *lua.LState) int {
	fd := fdArg(L, 1)
	_, b := saLenArg(L, 2)
	e := connectStoppable(L, fd, func() unix.Errno {
		_, _, e := unix.Syscall(unix.SYS_CONNECT, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)))
		return e
	})
	return st.retBool(L, errnoOf(e))
}

func wListen(st *state, L *lua.LState) int {
	return st.retBool(L, unix.Listen(fdArg(L, 1), optIntArg(L, 2, unix.SOMAXCONN)))
}

// accept(fd[, sa]) → new fd; sa, if given, receives the peer's address.
func wAccept(st *state, L *lua.LState) int { return accept(st, L, 0) }

// accept4(fd[, sa[, addrlen[, flags]]]) → new fd (addrlen is ignored).
func wAccept4(st *state, L *lua.LState) int { return accept(st, L, flagArg(L, 4, grpSOCK)) }

func accept(st *state, L *lua.LState, flags int) int {
	fd := fdArg(L, 1)
	sa := sockaddrArg(L, 2)
	var p, lp uintptr
	if sa != nil {
		sa.n = sockaddrSize
		p, lp = uintptr(unsafe.Pointer(&sa.raw[0])), uintptr(unsafe.Pointer(&sa.n))
	}
	if e := waitReady(L, fd, unix.POLLIN); e != 0 {
		return st.pushErr(L, e)
	}
	nfd, _, e := unix.Syscall6(unix.SYS_ACCEPT4, uintptr(fd), p, lp, uintptr(flags), 0, 0)
	return st.retInt(L, int(nfd), errnoOf(e))
}

func wClose(st *state, L *lua.LState) int { return st.retBool(L, unix.Close(fdArg(L, 1))) }

func wShutdown(st *state, L *lua.LState) int {
	return st.retBool(L, unix.Shutdown(fdArg(L, 1), flagArg(L, 2, grpSHUT)))
}

// getsockname(fd[, sa]) → sa (a new sockaddr_storage if not given).
func wGetsockname(st *state, L *lua.LState) int { return sockname(st, L, unix.SYS_GETSOCKNAME) }

// getpeername(fd[, sa]) → sa.
func wGetpeername(st *state, L *lua.LState) int { return sockname(st, L, unix.SYS_GETPEERNAME) }

func sockname(st *state, L *lua.LState, trap uintptr) int {
	fd := fdArg(L, 1)
	sa := sockaddrArg(L, 2)
	var ud lua.LValue = L.Get(2)
	if sa == nil {
		sa = &sockaddr{kind: kindStorage}
		ud = st.newUD(L, tSockaddr, sa)
	}
	sa.n = sockaddrSize
	_, _, e := unix.Syscall(trap, uintptr(fd), uintptr(unsafe.Pointer(&sa.raw[0])), uintptr(unsafe.Pointer(&sa.n)))
	if e != 0 {
		return st.pushErr(L, e)
	}
	L.Push(ud)
	return 1
}

// --- data ---

// read(fd[, buf[, count]]) → bytes read; without buf, a string of at most
// count (4096) bytes.
func wRead(st *state, L *lua.LState) int {
	fd := fdArg(L, 1)
	if L.Get(2) == lua.LNil {
		n := optIntArg(L, 3, 4096)
		if n < 0 || n > 1<<30 {
			L.ArgError(3, "count out of range")
		}
		b := make([]byte, n)
		if e := waitReady(L, fd, unix.POLLIN); e != 0 {
			return st.pushErr(L, e)
		}
		n, err := unix.Read(fd, b)
		if err != nil {
			return st.pushErr(L, err)
		}
		L.Push(lua.LString(b[:n]))
		return 1
	}
	b := lenArg(L, 3, bufArg(L, 2))
	if e := waitReady(L, fd, unix.POLLIN); e != 0 {
		return st.pushErr(L, e)
	}
	n, _, e := unix.Syscall(unix.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)))
	return st.retInt(L, int(n), errnoOf(e))
}

// write(fd, buf[, count]) → bytes written; buf is a string or a buffer.
func wWrite(st *state, L *lua.LState) int {
	fd := fdArg(L, 1)
	b := lenArg(L, 3, dataArg(L, 2))
	if e := waitReady(L, fd, unix.POLLOUT); e != 0 {
		return st.pushErr(L, e)
	}
	n, _, e := unix.Syscall(unix.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)))
	return st.retInt(L, int(n), errnoOf(e))
}

// recv(fd, buf[, count[, flags]]) → bytes read.
func wRecv(st *state, L *lua.LState) int {
	fd := fdArg(L, 1)
	b := lenArg(L, 3, bufArg(L, 2))
	n, e := blockingCall(L, fd, flagArg(L, 4, grpMSG), unix.POLLIN, func(flags int) (uintptr, unix.Errno) {
		n, _, e := unix.Syscall6(unix.SYS_RECVFROM, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)), uintptr(flags), 0, 0)
		return n, e
	})
	return st.retInt(L, int(n), errnoOf(e))
}

// recvfrom(fd, buf[, count[, flags[, sa]]]) → n, nil, sa: sa (a new
// sockaddr_storage if nil) receives the sender's address; with sa false,
// only n.
func wRecvfrom(st *state, L *lua.LState) int {
	fd := fdArg(L, 1)
	b := lenArg(L, 3, bufArg(L, 2))
	flags := flagArg(L, 4, grpMSG)
	var ud lua.LValue = L.Get(5)
	var sa *sockaddr
	if ud == lua.LNil {
		sa = &sockaddr{kind: kindStorage}
		ud = st.newUD(L, tSockaddr, sa)
	} else {
		sa = sockaddrArg(L, 5)
	}
	var p, lp uintptr
	if sa != nil {
		sa.n = sockaddrSize
		p, lp = uintptr(unsafe.Pointer(&sa.raw[0])), uintptr(unsafe.Pointer(&sa.n))
	}
	n, e := blockingCall(L, fd, flags, unix.POLLIN, func(flags int) (uintptr, unix.Errno) {
		if sa != nil {
			sa.n = sockaddrSize
		}
		n, _, e := unix.Syscall6(unix.SYS_RECVFROM, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)), uintptr(flags), p, lp)
		return n, e
	})
	if e != 0 {
		return st.pushErr(L, e)
	}
	L.Push(Int(int(n)))
	if sa == nil {
		return 1
	}
	L.Push(lua.LNil)
	L.Push(ud)
	return 3
}

// send(fd, buf[, count[, flags]]) → bytes sent.
func wSend(st *state, L *lua.LState) int {
	fd := fdArg(L, 1)
	b := lenArg(L, 3, dataArg(L, 2))
	n, e := blockingCall(L, fd, flagArg(L, 4, grpMSG), unix.POLLOUT, func(flags int) (uintptr, unix.Errno) {
		n, _, e := unix.Syscall6(unix.SYS_SENDTO, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)), uintptr(flags), 0, 0)
		return n, e
	})
	return st.retInt(L, int(n), errnoOf(e))
}

// sendto(fd, buf[, count[, flags[, sa]]]) → bytes sent.
func wSendto(st *state, L *lua.LState) int {
	fd := fdArg(L, 1)
	b := lenArg(L, 3, dataArg(L, 2))
	flags := flagArg(L, 4, grpMSG)
	var p, n uintptr
	if sa := sockaddrArg(L, 5); sa != nil {
		a := sa.bytes()
		p, n = uintptr(unsafe.Pointer(&a[0])), uintptr(len(a))
	}
	r, e := blockingCall(L, fd, flags, unix.POLLOUT, func(flags int) (uintptr, unix.Errno) {
		r, _, e := unix.Syscall6(unix.SYS_SENDTO, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)), uintptr(flags), p, n)
		return r, e
	})
	return st.retInt(L, int(r), errnoOf(e))
}

// recvmsg(fd, msg[, flags]) → bytes read, over the hook's msghdr. It uses
// the kit's raw syscall, meant for the kit's non-blocking sockets. A
// packet hook's tail call of recvmsg or sendmsg is deferred (tail.go).
func wRecvmsg(st *state, L *lua.LState) int {
	fd := fdArg(L, 1)
	mo := checkMsg(L, 2)
	flags := flagArg(L, 3, grpMSG)
	if st.deferCall(L, true, fd, mo, flags) {
		return 0
	}
	n, e := blockingCall(L, fd, flags, unix.POLLIN, func(flags int) (uintptr, unix.Errno) {
		n, err := kit.RecvMsg(fd, mo.m, flags)
		return uintptr(n), toErrnoOrZero(err)
	})
	return st.retInt(L, int(n), errnoOf(e))
}

// sendmsg(fd, msg[, flags]) → bytes sent.
func wSendmsg(st *state, L *lua.LState) int {
	fd := fdArg(L, 1)
	mo := checkMsg(L, 2)
	flags := flagArg(L, 3, grpMSG)
	if st.deferCall(L, false, fd, mo, flags) {
		return 0
	}
	n, e := blockingCall(L, fd, flags, unix.POLLOUT, func(flags int) (uintptr, unix.Errno) {
		n, err := kit.SendMsg(fd, mo.m, flags)
		return uintptr(n), toErrnoOrZero(err)
	})
	return st.retInt(L, int(n), errnoOf(e))
}

// --- descriptors ---

// fcntl(fd, cmd[, arg]) → the result for the F_GET* and F_DUPFD commands,
// true for the others.
func wFcntl(st *state, L *lua.LState) int {
	fd := fdArg(L, 1)
	cmd := flagArg(L, 2, grpF)
	var arg int
	switch cmd {
	case unix.F_SETFL:
		arg = flagArg(L, 3, grpO)
	case unix.F_SETFD:
		arg = flagArg(L, 3, grpFD)
	default:
		arg = optIntArg(L, 3, 0)
	}
	r, err := unix.FcntlInt(uintptr(fd), cmd, arg)
	if err != nil {
		return st.pushErr(L, err)
	}
	switch cmd {
	case unix.F_GETFD, unix.F_GETFL, unix.F_GETOWN, unix.F_GETSIG, unix.F_GETPIPE_SZ, unix.F_DUPFD, unix.F_DUPFD_CLOEXEC, unix.F_SETPIPE_SZ:
		L.Push(Int(r))
	default:
		L.Push(lua.LTrue)
	}
	return 1
}

func wNonblock(st *state, L *lua.LState) int {
	return st.retBool(L, unix.SetNonblock(fdArg(L, 1), true))
}

func wBlock(st *state, L *lua.LState) int {
	return st.retBool(L, unix.SetNonblock(fdArg(L, 1), false))
}

// --- process and time ---

func wGetpid(st *state, L *lua.LState) int { L.Push(Int(unix.Getpid())); return 1 }

// getcpu() → {cpu=, node=}
func wGetcpu(st *state, L *lua.LState) int {
	var cpu, node uint32
	_, _, e := unix.RawSyscall(unix.SYS_GETCPU, uintptr(unsafe.Pointer(&cpu)), uintptr(unsafe.Pointer(&node)), 0)
	if e != 0 {
		return st.pushErr(L, e)
	}
	t := L.NewTable()
	t.RawSetString("cpu", Int(int(cpu)))
	t.RawSetString("node", Int(int(node)))
	L.Push(t)
	return 1
}

// clock_gettime(clock[, ts]) → ts (a new timespec if not given).
func wClockGettime(st *state, L *lua.LState) int {
	clk := flagArg(L, 1, grpCLOCK)
	var ud lua.LValue = L.Get(2)
	var ts *timespec
	if ud == lua.LNil {
		ts = &timespec{}
		ud = st.newUD(L, tTimespec, ts)
	} else {
		ts = checkUD[*timespec](L, 2, "timespec")
	}
	if err := unix.ClockGettime(int32(clk), &ts.ts); err != nil {
		return st.pushErr(L, err)
	}
	L.Push(ud)
	return 1
}

func wClockGetres(st *state, L *lua.LState) int {
	ts := &timespec{}
	if err := unix.ClockGetres(int32(flagArg(L, 1, grpCLOCK)), &ts.ts); err != nil {
		return st.pushErr(L, err)
	}
	L.Push(st.newUD(L, tTimespec, ts))
	return 1
}

// gettimeofday([tv]) → tv.
func wGettimeofday(st *state, L *lua.LState) int {
	var ud lua.LValue = L.Get(1)
	var tv *timeval
	if ud == lua.LNil {
		tv = &timeval{}
		ud = st.newUD(L, tTimeval, tv)
	} else {
		tv = checkUD[*timeval](L, 1, "timeval")
	}
	if err := unix.Gettimeofday(&tv.tv); err != nil {
		return st.pushErr(L, err)
	}
	L.Push(ud)
	return 1
}

// time() → seconds since the epoch.
func wTime(st *state, L *lua.LState) int {
	t, err := unix.Time(nil)
	return st.retInt(L, int(t), err)
}

// nanosleep(t) → true; t is seconds, a timespec or {sec, nsec}. It blocks
// the worker, until the time has passed or the script is stopped.
func wNanosleep(st *state, L *lua.LState) int {
	s, ns := timeArg(L, 1)
	if s < 0 || ns < 0 || ns >= 1e9 {
		return st.pushErr(L, unix.EINVAL)
	}
	d := time.Duration(s)*time.Second + time.Duration(ns)
	if s > math.MaxInt64/int64(time.Second)-1 {
		d = math.MaxInt64
	}
	return st.retBool(L, sleep(L, d))
}

// toErrnoOrZero is the errno of err, 0 for nil.
func toErrnoOrZero(err error) unix.Errno {
	if err == nil {
		return 0
	}
	return toErrno(err)
}

func wIfNametoindex(st *state, L *lua.LState) int {
	ifi, err := net.InterfaceByName(L.CheckString(1))
	if err != nil {
		return st.pushErr(L, unix.ENODEV)
	}
	L.Push(Int(ifi.Index))
	return 1
}

func swap16(x uint16) uint16 {
	var b [2]byte
	binary.BigEndian.PutUint16(b[:], x)
	return binary.NativeEndian.Uint16(b[:])
}

func swap32(x uint32) uint32 {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], x)
	return binary.NativeEndian.Uint32(b[:])
}
