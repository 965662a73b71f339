package kit

import (
	"errors"

	"golang.org/x/sys/unix"
)

// Reading and writing the fixed-size messages of the rr workloads: a
// request or response may take several calls; *off says how much of it is
// done. The flows decide what a failure means (a client fails the run, a
// server drops the connection); a hook's own failure always stops the run.

// errPeerClosed is a read that returned 0: the peer closed the connection.
var errPeerClosed = errors.New("the peer closed the connection")

// closedMidTransaction is errPeerClosed in the words of a client whose
// server closed the connection before answering; it still is
// errPeerClosed, so that the server's own reason can replace it.
type closedMidTransaction struct{}

func (closedMidTransaction) Error() string {
	return "the server closed the connection mid-transaction"
}

func (closedMidTransaction) Is(target error) bool { return target == errPeerClosed }

// recvPart reads what it can of a message of size bytes and reports
// whether it is complete. With oneRead (level-triggered) it makes one
// read per event; edge-triggered it reads until EAGAIN or the end.
// The bytes count in the worker's counters and flow st's.
func (w *worker) recvPart(st *flowStats, fd int, off *int, size int, oneRead bool) (bool, error) {
	for *off < size {
		n, e, err := w.read(fd, w.buf[:min(size-*off, len(w.buf))])
		if err != nil {
			return false, err
		}
		if e != 0 {
			if isAgain(e) {
				return false, nil
			}
			return false, w.ioFailure("recvmsg", "read", e)
		}
		if n == 0 {
			return false, errPeerClosed
		}
		*off += n
		w.c.bytesRead += uint64(n)
		st.bytesRead += uint64(n)
		if oneRead && *off < size {
			return false, nil
		}
	}
	return true, nil
}

// sendPart writes what it can of a message of size bytes and reports
// whether it is complete; false with no error means the socket is full.
func (w *worker) sendPart(st *flowStats, fd int, off *int, size int) (bool, error) {
	for *off < size {
		n, e, err := w.write(fd, w.buf[:size-*off])
		if err != nil {
			return false, err
		}
		if e != 0 {
			if isAgain(e) {
				return false, nil
			}
			return false, w.ioFailure("sendmsg", "write", e)
		}
		*off += n
		w.c.bytesWritten += uint64(n)
		st.bytesWritten += uint64(n)
	}
	return true, nil
}

// isHookError reports whether err is a hook's own failure, which stops the
// run whatever the flow would do with a socket error.
func isHookError(err error) bool {
	// Unwrapped by hand: errors.As would allocate its target on this
	// path, once per connection of a tcp_crr server.
	for ; err != nil; err = errors.Unwrap(err) {
		if _, ok := err.(*HookError); ok {
			return true
		}
	}
	return false
}

// outInterest tracks whether a level-triggered flow has asked for
// EPOLLOUT: it does so only while a write is stuck.
type outInterest struct{ on bool }

// set registers or drops interest in EPOLLOUT for fd.
func (o *outInterest) set(w *worker, fd int, on bool) error {
	if o.on == on {
		return nil
	}
	o.on = on
	ev := uint32(unix.EPOLLIN)
	if on {
		ev |= unix.EPOLLOUT
	}
	return w.poll.Mod(fd, ev, int32(fd))
}
