package kit

import (
	"fmt"
	"net/netip"

	"golang.org/x/sys/unix"
)

// The tcp_stream state machine: a flow writes -B bytes whenever its
// socket is writable and reads up to -B bytes whenever it is readable,
// each only if its side does that direction. By default the client writes
// and the server reads. On the client, -r alone reverses the stream and
// -r -w makes it bidirectional; a server always reads, and writes when its
// client reads (or when given -w itself, as neper's server is).

// streamDirs tells which directions a side of a stream moves data in.
func streamDirs(s *sideRun) (reads, writes bool) {
	o := s.opts
	if s.side == ClientSide {
		return o.EnableRead, o.EnableWrite || !o.EnableRead
	}
	return true, o.EnableWrite || s.peerReads
}

type streamFlow struct {
	fd      int
	id      int
	ai      *AddrInfo
	reads   bool
	writes  bool
	server  bool
	running bool        // connected and started
	paused  bool        // waiting out -D
	zc      *rxZerocopy // -z: the mapped receive window (made at the first read)
	st      flowStats
	events  uint32
}

func newStreamClient(w *worker, id int, to netip.AddrPort) (*streamFlow, error) {
	ai := addrInfo(to, false)
	fd, err := w.connectTCP(ai, newRawSockaddr(to), id)
	if err != nil {
		return nil, err
	}
	r, wr := streamDirs(w.s)
	if w.s.opts.SplitBidir {
		// neper's --split-bidir: a socket a direction, odd flows
		// writing, even ones reading.
		r, wr = id%2 == 0, id%2 == 1
	}
	f := &streamFlow{fd: fd, id: id, ai: ai, reads: r, writes: wr, st: newClientStats(id, fd), events: unix.EPOLLOUT}
	if err := w.register(fd, f.events, f); err != nil {
		w.closeSocket(fd, ai)
		return nil, err
	}
	w.pending++
	w.trackFlow(&f.st)
	return f, nil
}

func newStreamServer(w *worker, fd int) flow {
	r, wr := streamDirs(w.s)
	f := &streamFlow{fd: fd, reads: r, writes: wr, server: true, st: newServerStats(fd), events: unix.EPOLLIN}
	w.trackFlow(&f.st)
	return f
}

// wanted is the epoll interest of a running flow.
func (f *streamFlow) wanted() uint32 {
	var ev uint32
	if f.reads {
		ev |= unix.EPOLLIN
	}
	if f.writes && !f.paused {
		ev |= unix.EPOLLOUT
	}
	return ev
}

func (f *streamFlow) setEvents(w *worker, ev uint32) error {
	if ev == f.events {
		return nil
	}
	f.events = ev
	return w.poll.Mod(f.fd, ev, int32(f.fd))
}

func (f *streamFlow) begin(w *worker) error {
	if f.server {
		f.running = true
		return f.setEvents(w, f.wanted())
	}
	if f.running {
		return nil
	}
	f.running = true
	w.active++
	return f.setEvents(w, f.wanted())
}

func (f *streamFlow) handle(w *worker, ev uint32) error {
	if ev&unix.EPOLLERR != 0 {
		if err := w.drainErrors(f.fd); err != nil {
			return f.broken(w, err)
		}
	}
	if !f.server && !f.running {
		// Connecting, or connected and waiting for the start.
		if ev&(unix.EPOLLOUT|unix.EPOLLERR|unix.EPOLLHUP) == 0 || f.events == 0 {
			return nil
		}
		if err := socketError(f.fd); err != nil {
			return fmt.Errorf("flow %d: connect to %s: %w", f.id, f.ai.Addr, err)
		}
		w.flowConnected()
		return f.setEvents(w, 0)
	}
	if !f.running {
		return nil
	}
	if ev&(unix.EPOLLIN|unix.EPOLLHUP) != 0 && f.reads {
		if err := f.read(w); err != nil || !f.running {
			return err // failed, or a server flow dropped (its fd closed)
		}
	}
	if ev&unix.EPOLLOUT != 0 && f.writes && !f.paused {
		return f.write(w)
	}
	return nil
}

// burst bounds the reads or writes one level-triggered event makes, so
// that one busy flow does not starve the others of its worker.
const burst = 8

func (f *streamFlow) read(w *worker) error {
	if w.rxZerocopy {
		return f.readZerocopy(w)
	}
	for i := 0; i < w.readBurst; i++ {
		n, e, err := w.read(f.fd, w.buf)
		if err != nil {
			return err
		}
		if e != 0 {
			if isAgain(e) {
				return nil
			}
			return f.broken(w, w.ioFailure("recvmsg", "read", e))
		}
		if n == 0 {
			return f.broken(w, errPeerClosed)
		}
		w.c.bytesRead += uint64(n)
		w.c.transactions++
		f.st.bytesRead += uint64(n)
		f.st.transactions++
		if f.server && f.writes && w.s.opts.SplitBidir {
			// The client writes on this socket: it is not one to answer
			// on (--split-bidir).
			f.writes = false
			if err := f.setEvents(w, f.wanted()); err != nil {
				return err
			}
		}
		if n < len(w.buf) {
			return nil // drained
		}
	}
	return nil
}

// readZerocopy is read with -z: the received pages are mapped, not
// copied (see rxZerocopy).
func (f *streamFlow) readZerocopy(w *worker) error {
	if f.zc == nil {
		zc, err := newRxZerocopy(f.fd, w.s.opts.BufferSize)
		if err != nil {
			return f.broken(w, err)
		}
		f.zc = zc
	}
	for i := 0; i < w.readBurst; i++ {
		w.c.readOps++
		n, mapped, drained, e := f.zc.read(f.fd, w.buf)
		if e != 0 {
			if isAgain(e) {
				return nil
			}
			return f.broken(w, w.ioFailure("recvmsg", "TCP_ZEROCOPY_RECEIVE", e))
		}
		if n == 0 {
			return f.broken(w, errPeerClosed)
		}
		w.c.bytesRead += uint64(n)
		w.c.zcMapped += uint64(mapped)
		w.c.transactions++
		f.st.bytesRead += uint64(n)
		f.st.transactions++
		if drained {
			return nil
		}
	}
	return nil
}

func (f *streamFlow) write(w *worker) error {
	for i := 0; i < w.writeBurst; i++ {
		n, e, err := w.write(f.fd, w.buf)
		if err != nil {
			return err
		}
		if e != 0 {
			if isAgain(e) {
				return nil
			}
			if e == unix.ENOBUFS && w.sendFlags&unix.MSG_ZEROCOPY != 0 {
				// Too many zero-copy sends in flight for the socket's
				// option memory: reap the completions that are in, and
				// go on at the next event.
				if err := w.drainErrors(f.fd); err != nil {
					return f.broken(w, err)
				}
				return nil
			}
			return f.broken(w, w.ioFailure("sendmsg", "write", e))
		}
		if w.sendFlags&unix.MSG_ZEROCOPY != 0 {
			w.c.zcSends++
		}
		w.c.bytesWritten += uint64(n)
		f.st.bytesWritten += uint64(n)
		if w.delays != nil {
			f.paused = true
			if err := f.setEvents(w, f.wanted()); err != nil {
				return err
			}
			return w.postpone(f)
		}
		if n < len(w.buf) {
			return nil // the send buffer is full
		}
	}
	return nil
}

// resume lets a paused flow write again.
func (f *streamFlow) resume(w *worker) error {
	if !f.paused || !f.running {
		return nil
	}
	f.paused = false
	return f.setEvents(w, f.wanted())
}

// broken handles a connection that failed: a server forgets it (its
// client decides whether the run goes on), a client fails the run, and a
// hook's failure stops it on either side.
func (f *streamFlow) broken(w *worker, err error) error {
	if f.server && !isHookError(err) {
		f.zc.close()
		f.running = false
		w.dropServerFlow(f, f.fd, err)
		return nil
	}
	if f.server {
		return err // a server's flows have no ids of their own
	}
	return fmt.Errorf("flow %d: %w", f.id, err)
}

// halfClose sends the FIN after the data a client flow wrote.
func (f *streamFlow) halfClose() {
	if !f.server {
		_ = unix.Shutdown(f.fd, unix.SHUT_WR)
	}
}

func (f *streamFlow) close(w *worker) {
	f.zc.close()
	if f.server {
		w.resetOnClose(f.fd)
		w.unregister(f.fd)
		unix.Close(f.fd)
		return
	}
	w.closeSocket(f.fd, f.ai)
}
