package kit

import (
	"net/netip"

	"golang.org/x/sys/unix"
)

// Side names the end of a run a worker belongs to.
type Side int

// The two sides of a run.
const (
	ServerSide Side = iota
	ClientSide
)

// other is the peer's side.
func (s Side) other() Side { return 1 - s }

func (s Side) String() string {
	if s == ClientSide {
		return "client"
	}
	return "server"
}

// WorkerInfo identifies a worker to a HookProvider.
type WorkerInfo struct {
	Side    Side
	Index   int // 0-based worker index
	Workers int // workers on this side
}

// AddrInfo describes the address a socket is bound to (server) or
// connected to (client), like the struct addrinfo handed to socket hooks.
type AddrInfo struct {
	Family   int // AF_INET or AF_INET6
	SockType int // SOCK_STREAM or SOCK_DGRAM
	Protocol int // IPPROTO_TCP or IPPROTO_UDP
	Flags    int // AI_* flags used to resolve it
	Addr     netip.AddrPort
}

// Msg is the message a packet hook moves data with, a struct msghdr over
// the worker's buffers. The kit builds one per worker and re-points it for
// every call; a hook must not keep it past the call.
type Msg struct {
	// Buf holds the bytes to send (SendMsg) or room for the bytes to
	// receive (RecvMsg, RecvErr).
	Buf []byte
	// Name is room for a peer address (a sockaddr_storage); NameLen is its
	// length in use (0 when unused).
	Name    []byte
	NameLen int
	// Control is the control-message buffer (512 bytes for RecvMsg and
	// RecvErr, empty for SendMsg); ControlLen its length in use.
	Control    []byte
	ControlLen int
	// Flags is msg_flags, as the kernel returned it.
	Flags int

	// The kernel's view, filled for each call: kept here so that a call
	// allocates nothing.
	hdr unix.Msghdr
	iov unix.Iovec
}

// PacketHook replaces one read or write on a data socket. It returns the
// bytes moved. An error of type unix.Errno is the socket call's failure
// (EAGAIN: try again when the socket is ready again); any other error is
// the hook's own failure and stops the run.
type PacketHook func(fd int, msg *Msg, flags int) (int, error)

// SocketHook runs right after socket(2) or right before close(2). An
// error stops the run.
type SocketHook func(fd int, ai *AddrInfo) error

// Hooks is one worker's hook set. A nil field means the plain call.
type Hooks struct {
	SocketOpened  SocketHook
	SocketClosing SocketHook
	SendMsg       PacketHook
	RecvMsg       PacketHook
	RecvErr       PacketHook
	// Close releases the set when its worker ends (may be nil).
	Close func()
	// Interrupt, if set, is called from another goroutine, every 250 ms
	// from StopGrace-250ms after the run ended on, while the worker has
	// not ended (a hook stuck in a loop or a blocking call): it must make
	// a hook call that was running at the previous Interrupt too return
	// an error soon. A hook called after that is not affected.
	Interrupt func()
}

// HookProvider makes one hook set per worker. The kit calls NewHooks on
// the worker's own OS thread before the worker opens sockets, and the set
// is used only on that thread.
type HookProvider interface {
	NewHooks(w WorkerInfo) (*Hooks, error)
}

// HookProviderFunc adapts a function to HookProvider.
type HookProviderFunc func(w WorkerInfo) (*Hooks, error)

// NewHooks calls f.
func (f HookProviderFunc) NewHooks(w WorkerInfo) (*Hooks, error) { return f(w) }

// HookError is a failure of a hook (not of the socket call it made).
type HookError struct {
	Hook string // e.g. "server_recvmsg"
	Err  error
}

func (e *HookError) Error() string {
	if _, ok := e.Err.(*returnedError); ok {
		return e.Hook + " " + e.Err.Error() // "client_sendmsg returned EINVAL (…)"
	}
	return e.Hook + ": " + e.Err.Error()
}
func (e *HookError) Unwrap() error { return e.Err }
