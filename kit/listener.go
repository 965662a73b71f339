package kit

import (
	"fmt"
	"math"
	"net/netip"

	"golang.org/x/sys/unix"
)

// listener is a server worker's TCP listening socket. Every server worker
// has its own, all bound to the data port with SO_REUSEPORT, so the kernel
// spreads connections over the workers.
type listener struct {
	fd           int
	ai           *AddrInfo
	newFlow      func(w *worker, fd int) flow
	readAtAccept bool // read a new connection at once, before epoll says so
}

// listenTCP opens worker w's listening sockets on the side's data
// address: one on each of the --num-ports ports.
func (w *worker) listenTCP(newFlow func(w *worker, fd int) flow, readAtAccept bool) error {
	s := w.s
	base := s.bindAddr(w.id)
	for k := 0; k < s.opts.numPorts(); k++ {
		ap := base
		if k > 0 {
			ap = netip.AddrPortFrom(base.Addr(), base.Port()+uint16(k))
		}
		if err := w.listenTCPOn(ap, k, newFlow, readAtAccept); err != nil {
			return err
		}
	}
	return nil
}

// listenTCPOn opens a listening socket on ap, the server's data port k.
func (w *worker) listenTCPOn(ap netip.AddrPort, k int, newFlow func(w *worker, fd int) flow, readAtAccept bool) error {
	s := w.s
	ai := addrInfo(ap, false)
	fd, err := w.openSocket(ai)
	if err != nil {
		return err
	}
	l := &listener{fd: fd, ai: ai, newFlow: newFlow, readAtAccept: readAtAccept}
	w.closers = append(w.closers, func() { w.closeSocket(fd, ai) })
	if err := setReuse(fd, true, s.opts.ReuseAddr); err != nil {
		return err
	}
	bound, err := bindTo(fd, ai.Addr)
	if err != nil {
		return err
	}
	s.setDataAddr(k, bound)
	if s.opts.TCPFastOpen {
		// The queue of TFO requests not yet accepted: as long as the
		// listen backlog.
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_FASTOPEN, s.opts.ListenBacklog); err != nil {
			return fmt.Errorf("-X/--tcp-fastopen: setsockopt TCP_FASTOPEN: %w", err)
		}
	}
	if err := unix.Listen(fd, s.opts.ListenBacklog); err != nil {
		return fmt.Errorf("listen on %s: %w", bound, err)
	}
	return w.register(fd, unix.EPOLLIN, l)
}

// handle accepts the pending connections, a bounded batch per event so
// that a connection storm does not starve the flows.
func (l *listener) handle(w *worker, events uint32) error {
	// Level-triggered, one accept per event: epoll reports the listener
	// again while connections wait, and a lone one costs no second,
	// failing accept. Edge-triggered, accept until EAGAIN.
	limit := 1
	if w.s.opts.EdgeTrigger {
		limit = math.MaxInt32
	}
	for i := 0; i < limit; i++ {
		fd, e := sysAccept(l.fd)
		if e != 0 {
			err := error(e)
			if err == unix.EAGAIN || err == unix.EINTR || err == unix.ECONNABORTED {
				return nil
			}
			if err == unix.EMFILE || err == unix.ENFILE {
				return fmt.Errorf("accept: %w (raise the open-file limit)", err)
			}
			return fmt.Errorf("accept: %w", err)
		}
		if err := w.s.applySocketOptions(fd, l.ai); err != nil {
			sysClose(fd)
			return err
		}
		f := l.newFlow(w, fd)
		w.c.connections++
		if err := w.register(fd, unix.EPOLLIN, f); err != nil {
			sysClose(fd)
			return err
		}
		w.addFlow(f)
		// The request is usually queued by the time the connection is
		// accepted: reading it now saves a trip through epoll_wait. Not
		// with a recvmsg hook, which is called only when epoll says the
		// socket is readable.
		if l.readAtAccept && (w.hooks == nil || w.hooks.RecvMsg == nil) {
			if err := f.handle(w, unix.EPOLLIN); err != nil {
				return err
			}
		}
	}
	return nil
}

// addFlow adds an accepted flow; if measurement already began, it begins
// at once.
func (w *worker) addFlow(f flow) {
	w.flows = append(w.flows, f)
	if w.started {
		if err := f.begin(w); err != nil {
			w.s.fail(err)
		}
	}
}

// removeFlow forgets a server flow whose peer has gone.
func (w *worker) removeFlow(f flow) {
	for i, g := range w.flows {
		if g == f {
			last := len(w.flows) - 1
			w.flows[i] = w.flows[last]
			w.flows[last] = nil
			w.flows = w.flows[:last]
			return
		}
	}
}

// connectTCP opens a client socket to ai.Addr (sa is the same address in
// the kernel's form, made once per flow) and starts a non-blocking
// connect; the flow sees EPOLLOUT when it completes.
func (w *worker) connectTCP(ai *AddrInfo, sa *rawSockaddr, id int) (int, error) {
	fd, err := w.openSocket(ai)
	if err != nil {
		return -1, err
	}
	if err := w.s.bindLocal(fd, id, ai.Family); err != nil {
		sysClose(fd)
		return -1, err
	}
	if e := sysConnect(fd, sa); e != 0 && e != unix.EINPROGRESS {
		w.closeSocket(fd, ai)
		return -1, fmt.Errorf("connect to %s: %w", ai.Addr, e)
	}
	return fd, nil
}
