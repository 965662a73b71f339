package kit

import (
	"errors"
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
	fd     int
	id     int
	st     flowStats
	ai     *AddrInfo
	state  rrState
	off    int   // bytes of the current request sent or response read
	quota  int64 // transactions left (negative: unlimited)
	sentAt int64 // ns: when the current request went out
	out    outInterest
}

// newRRClient connects flow id to the server address to.
func newRRClient(w *worker, id int, to netip.AddrPort) (*rrClient, error) {
	ai := addrInfo(to, false)
	fd, err := w.connectTCP(ai, newRawSockaddr(to), id)
	if err != nil {
		return nil, err
	}
	f := &rrClient{fd: fd, id: id, st: newClientStats(id, fd), ai: ai, quota: w.s.quota(id)}
	if err := w.register(fd, unix.EPOLLIN|unix.EPOLLOUT, f); err != nil {
		w.closeSocket(fd, ai)
		return nil, err
	}
	f.out.on = true
	w.pending++
	w.trackFlow(&f.st)
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
		return f.out.set(w, f.fd, false)
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
	if w.s.opts.NoBurst > 0 {
		// The first request waits for the flow's slot too.
		f.state = rrIdle
		return w.postpone(f)
	}
	return f.startTransaction(w)
}

func (f *rrClient) startTransaction(w *worker) error {
	f.state, f.off, f.sentAt = rrSending, 0, int64(w.now)
	return f.send(w)
}

func (f *rrClient) send(w *worker) error {
	done, err := w.sendPart(&f.st, f.fd, &f.off, w.s.opts.RequestSize)
	if err != nil {
		return fmt.Errorf("flow %d: %w", f.id, err)
	}
	if !done {
		return f.out.set(w, f.fd, true)
	}
	f.state, f.off = rrReceiving, 0
	return f.out.set(w, f.fd, false)
}

func (f *rrClient) receive(w *worker) error {
	done, err := w.recvPart(&f.st, f.fd, &f.off, w.s.opts.ResponseSize, !w.s.opts.EdgeTrigger)
	if err != nil {
		return fmt.Errorf("flow %d: %w", f.id, err)
	}
	if !done {
		return nil
	}
	w.c.transactions++
	f.st.transactions++
	w.recordLatency(&f.st, w.stamp()-timeDuration(f.sentAt))
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

// resume starts the next transaction once -D has passed (or the
// --noburst slot has come).
func (f *rrClient) resume(w *worker) error {
	if f.state != rrIdle || !w.started {
		return nil
	}
	w.now = w.s.clock()
	return f.startTransaction(w)
}

func (f *rrClient) close(w *worker) { w.closeSocket(f.fd, f.ai) }

// rrServer answers each request of -Q bytes with -R bytes.
type rrServer struct {
	fd    int
	st    flowStats
	state rrState
	off   int
	out   outInterest
}

func newRRServer(w *worker, fd int) flow {
	f := &rrServer{fd: fd, st: newServerStats(fd), state: rrReceiving}
	w.trackFlow(&f.st)
	return f
}

func (f *rrServer) begin(w *worker) error { return nil }

func (f *rrServer) handle(w *worker, ev uint32) error {
	if ev&unix.EPOLLERR != 0 {
		if err := w.drainErrors(f.fd); err != nil {
			w.dropServerFlow(f, f.fd, err)
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
	done, err := w.recvPart(&f.st, f.fd, &f.off, w.s.opts.RequestSize, !w.s.opts.EdgeTrigger)
	if err != nil {
		return false, f.failed(w, err)
	}
	return done, nil
}

func (f *rrServer) send(w *worker) error {
	done, err := w.sendPart(&f.st, f.fd, &f.off, w.s.opts.ResponseSize)
	if err != nil {
		return f.failed(w, err)
	}
	if !done {
		return f.out.set(w, f.fd, true)
	}
	w.c.transactions++
	f.st.transactions++
	f.state, f.off = rrReceiving, 0
	return f.out.set(w, f.fd, false)
}

// failed handles a connection whose client went away (dropped: the
// control connection says whether the run goes on) or a hook that failed
// (the run stops).
func (f *rrServer) failed(w *worker, err error) error {
	if isHookError(err) {
		return err
	}
	w.dropServerFlow(f, f.fd, err)
	return nil
}

func (f *rrServer) close(w *worker) {
	w.resetOnClose(f.fd)
	w.unregister(f.fd)
	unix.Close(f.fd)
}

// dropServerFlow closes a server flow whose client has gone (cause
// says how): the end of a connection is the client's business, and the
// control connection tells whether the run is still on.
func (w *worker) dropServerFlow(f flow, fd int, cause error) {
	if _, ok := f.(tcpConn); ok {
		w.noteTCPInfo(fd)
	}
	if errors.Is(cause, errPeerClosed) {
		w.resetOnClose(fd)
	}
	w.unregister(fd)
	sysClose(fd)
	w.removeFlow(f)
}

// resetOnClose makes a server's TCP flow close with a reset unless the
// client asked for --time-wait: a client ends its flows with a FIN, and
// a FIN back would leave the client's socket in TIME_WAIT, which neper's
// clients (SO_LINGER 0) never have. A reset client needs none.
func (w *worker) resetOnClose(fd int) {
	if w.s.side == ServerSide && !w.s.opts.TimeWait && !w.s.opts.Workload.IsUDP() {
		_ = sysSetLinger(fd, &resetLinger)
	}
}

// halfClose tells the server this flow is done: it reads to the EOF.
func (f *rrClient) halfClose() { _ = unix.Shutdown(f.fd, unix.SHUT_WR) }
