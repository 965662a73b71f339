package kit

import (
	"fmt"
	"net/netip"

	"golang.org/x/sys/unix"
)

// The tcp_crr state machines: every transaction is a fresh connection.
// A client flow connects, sends -Q bytes, reads -R bytes and closes; its
// latency runs from the connect to the last byte of the response. A server
// flow reads the request, answers, and closes when its client has.

type crrState uint8

const (
	crrIdle crrState = iota
	crrConnecting
	crrSending
	crrReceiving
	crrDone
)

type crrClient struct {
	fd      int
	id      int
	to      netip.AddrPort
	sa      unix.Sockaddr
	ai      *AddrInfo
	state   crrState
	off     int
	quota   int64
	startAt int64
}

func newCRRClient(w *worker, id int, to netip.AddrPort) (flow, error) {
	return &crrClient{fd: -1, id: id, to: to, sa: sockaddr(to), ai: addrInfo(to, false), quota: w.s.quota(id)}, nil
}

func (f *crrClient) begin(w *worker) error {
	if f.quota == 0 {
		f.state = crrDone
		return nil
	}
	w.active++
	return f.connect(w)
}

// connect opens the transaction's connection.
func (f *crrClient) connect(w *worker) error {
	fd, err := w.connectTCP(f.ai, f.sa)
	if err != nil {
		return fmt.Errorf("flow %d: %w", f.id, err)
	}
	f.fd, f.state, f.off, f.startAt = fd, crrSending, 0, int64(w.now)
	w.c.connections++
	// Edge-triggered for both directions: no epoll_ctl per state change.
	if err := w.registerEdge(fd, unix.EPOLLIN|unix.EPOLLOUT, f); err != nil {
		return err
	}
	// Over loopback the handshake is often done by now: try the request
	// at once (EAGAIN while connecting; EPOLLOUT says when it is done).
	return f.send(w)
}

func (f *crrClient) handle(w *worker, ev uint32) error {
	if ev&unix.EPOLLERR != 0 {
		if err := w.drainErrors(f.fd); err != nil {
			return fmt.Errorf("flow %d: %w", f.id, err)
		}
	}
	switch f.state {
	case crrSending:
		if ev&(unix.EPOLLOUT|unix.EPOLLHUP) != 0 {
			return f.send(w)
		}
	case crrReceiving:
		if ev&(unix.EPOLLIN|unix.EPOLLHUP) != 0 {
			return f.receive(w)
		}
	}
	return nil
}

func (f *crrClient) send(w *worker) error {
	size := w.s.opts.RequestSize
	for f.off < size {
		n, e, err := w.write(f.fd, w.buf[:size-f.off])
		if err != nil {
			return err
		}
		if e != 0 {
			if isAgain(e) {
				return nil
			}
			if f.off == 0 {
				return fmt.Errorf("flow %d: connect to %s: %w", f.id, f.to, e)
			}
			return fmt.Errorf("flow %d: write: %w", f.id, e)
		}
		f.off += n
		w.c.bytesWritten += uint64(n)
	}
	f.state, f.off = crrReceiving, 0
	// The response may already be queued, and edge-triggered it would not
	// be announced again.
	return f.receive(w)
}

func (f *crrClient) receive(w *worker) error {
	size := w.s.opts.ResponseSize
	for f.off < size {
		n, e, err := w.read(f.fd, w.buf[:min(size-f.off, len(w.buf))])
		if err != nil {
			return err
		}
		if e != 0 {
			if isAgain(e) {
				return nil
			}
			return fmt.Errorf("flow %d: read: %w", f.id, e)
		}
		if n == 0 {
			return fmt.Errorf("flow %d: the server closed the connection mid-transaction", f.id)
		}
		f.off += n
		w.c.bytesRead += uint64(n)
	}
	w.c.transactions++
	w.recordLatency(w.stamp() - timeDuration(f.startAt))
	// Close with a reset, as neper does: no TIME_WAIT, so tens of thousands
	// of connections a second do not exhaust the ports or slow connect(2).
	_ = unix.SetsockoptLinger(f.fd, unix.SOL_SOCKET, unix.SO_LINGER, &w.resetLinger)
	w.closeSocket(f.fd, f.ai)
	f.fd, f.state = -1, crrIdle
	if f.quota > 0 {
		if f.quota--; f.quota == 0 {
			f.state = crrDone
			w.active--
			return nil
		}
	}
	if w.delays != nil {
		return w.postpone(f)
	}
	return f.connect(w)
}

func (f *crrClient) resume(w *worker) error {
	if f.state != crrIdle || !w.started {
		return nil
	}
	w.now = w.s.clock()
	return f.connect(w)
}

func (f *crrClient) close(w *worker) {
	if f.fd >= 0 {
		w.closeSocket(f.fd, f.ai)
		f.fd = -1
	}
}

// crrServer answers one request and closes once its client has.
type crrServer struct {
	fd      int
	off     int
	replied bool
}

// newCRRServer takes a server flow from the worker's free list: a busy
// tcp_crr server accepts tens of thousands of connections a second.
func newCRRServer(w *worker, fd int) flow {
	if n := len(w.crrFree); n > 0 {
		f := w.crrFree[n-1]
		w.crrFree = w.crrFree[:n-1]
		*f = crrServer{fd: fd}
		return f
	}
	return &crrServer{fd: fd}
}

// drop closes a finished server connection and keeps the flow for reuse.
func (f *crrServer) drop(w *worker) {
	w.dropServerFlow(f, f.fd)
	w.crrFree = append(w.crrFree, f)
}

func (f *crrServer) begin(w *worker) error { return nil }

func (f *crrServer) handle(w *worker, ev uint32) error {
	if ev&unix.EPOLLERR != 0 {
		if err := w.drainErrors(f.fd); err != nil {
			f.drop(w)
			return nil
		}
	}
	if ev&unix.EPOLLOUT != 0 && f.replied {
		return f.send(w)
	}
	if ev&(unix.EPOLLIN|unix.EPOLLHUP|unix.EPOLLRDHUP) == 0 {
		return nil
	}
	size := w.s.opts.RequestSize
	for {
		n, e, err := w.read(f.fd, w.buf[:min(max(size-f.off, 1), len(w.buf))])
		if err != nil {
			return err
		}
		if e != 0 {
			if !isAgain(e) {
				f.drop(w)
			}
			return nil
		}
		if n == 0 { // the client closed: this connection is done
			f.drop(w)
			return nil
		}
		w.c.bytesRead += uint64(n)
		if f.off += n; f.off >= size && !f.replied {
			f.replied, f.off = true, 0
			return f.send(w)
		}
		if !w.s.opts.EdgeTrigger {
			return nil
		}
	}
}

func (f *crrServer) send(w *worker) error {
	size := w.s.opts.ResponseSize
	for f.off < size {
		n, e, err := w.write(f.fd, w.buf[:size-f.off])
		if err != nil {
			return err
		}
		if e != 0 {
			if isAgain(e) {
				return w.poll.Mod(f.fd, unix.EPOLLIN|unix.EPOLLOUT, int32(f.fd))
			}
			f.drop(w)
			return nil
		}
		f.off += n
		w.c.bytesWritten += uint64(n)
	}
	w.c.transactions++
	f.off = size + 1 // nothing more to send
	return nil
}

func (f *crrServer) close(w *worker) {
	w.unregister(f.fd)
	unix.Close(f.fd)
}

// halfClose tells the server the connection in flight is done.
func (f *crrClient) halfClose() {
	if f.fd >= 0 {
		_ = unix.Shutdown(f.fd, unix.SHUT_WR)
	}
}
