package kit

import (
	"errors"
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
	crrSending
	crrReceiving
	crrDone
)

type crrClient struct {
	fd      int
	id      int
	st      flowStats // its address unknown: it changes every transaction
	to      netip.AddrPort
	sa      *rawSockaddr
	ai      *AddrInfo
	state   crrState
	off     int
	quota   int64
	startAt int64
}

func newCRRClient(w *worker, id int, to netip.AddrPort) (flow, error) {
	f := &crrClient{fd: -1, id: id, st: flowStats{id: id}, to: to, sa: newRawSockaddr(to), ai: addrInfo(to, false), quota: w.s.quota(id)}
	w.trackFlow(&f.st)
	return f, nil
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
	fd, err := w.connectTCP(f.ai, f.sa, f.id)
	if err != nil {
		return fmt.Errorf("flow %d: %w", f.id, err)
	}
	f.fd, f.state, f.off, f.startAt = fd, crrSending, 0, int64(w.now)
	w.c.connections++
	// Over loopback the handshake is usually done by now: try the request
	// at once (EAGAIN while connecting).
	done, err := f.write(w)
	if err != nil {
		return err
	}
	// Edge-triggered: no epoll_ctl per state change. Registering reports
	// a response that is already queued, so there is no read to try yet.
	if done {
		f.state, f.off = crrReceiving, 0
		return w.registerEdge(fd, unix.EPOLLIN, f)
	}
	// Connecting, or the request did not fit: EPOLLOUT says when to go on.
	return w.registerEdge(fd, unix.EPOLLIN|unix.EPOLLOUT, f)
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

// write sends what it can of the request.
func (f *crrClient) write(w *worker) (bool, error) {
	done, err := w.sendPart(&f.st, f.fd, &f.off, w.s.opts.RequestSize)
	if err != nil {
		if f.off == 0 && !isHookError(err) {
			// The first write is where a failed connect shows.
			cause := err
			if !w.hooked("sendmsg") {
				cause = errors.Unwrap(err) // the errno, without "write: "
			}
			return false, fmt.Errorf("flow %d: connect to %s: %w", f.id, f.to, cause)
		}
		return false, fmt.Errorf("flow %d: %w", f.id, err)
	}
	return done, nil
}

func (f *crrClient) send(w *worker) error {
	done, err := f.write(w)
	if err != nil || !done {
		return err // on !done: connecting, or the socket is full: EPOLLOUT comes
	}
	f.state, f.off = crrReceiving, 0
	// The response may already be queued, and edge-triggered it would not
	// be announced again.
	return f.receive(w)
}

func (f *crrClient) receive(w *worker) error {
	done, err := w.recvPart(&f.st, f.fd, &f.off, w.s.opts.ResponseSize, false)
	if errors.Is(err, errPeerClosed) {
		err = closedMidTransaction{}
	}
	if err != nil {
		return fmt.Errorf("flow %d: %w", f.id, err)
	}
	if !done {
		return nil
	}
	w.c.transactions++
	f.st.transactions++
	w.recordLatency(&f.st, w.stamp()-timeDuration(f.startAt))
	// The socket has SO_LINGER 0 unless --time-wait, as neper's do: it
	// closes with a reset, leaving no TIME_WAIT, so that tens of
	// thousands of connections a second do not exhaust the ports or slow
	// connect(2).
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
	replied bool // the whole request arrived; the response is (being) sent
	sent    bool // the whole response went out
	out     outInterest
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

// drop closes a finished server connection (cause says how it ended:
// nil for the client's reset after the answer) and keeps the flow for
// reuse.
func (f *crrServer) drop(w *worker, cause error) {
	w.dropServerFlow(f, f.fd, cause)
	w.crrFree = append(w.crrFree, f)
}

func (f *crrServer) begin(w *worker) error { return nil }

func (f *crrServer) handle(w *worker, ev uint32) error {
	if ev&unix.EPOLLERR != 0 {
		if f.sent && (w.hooks == nil || w.hooks.RecvErr == nil) {
			// The client's reset after the answer: the connection is done,
			// with nothing on its error queue worth two more system calls.
			f.drop(w, nil)
			return nil
		}
		if err := w.drainErrors(f.fd); err != nil {
			return f.failed(w, err)
		}
	}
	if ev&unix.EPOLLOUT != 0 && f.replied && !f.sent {
		return f.send(w)
	}
	if ev&(unix.EPOLLIN|unix.EPOLLHUP|unix.EPOLLRDHUP) == 0 {
		return nil
	}
	if !f.replied {
		done, err := w.recvPart(&w.untracked, f.fd, &f.off, w.s.opts.RequestSize, !w.s.opts.EdgeTrigger)
		if err != nil || !done {
			return f.failed(w, err)
		}
		f.replied, f.off = true, 0
		return f.send(w)
	}
	// Answered: what follows is the client's EOF (or reset).
	n, e, err := w.read(f.fd, w.buf)
	switch {
	case err != nil:
		return err
	case e != 0 && isAgain(e):
		return nil
	case e != 0 && w.hooked("recvmsg") && !peerGone(e):
		return w.ioFailure("recvmsg", "read", e)
	case e != 0:
		f.drop(w, e)
	case n == 0:
		f.drop(w, errPeerClosed)
	}
	return nil
}

func (f *crrServer) send(w *worker) error {
	done, err := w.sendPart(&w.untracked, f.fd, &f.off, w.s.opts.ResponseSize)
	if err != nil {
		return f.failed(w, err)
	}
	if !done {
		return f.out.set(w, f.fd, true)
	}
	w.c.transactions++
	f.sent = true
	return f.out.set(w, f.fd, false)
}

// failed drops a connection whose client went away; a hook's failure
// stops the run. A nil err means nothing failed.
func (f *crrServer) failed(w *worker, err error) error {
	if err == nil {
		return nil
	}
	if isHookError(err) {
		return err
	}
	f.drop(w, err)
	return nil
}

func (f *crrServer) close(w *worker) {
	w.resetOnClose(f.fd)
	w.unregister(f.fd)
	sysClose(f.fd)
}

// halfClose tells the server the connection in flight is done.
func (f *crrClient) halfClose() {
	if f.fd >= 0 {
		_ = unix.Shutdown(f.fd, unix.SHUT_WR)
	}
}
