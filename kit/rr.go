package kit

import (
	"fmt"
	"net/netip"

	"golang.org/x/sys/unix"
)

// The tcp_rr state machines. A client flow sends a request of -Q bytes,
// reads a response of -R bytes, and records the transaction's latency; a
// server flow does the mirror image. Both keep EPOLLIN registered and ask
// for EPOLLOUT only while a write is stuck.

type rrState uint8

const (
	rrConnecting rrState = iota
	rrIdle               // connected, waiting for the start
	rrSending
	rrReceiving
	rrDone
)

type rrClient struct {
	fd      int
	id      int
	ai      *AddrInfo
	state   rrState
	off     int   // bytes of the current request sent or response read
	quota   int64 // transactions left (negative: unlimited)
	sentAt  int64 // ns: when the current request went out
	wantOut bool  // EPOLLOUT registered
}

// newRRClient connects flow id to the server address to.
func newRRClient(w *worker, id int, to netip.AddrPort) (*rrClient, error) {
	ai := addrInfo(to, false)
	fd, err := w.connectTCP(ai, sockaddr(to))
	if err != nil {
		return nil, err
	}
	f := &rrClient{fd: fd, id: id, ai: ai, quota: w.s.quota(id)}
	if err := w.register(fd, unix.EPOLLIN|unix.EPOLLOUT, f); err != nil {
		w.closeSocket(fd, ai)
		return nil, err
	}
	f.wantOut = true
	w.pending++
	return f, nil
}

func (f *rrClient) handle(w *worker, ev uint32) error {
	if ev&unix.EPOLLERR != 0 {
		if err := w.drainErrors(f.fd); err != nil {
			return fmt.Errorf("flow %d: %w", f.id, err)
		}
	}
	switch f.state {
	case rrConnecting:
		if ev&(unix.EPOLLOUT|unix.EPOLLERR|unix.EPOLLHUP) == 0 {
			return nil
		}
		if err := socketError(f.fd); err != nil {
			return fmt.Errorf("flow %d: connect to %s: %w", f.id, f.ai.Addr, err)
		}
		f.state = rrIdle
		w.flowConnected()
		return f.setOut(w, false)
	case rrSending:
		if ev&unix.EPOLLOUT != 0 {
			return f.send(w)
		}
	case rrReceiving:
		if ev&(unix.EPOLLIN|unix.EPOLLHUP) != 0 {
			return f.receive(w)
		}
	}
	return nil
}

func (f *rrClient) begin(w *worker) error {
	if f.quota == 0 {
		f.state = rrDone
		return nil
	}
	w.active++
	return f.startTransaction(w)
}

func (f *rrClient) startTransaction(w *worker) error {
	f.state, f.off, f.sentAt = rrSending, 0, int64(w.now)
	return f.send(w)
}

func (f *rrClient) send(w *worker) error {
	size := w.s.opts.RequestSize
	for f.off < size {
		n, e, err := w.write(f.fd, w.buf[:size-f.off])
		if err != nil {
			return err
		}
		if e != 0 {
			if isAgain(e) {
				return f.setOut(w, true)
			}
			return fmt.Errorf("flow %d: write: %w", f.id, e)
		}
		f.off += n
		w.c.bytesWritten += uint64(n)
	}
	f.state, f.off = rrReceiving, 0
	return f.setOut(w, false)
}

func (f *rrClient) receive(w *worker) error {
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
			return fmt.Errorf("flow %d: the server closed the connection", f.id)
		}
		f.off += n
		w.c.bytesRead += uint64(n)
		if !w.s.opts.EdgeTrigger && f.off < size {
			return nil
		}
	}
	w.c.transactions++
	w.recordLatency(w.stamp() - timeDuration(f.sentAt))
	if f.quota > 0 {
		f.quota--
		if f.quota == 0 {
			f.state = rrDone
			w.active--
			return nil
		}
	}
	if w.delays != nil {
		f.state = rrIdle
		return w.postpone(f)
	}
	return f.startTransaction(w)
}

// resume starts the next transaction once -D has passed.
func (f *rrClient) resume(w *worker) error {
	if f.state != rrIdle || !w.started {
		return nil
	}
	w.now = w.s.clock()
	return f.startTransaction(w)
}

// setOut registers or drops interest in EPOLLOUT.
func (f *rrClient) setOut(w *worker, on bool) error {
	if f.wantOut == on {
		return nil
	}
	f.wantOut = on
	ev := uint32(unix.EPOLLIN)
	if on {
		ev |= unix.EPOLLOUT
	}
	return w.poll.Mod(f.fd, ev, int32(f.fd))
}

func (f *rrClient) close(w *worker) { w.closeSocket(f.fd, f.ai) }

// rrServer answers each request of -Q bytes with -R bytes.
type rrServer struct {
	fd      int
	state   rrState
	off     int
	wantOut bool
}

func newRRServer(w *worker, fd int) flow { return &rrServer{fd: fd, state: rrReceiving} }

func (f *rrServer) begin(w *worker) error { return nil }

func (f *rrServer) handle(w *worker, ev uint32) error {
	if ev&unix.EPOLLERR != 0 {
		if err := w.drainErrors(f.fd); err != nil {
			w.dropServerFlow(f, f.fd)
			return nil
		}
	}
	switch f.state {
	case rrReceiving:
		if ev&(unix.EPOLLIN|unix.EPOLLHUP) != 0 {
			return f.receive(w)
		}
	case rrSending:
		if ev&unix.EPOLLOUT != 0 {
			return f.send(w)
		}
	}
	return nil
}

func (f *rrServer) receive(w *worker) error {
	for {
		complete, err := f.readRequest(w)
		if err != nil || !complete {
			return err
		}
		f.state, f.off = rrSending, 0
		if err := f.send(w); err != nil {
			return err
		}
		// Edge-triggered, the socket must be read until EAGAIN: the next
		// request, or the client's EOF, may already be queued.
		if !w.s.opts.EdgeTrigger || f.state != rrReceiving {
			return nil
		}
	}
}

// readRequest reads what it can of the current request and reports
// whether the request is complete. A flow whose client went away is
// dropped.
func (f *rrServer) readRequest(w *worker) (bool, error) {
	size := w.s.opts.RequestSize
	for f.off < size {
		n, e, err := w.read(f.fd, w.buf[:min(size-f.off, len(w.buf))])
		if err != nil {
			return false, err
		}
		if e != 0 || n == 0 {
			if e == 0 || !isAgain(e) {
				w.dropServerFlow(f, f.fd)
			}
			return false, nil
		}
		f.off += n
		w.c.bytesRead += uint64(n)
		if !w.s.opts.EdgeTrigger && f.off < size {
			return false, nil
		}
	}
	return true, nil
}

func (f *rrServer) send(w *worker) error {
	size := w.s.opts.ResponseSize
	for f.off < size {
		n, e, err := w.write(f.fd, w.buf[:size-f.off])
		if err != nil {
			return err
		}
		if e != 0 {
			if isAgain(e) {
				return f.setOut(w, true)
			}
			w.dropServerFlow(f, f.fd)
			return nil
		}
		f.off += n
		w.c.bytesWritten += uint64(n)
	}
	w.c.transactions++
	f.state, f.off = rrReceiving, 0
	return f.setOut(w, false)
}

func (f *rrServer) setOut(w *worker, on bool) error {
	if f.wantOut == on {
		return nil
	}
	f.wantOut = on
	ev := uint32(unix.EPOLLIN)
	if on {
		ev |= unix.EPOLLOUT
	}
	return w.poll.Mod(f.fd, ev, int32(f.fd))
}

func (f *rrServer) close(w *worker) {
	w.unregister(f.fd)
	unix.Close(f.fd)
}

// dropServerFlow closes a server flow whose client has gone: the end of
// a connection is the client's business, and the control connection
// tells whether the run is still on.
func (w *worker) dropServerFlow(f flow, fd int) {
	w.unregister(fd)
	unix.Close(fd)
	w.removeFlow(f)
}

// halfClose tells the server this flow is done: it reads to the EOF.
func (f *rrClient) halfClose() { _ = unix.Shutdown(f.fd, unix.SHUT_WR) }
