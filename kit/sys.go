package kit

import (
	"fmt"
	"net/netip"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The data path's syscalls. Data sockets are always non-blocking, so
// these use RawSyscall: they never block, and skipping the scheduler's
// syscall bookkeeping is measurable at a million calls a second.

func sysRead(fd int, b []byte) (int, unix.Errno) {
	n, _, e := unix.RawSyscall(unix.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)))
	return int(n), e
}

func sysWrite(fd int, b []byte) (int, unix.Errno) {
	n, _, e := unix.RawSyscall(unix.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)))
	return int(n), e
}

// sysSend is send(2): write(2) with flags (sendto with no address).
func sysSend(fd int, b []byte, flags int) (int, unix.Errno) {
	n, _, e := unix.RawSyscall6(unix.SYS_SENDTO, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)), uintptr(flags), 0, 0)
	return int(n), e
}

// sysRecv is recv(2): read(2) with flags (recvfrom with no address).
func sysRecv(fd int, b []byte, flags int) (int, unix.Errno) {
	n, _, e := unix.RawSyscall6(unix.SYS_RECVFROM, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)), uintptr(flags), 0, 0)
	return int(n), e
}

// sysAccept accepts a connection on a non-blocking listener, without
// asking for the peer's address (which would allocate).
func sysAccept(fd int) (int, unix.Errno) {
	nfd, _, e := unix.RawSyscall6(unix.SYS_ACCEPT4, uintptr(fd), 0, 0, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0, 0)
	return int(nfd), e
}

// sysRecvfrom reads one datagram and the sender's address into sa.
func sysRecvfrom(fd int, b []byte, sa *unix.RawSockaddrAny, salen *uint32) (int, unix.Errno) {
	*salen = unix.SizeofSockaddrAny
	n, _, e := unix.RawSyscall6(unix.SYS_RECVFROM, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)),
		0, uintptr(unsafe.Pointer(sa)), uintptr(unsafe.Pointer(salen)))
	return int(n), e
}

// sysSendto sends one datagram to the address in sa.
func sysSendto(fd int, b []byte, sa *unix.RawSockaddrAny, salen uint32) (int, unix.Errno) {
	n, _, e := unix.RawSyscall6(unix.SYS_SENDTO, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)),
		0, uintptr(unsafe.Pointer(sa)), uintptr(salen))
	return int(n), e
}

// sysRecvmsg is recvmsg(2) over a kit Msg: it fills Buf, Name and Control
// and records the lengths the kernel returned.
func sysRecvmsg(fd int, m *Msg, flags int) (int, unix.Errno) {
	h := &m.hdr
	fillMsghdr(h, &m.iov, m)
	n, _, e := unix.RawSyscall(unix.SYS_RECVMSG, uintptr(fd), uintptr(unsafe.Pointer(h)), uintptr(flags))
	if e == 0 {
		m.NameLen = int(h.Namelen)
		m.ControlLen = int(h.Controllen)
		m.Flags = int(h.Flags)
	}
	return int(n), e
}

// sysSendmsg is sendmsg(2) over a kit Msg. A message with no address
// and no control data goes out through sendto(2) with no address, which
// the kernel turns into the same message (sock_sendmsg of one buffer,
// msg_name and msg_control empty) without copying a msghdr and an iovec
// in from user memory: a pass-through hook's sendmsg costs what write
// does.
func sysSendmsg(fd int, m *Msg, flags int) (int, unix.Errno) {
	if m.NameLen == 0 && m.ControlLen == 0 {
		n, _, e := unix.RawSyscall6(unix.SYS_SENDTO, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(m.Buf))), uintptr(len(m.Buf)),
			uintptr(flags), 0, 0)
		return int(n), e
	}
	h := &m.hdr
	fillMsghdr(h, &m.iov, m)
	h.Namelen = uint32(m.NameLen)
	if m.NameLen == 0 {
		h.Name = nil
	}
	h.SetControllen(m.ControlLen)
	if m.ControlLen == 0 {
		h.Control = nil
	}
	n, _, e := unix.RawSyscall(unix.SYS_SENDMSG, uintptr(fd), uintptr(unsafe.Pointer(h)), uintptr(flags))
	return int(n), e
}

func fillMsghdr(h *unix.Msghdr, iov *unix.Iovec, m *Msg) {
	*h, *iov = unix.Msghdr{}, unix.Iovec{}
	if len(m.Buf) > 0 {
		iov.Base = &m.Buf[0]
		iov.SetLen(len(m.Buf))
		h.Iov = iov
		h.SetIovlen(1)
	}
	if len(m.Name) > 0 {
		h.Name = &m.Name[0]
		h.Namelen = uint32(len(m.Name))
	}
	if len(m.Control) > 0 {
		h.Control = &m.Control[0]
		h.SetControllen(len(m.Control))
	}
}

// SendMsg is the plain sendmsg(2) a Go hook may call to pass a message on
// unchanged. It returns unix.Errno on failure.
func SendMsg(fd int, m *Msg, flags int) (int, error) {
	n, e := sysSendmsg(fd, m, flags)
	if e != 0 {
		return -1, e
	}
	return n, nil
}

// RecvMsg is the plain recvmsg(2) a Go hook may call. It returns
// unix.Errno on failure.
func RecvMsg(fd int, m *Msg, flags int) (int, error) {
	n, e := sysRecvmsg(fd, m, flags)
	if e != 0 {
		return -1, e
	}
	return n, nil
}

// newSocket opens a non-blocking, close-on-exec socket.
//
// Opening, connecting, configuring and closing sockets are raw system
// calls too: a tcp_crr worker makes them for every transaction, and a
// goroutine found inside an ordinary system call by the runtime's
// 10 ms preemption check has its P handed off and restarts sysmon's
// 20 µs tick (measured: ~1000 extra wake-ups a second on the worker's
// CPU). None of them blocks on a non-blocking socket.
func newSocket(family, sotype int) (int, error) {
	fd, _, e := unix.RawSyscall(unix.SYS_SOCKET, uintptr(family), uintptr(sotype|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC), 0)
	if e != 0 {
		return -1, fmt.Errorf("socket: %w", e)
	}
	return int(fd), nil
}

// sysClose closes a data socket. The kit lingers, if at all, with a zero
// timeout, so close(2) does not block (a script that sets SO_LINGER with
// a timeout makes it wait, in this worker's thread only, as it would in C).
func sysClose(fd int) {
	unix.RawSyscall(unix.SYS_CLOSE, uintptr(fd), 0, 0)
}

// resetLinger is SO_LINGER {on, 0 s}: close(2) resets the connection.
var resetLinger = unix.Linger{Onoff: 1}

// sysSetLinger sets SO_LINGER: a tcp_crr client does for every
// transaction's connection.
func sysSetLinger(fd int, l *unix.Linger) unix.Errno {
	_, _, e := unix.RawSyscall6(unix.SYS_SETSOCKOPT, uintptr(fd), unix.SOL_SOCKET, unix.SO_LINGER, uintptr(unsafe.Pointer(l)), unsafe.Sizeof(*l), 0)
	return e
}

// sysConnect starts connecting a non-blocking socket to sa.
func sysConnect(fd int, sa *rawSockaddr) unix.Errno {
	_, _, e := unix.RawSyscall(unix.SYS_CONNECT, uintptr(fd), uintptr(unsafe.Pointer(&sa.addr)), uintptr(sa.len))
	return e
}

// rawSockaddr is an address in the kernel's form, built once per flow so
// that connecting converts nothing.
type rawSockaddr struct {
	addr unix.RawSockaddrInet6 // large enough for either family
	len  uint32
}

// newRawSockaddr converts ap to the kernel's sockaddr_in or sockaddr_in6.
func newRawSockaddr(ap netip.AddrPort) *rawSockaddr {
	sa := &rawSockaddr{}
	port := (*[2]byte)(unsafe.Pointer(&sa.addr.Port)) // network byte order
	port[0], port[1] = byte(ap.Port()>>8), byte(ap.Port())
	if ap.Addr().Is4() {
		in4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(&sa.addr))
		in4.Family = unix.AF_INET
		in4.Addr = ap.Addr().As4()
		sa.len = unix.SizeofSockaddrInet4
		return sa
	}
	sa.addr.Family = unix.AF_INET6
	sa.addr.Addr = ap.Addr().As16()
	sa.len = unix.SizeofSockaddrInet6
	return sa
}

// sockaddr converts an address and port to the unix form.
func sockaddr(ap netip.AddrPort) unix.Sockaddr {
	if ap.Addr().Is4() {
		return &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}
	}
	sa := &unix.SockaddrInet6{Port: int(ap.Port()), Addr: ap.Addr().As16()}
	return sa
}

// addrPortOf converts a unix sockaddr back, for bound-port lookups.
func addrPortOf(sa unix.Sockaddr) netip.AddrPort {
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(a.Addr), uint16(a.Port))
	case *unix.SockaddrInet6:
		return netip.AddrPortFrom(netip.AddrFrom16(a.Addr), uint16(a.Port))
	}
	return netip.AddrPort{}
}

func familyOf(a netip.Addr) int {
	if a.Is4() {
		return unix.AF_INET
	}
	return unix.AF_INET6
}

// isAgain reports whether a socket call should be retried when the socket
// is ready again.
func isAgain(e syscall.Errno) bool { return e == unix.EAGAIN || e == unix.EINTR }
