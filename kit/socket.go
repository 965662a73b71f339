package kit

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// openSocket creates a data socket for ai, applies the options every data
// socket of the run gets, and runs the socket-opened hook.
func (w *worker) openSocket(ai *AddrInfo) (int, error) {
	fd, err := newSocket(ai.Family, ai.SockType)
	if err != nil {
		return -1, err
	}
	if err := w.s.applySocketOptions(fd, ai); err != nil {
		unix.Close(fd)
		return -1, err
	}
	if w.hooks != nil && w.hooks.SocketOpened != nil {
		if err := w.hooks.SocketOpened(fd, ai); err != nil {
			unix.Close(fd)
			return -1, &HookError{Hook: w.s.hookName("socket"), Err: err}
		}
	}
	return fd, nil
}

// closeSocket runs the closing hook, drops fd from the epoll set and
// closes it. A hook failure is recorded as the run's error; the socket is
// closed all the same.
func (w *worker) closeSocket(fd int, ai *AddrInfo) {
	if w.hooks != nil && w.hooks.SocketClosing != nil {
		if err := w.hooks.SocketClosing(fd, ai); err != nil {
			w.s.fail(&HookError{Hook: w.s.hookName("close"), Err: err})
		}
	}
	w.unregister(fd)
	sysClose(fd)
}

// tcpRTOMinUS is TCP_RTO_MIN_US (Linux 6.15): the socket's minimum RTO in
// microseconds. rushit's --min-rto used a TCP_MIN_RTO that only Google's
// kernels have.
const tcpRTOMinUS = 45

// tcpTxDelay is TCP_TX_DELAY (Linux 5.4): a delay in microseconds added
// to every packet the socket sends, as if the path were that much longer.
const tcpTxDelay = 37

// privError is a failed setsockopt, saying what EPERM means.
func privError(what string, err error) error {
	if err == unix.EPERM {
		return fmt.Errorf("%s: %w (it needs CAP_NET_ADMIN)", what, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// applySocketOptions sets what the options ask of every data socket.
func (s *sideRun) applySocketOptions(fd int, ai *AddrInfo) error {
	o := s.opts
	if o.Mark != 0 {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_MARK, int(o.Mark)); err != nil {
			return privError(fmt.Sprintf("--mark: setsockopt SO_MARK %d", o.Mark), err)
		}
	}
	if o.ZeroCopy {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ZEROCOPY, 1); err != nil {
			return fmt.Errorf("-Z/--zerocopy: setsockopt SO_ZEROCOPY: %w (Linux 4.14 or later)", err)
		}
	}
	if o.Debug {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_DEBUG, 1); err != nil {
			return privError("-d/--debug: setsockopt SO_DEBUG", err)
		}
	}
	if o.FreeBind {
		if err := unix.SetsockoptInt(fd, unix.SOL_IP, unix.IP_FREEBIND, 1); err != nil {
			return fmt.Errorf("--freebind: setsockopt IP_FREEBIND: %w", err)
		}
	}
	if o.MaxPacingRate > 0 {
		// UDP too: the fq qdisc paces any socket's packets by it.
		if err := unix.SetsockoptUint64(fd, unix.SOL_SOCKET, unix.SO_MAX_PACING_RATE, o.MaxPacingRate); err != nil {
			return fmt.Errorf("setsockopt SO_MAX_PACING_RATE %d: %w", o.MaxPacingRate, err)
		}
	}
	if ai.SockType == unix.SOCK_STREAM {
		if o.Client && !o.TimeWait {
			if e := sysSetLinger(fd, &resetLinger); e != 0 {
				return fmt.Errorf("setsockopt SO_LINGER 0: %w", e)
			}
		}
		if o.Client && o.TCPFastOpen {
			if err := unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_FASTOPEN_CONNECT, 1); err != nil {
				return fmt.Errorf("-X/--tcp-fastopen: setsockopt TCP_FASTOPEN_CONNECT: %w", err)
			}
		}
		if o.NoDelay {
			if err := unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1); err != nil {
				return fmt.Errorf("--no-delay: setsockopt TCP_NODELAY: %w", err)
			}
		}
		if o.TCPTxDelay > 0 {
			us := int(o.TCPTxDelay / time.Microsecond)
			if err := unix.SetsockoptInt(fd, unix.IPPROTO_TCP, tcpTxDelay, us); err != nil {
				return privError(fmt.Sprintf("-t/--tcp-tx-delay: setsockopt TCP_TX_DELAY %d", us), err)
			}
		}
		if o.MinRTO > 0 {
			us := int(o.MinRTO / time.Microsecond)
			if err := unix.SetsockoptInt(fd, unix.IPPROTO_TCP, tcpRTOMinUS, us); err != nil {
				return fmt.Errorf("--min-rto: setsockopt TCP_RTO_MIN_US %d: %w (the kernel needs TCP_RTO_MIN_US, Linux 6.15 or later)", us, err)
			}
		}
		if o.CongestionControl != "" {
			if err := unix.SetsockoptString(fd, unix.IPPROTO_TCP, unix.TCP_CONGESTION, o.CongestionControl); err != nil {
				return congestionError(o.CongestionControl, err)
			}
		}
	}
	return nil
}

// probeSocketOptions applies the options every data socket gets to a
// throwaway socket of the side's family, on the side's thread, so that an
// option this kernel or this user cannot have (an unknown
// --congestion-control, --mark without CAP_NET_ADMIN) is a usage error
// found before the side contacts its peer.
func probeSocketOptions(opts *Options, cfg *SideConfig, family int) error {
	ai := addrInfo(netip.AddrPortFrom(netip.IPv4Unspecified(), 0), opts.Workload.IsUDP())
	ai.Family = family
	err := onSideThread(cfg, func() error {
		fd, err := newSocket(ai.Family, ai.SockType)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		return (&sideRun{opts: opts}).applySocketOptions(fd, ai)
	})
	var usage *UsageError
	if err != nil && !errors.As(err, &usage) {
		err = &UsageError{Err: err}
	}
	return err
}

// setReuse sets the reuse options a server socket needs.
func setReuse(fd int, port, addr bool) error {
	if port {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEPORT, 1); err != nil {
			return fmt.Errorf("setsockopt SO_REUSEPORT: %w", err)
		}
	}
	if addr {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
			return fmt.Errorf("setsockopt SO_REUSEADDR: %w", err)
		}
	}
	return nil
}

// bindTo binds fd and returns the address it got (the port filled in).
func bindTo(fd int, ap netip.AddrPort) (netip.AddrPort, error) {
	if err := unix.Bind(fd, sockaddr(ap)); err != nil {
		return netip.AddrPort{}, fmt.Errorf("bind %s: %w", ap, err)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("getsockname: %w", err)
	}
	return addrPortOf(sa), nil
}

// addrInfo builds the AddrInfo handed to socket hooks.
func addrInfo(ap netip.AddrPort, udp bool) *AddrInfo {
	ai := &AddrInfo{Family: familyOf(ap.Addr()), SockType: unix.SOCK_STREAM, Protocol: unix.IPPROTO_TCP, Addr: ap}
	if udp {
		ai.SockType, ai.Protocol = unix.SOCK_DGRAM, unix.IPPROTO_UDP
	}
	return ai
}

// socketError reads and clears a socket's pending error.
func socketError(fd int) error {
	v, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
	if err != nil {
		return err
	}
	if v != 0 {
		return unix.Errno(v)
	}
	return nil
}

// The data path through the hooks. Each returns the bytes moved and the
// socket call's errno; a non-nil error is fatal to the run.

func (w *worker) read(fd int, b []byte) (int, unix.Errno, error) {
	w.c.readOps++
	if w.hooks == nil || w.hooks.RecvMsg == nil {
		if w.recvFlags != 0 {
			n, e := sysRecv(fd, b, w.recvFlags)
			return n, e, nil
		}
		n, e := sysRead(fd, b)
		return n, e, nil
	}
	// A control buffer, so that a hook can ask for control messages
	// (SO_RXQ_OVFL, IP_PKTINFO, timestamps) and read them.
	w.msg = Msg{Buf: b, Control: w.ctl}
	return w.callPacketHook(w.hooks.RecvMsg, "recvmsg", fd, w.recvFlags)
}

func (w *worker) write(fd int, b []byte) (int, unix.Errno, error) {
	w.c.writeOps++
	if w.hooks == nil || w.hooks.SendMsg == nil {
		if w.sendFlags != 0 {
			n, e := sysSend(fd, b, w.sendFlags)
			return n, e, nil
		}
		n, e := sysWrite(fd, b)
		return n, e, nil
	}
	w.msg = Msg{Buf: b}
	return w.callPacketHook(w.hooks.SendMsg, "sendmsg", fd, w.sendFlags)
}

func (w *worker) callPacketHook(h PacketHook, name string, fd, flags int) (int, unix.Errno, error) {
	w.packetHookCalls++
	n, err := h(fd, &w.msg, flags)
	if err != nil {
		if e, ok := err.(unix.Errno); ok {
			w.minusOne = false
			return -1, e, nil
		}
		return -1, 0, &HookError{Hook: w.s.hookName(name), Err: err}
	}
	if n < 0 {
		// A bare -1: the hook gave no errno.
		w.minusOne = true
		return -1, unix.EIO, nil
	}
	return n, 0, nil
}

// hooked reports whether a hook replaces the call of slot ("sendmsg",
// "recvmsg", "recverr").
func (w *worker) hooked(slot string) bool {
	if w.hooks == nil {
		return false
	}
	switch slot {
	case "sendmsg":
		return w.hooks.SendMsg != nil
	case "recvmsg":
		return w.hooks.RecvMsg != nil
	case "recverr":
		return w.hooks.RecvErr != nil
	}
	return false
}

// ioFailure describes a read or write of slot that failed with errno e.
// When a hook made the call it is named with what it returned
// ("client_sendmsg returned EINVAL (invalid argument)"), and unless the
// errno says that the peer went away (which a server survives, hook or
// not) it is the hook's failure (*HookError), which stops the run on
// either side. Otherwise it names the system call ("write: ...").
func (w *worker) ioFailure(slot, syscall string, e unix.Errno) error {
	if !w.hooked(slot) {
		return fmt.Errorf("%s: %w", syscall, e)
	}
	r := &returnedError{errno: e, minusOne: w.minusOne && e == unix.EIO}
	if peerGone(e) {
		return fmt.Errorf("%s %w", w.s.hookName(slot), r)
	}
	return &HookError{Hook: w.s.hookName(slot), Err: r}
}

// returnedError is what a packet hook returned in place of a byte count.
type returnedError struct {
	errno    unix.Errno
	minusOne bool // a bare -1, without an errno
}

func (r *returnedError) Error() string {
	if r.minusOne {
		return "returned -1"
	}
	return fmt.Sprintf("returned %s (%s)", unix.ErrnoName(r.errno), r.errno.Error())
}

func (r *returnedError) Unwrap() error { return r.errno }

// peerGone reports whether a socket error means that the peer went away
// or cannot be reached: a server drops such a flow and goes on.
func peerGone(e unix.Errno) bool {
	switch e {
	case unix.ECONNRESET, unix.EPIPE, unix.ENOTCONN, unix.ETIMEDOUT, unix.ECONNABORTED,
		unix.ECONNREFUSED, unix.EHOSTUNREACH, unix.ENETUNREACH, unix.EHOSTDOWN, unix.ENETDOWN:
		return true
	}
	return false
}

// drainErrors handles EPOLLERR: the recverr hook reads the error queue if
// there is one; otherwise the kit drains it. It returns the socket's
// pending error, if any, once the queue is empty.
func (w *worker) drainErrors(fd int) error {
	limit := 64
	if w.hooks != nil && w.hooks.RecvErr != nil && !w.s.opts.EdgeTrigger {
		limit = 1 // once per event, as rushit: epoll reports what is left
	}
	for i := 0; i < limit; i++ {
		var e unix.Errno
		if w.hooks != nil && w.hooks.RecvErr != nil {
			w.msg = Msg{Buf: w.buf, Control: w.ctl}
			var err error
			_, e, err = w.callPacketHook(w.hooks.RecvErr, "recverr", fd, unix.MSG_ERRQUEUE)
			if err != nil {
				return err
			}
			if e != 0 && !isAgain(e) && !peerGone(e) {
				return w.ioFailure("recverr", "recvmsg MSG_ERRQUEUE", e)
			}
		} else {
			w.msg = Msg{Buf: w.buf, Control: w.ctl}
			_, e = sysRecvmsg(fd, &w.msg, unix.MSG_ERRQUEUE)
		}
		if e != 0 {
			break
		}
		w.noteErrQueue()
	}
	return socketError(fd)
}

// congestionError explains a TCP_CONGESTION failure: an algorithm the
// kernel lacks is a usage error that lists those it has.
func congestionError(name string, err error) error {
	if err == unix.ENOENT {
		avail, _ := os.ReadFile("/proc/sys/net/ipv4/tcp_available_congestion_control")
		return &UsageError{Err: fmt.Errorf("--congestion-control: this kernel has no %q (it has: %s)", name, strings.TrimSpace(string(avail)))}
	}
	if err == unix.EPERM {
		allowed, _ := os.ReadFile("/proc/sys/net/ipv4/tcp_allowed_congestion_control")
		return fmt.Errorf("--congestion-control: %q needs CAP_NET_ADMIN (allowed without it: %s)", name, strings.TrimSpace(string(allowed)))
	}
	return fmt.Errorf("--congestion-control: setsockopt TCP_CONGESTION %q: %w", name, err)
}
