package kit

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// DummyTest is rushit's test workload, kept so that rushit's functional
// tests run unchanged: no traffic; each worker opens one socket (one end
// of a local socket pair), calls the packet hooks once each in the order
// of its side (client: sendmsg, recvmsg, recverr; server: recvmsg,
// sendmsg, recverr), then waits for the end and closes the socket.
const DummyTest Workload = "dummy_test"

type dummySetup struct{}

type dummyFlow struct {
	fd, peer int
	ai       *AddrInfo
}

func (dummySetup) setup(w *worker) error {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("socketpair: %w", err)
	}
	f := &dummyFlow{fd: fds[0], peer: fds[1], ai: &AddrInfo{Family: unix.AF_UNIX, SockType: unix.SOCK_STREAM}}
	if w.hooks != nil && w.hooks.SocketOpened != nil {
		if err := w.hooks.SocketOpened(f.fd, f.ai); err != nil {
			unix.Close(f.fd)
			unix.Close(f.peer)
			return &HookError{Hook: w.s.hookName("socket"), Err: err}
		}
	}
	w.flows = append(w.flows, f)
	return nil
}

func (f *dummyFlow) handle(w *worker, ev uint32) error { return nil }

// begin plays the fake events once.
func (f *dummyFlow) begin(w *worker) error {
	order := []func() error{f.send(w), f.recv(w), f.recverr(w)}
	if w.s.side == ServerSide {
		order[0], order[1] = order[1], order[0]
	}
	for _, call := range order {
		if err := call(); err != nil {
			return err
		}
	}
	return nil
}

func (f *dummyFlow) send(w *worker) func() error {
	return func() error { _, _, err := w.write(f.fd, w.buf[:1]); return err }
}

func (f *dummyFlow) recv(w *worker) func() error {
	return func() error { _, _, err := w.read(f.fd, w.buf); return err }
}

func (f *dummyFlow) recverr(w *worker) func() error {
	return func() error {
		if w.hooks == nil || w.hooks.RecvErr == nil {
			return nil
		}
		w.msg = Msg{Buf: w.buf, Control: w.ctl}
		_, _, err := w.callPacketHook(w.hooks.RecvErr, "recverr", f.fd, unix.MSG_ERRQUEUE)
		return err
	}
}

func (f *dummyFlow) close(w *worker) {
	w.closeSocket(f.fd, f.ai)
	unix.Close(f.peer)
}
