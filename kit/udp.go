package kit

import (
	"fmt"
	"math"
	"net/netip"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The UDP workloads. A server worker owns one bound socket (the data port
// plus its index, or the data port itself with --reuseport) and serves
// every client flow that lands on it; a client flow is a connected socket.
// udp_rr answers each request datagram with a response datagram; in
// udp_stream the client sends -B-byte datagrams and the server counts them.

// udpServer is a server worker's bound socket.
type udpServer struct {
	fd   int
	ai   *AddrInfo
	rr   bool
	peer unix.RawSockaddrAny // where the current datagram came from
	plen uint32
	name [unix.SizeofSockaddrAny]byte // msg_name for hooks
	// batch receives a udp_stream's datagrams in batches (nil with hooks,
	// which see each datagram, and in udp_rr, which answers each).
	batch *mmsgBatch
}

// mmsgBatchSize is how many datagrams one recvmmsg(2) takes.
const mmsgBatchSize = 32

func (udpServerSetup) setup(w *worker) error {
	s := w.s
	ai := addrInfo(s.bindAddr(w.id), true)
	fd, err := w.openSocket(ai)
	if err != nil {
		return err
	}
	w.closers = append(w.closers, func() { w.closeSocket(fd, ai) })
	if err := setReuse(fd, s.opts.ReusePort, s.opts.ReuseAddr); err != nil {
		return err
	}
	bound, err := bindTo(fd, ai.Addr)
	if err != nil {
		return err
	}
	s.setDataAddr(w.id, bound)
	u := &udpServer{fd: fd, ai: ai, rr: s.opts.Workload == UDPRR}
	if !u.rr && (w.hooks == nil || w.hooks.RecvMsg == nil) {
		u.batch = newMmsgBatch(mmsgBatchSize, s.opts.BufferSize)
	}
	return w.register(fd, unix.EPOLLIN, u)
}

type udpServerSetup struct{}

func (u *udpServer) handle(w *worker, ev uint32) error {
	if ev&unix.EPOLLERR != 0 {
		// An ICMP error from a client that went away: not the server's failure.
		_ = w.drainErrors(u.fd)
	}
	if ev&unix.EPOLLIN == 0 {
		return nil
	}
	if u.batch != nil {
		return u.receiveBatches(w)
	}
	for i, limit := 0, w.datagramBurst(); i < limit; i++ {
		n, e, err := u.recv(w)
		if err != nil {
			return err
		}
		if e != 0 {
			if udpTransient(e) {
				return nil
			}
			return w.ioFailure("recvmsg", "recvfrom", e)
		}
		w.c.bytesRead += uint64(n)
		w.c.packetsRead++
		if !u.rr {
			w.c.transactions++
			continue
		}
		if err := u.respond(w); err != nil {
			return err
		}
	}
	return nil
}

// udpTransient reports whether a UDP socket call's errno is a passing
// loss rather than a failure: try again (EAGAIN, EINTR), a full queue
// (ENOBUFS), or an ICMP error that says the peer went away or cannot be
// reached (ECONNREFUSED and the rest of peerGone). The same errnos are
// passing when a hook returns them; any other a hook returns fails the
// run (worker.ioFailure).
func udpTransient(e unix.Errno) bool {
	return isAgain(e) || e == unix.ENOBUFS || peerGone(e)
}

// receiveBatches counts the queued datagrams, a batch per system call, up
// to a few batches per event when level-triggered.
func (u *udpServer) receiveBatches(w *worker) error {
	limit := 4
	if w.s.opts.EdgeTrigger {
		limit = math.MaxInt32
	}
	for i := 0; i < limit; i++ {
		n, e := u.batch.recv(u.fd)
		if e != 0 {
			if isAgain(e) || e == unix.ECONNREFUSED {
				return nil
			}
			return fmt.Errorf("recvmmsg: %w", e)
		}
		for j := 0; j < n; j++ {
			w.c.bytesRead += uint64(u.batch.hdrs[j].len)
		}
		w.c.packetsRead += uint64(n)
		w.c.transactions += uint64(n)
		if n < len(u.batch.hdrs) {
			return nil // drained
		}
	}
	return nil
}

// datagramBurst is how many datagrams a UDP server reads per event: more
// than a stream's burst when level-triggered (datagrams are small).
func (w *worker) datagramBurst() int {
	if w.readBurst == burst {
		return 4 * burst
	}
	return w.readBurst
}

// recv reads one datagram and remembers its sender.
func (u *udpServer) recv(w *worker) (int, unix.Errno, error) {
	if w.hooks == nil || w.hooks.RecvMsg == nil {
		n, e := sysRecvfrom(u.fd, w.buf, &u.peer, &u.plen)
		return n, e, nil
	}
	w.msg = Msg{Buf: w.buf, Name: u.name[:], Control: w.ctl}
	n, e, err := w.callPacketHook(w.hooks.RecvMsg, "recvmsg", u.fd, 0)
	// The reply goes where the hook's recvmsg said the request came from,
	// whether a sendmsg hook or the plain sendto sends it.
	u.plen = uint32(min(w.msg.NameLen, len(u.name)))
	copy((*[unix.SizeofSockaddrAny]byte)(unsafe.Pointer(&u.peer))[:], u.name[:u.plen])
	return n, e, err
}

// respond sends the response datagram back to the sender.
func (u *udpServer) respond(w *worker) error {
	size := w.s.opts.ResponseSize
	var n int
	var e unix.Errno
	if w.hooks == nil || w.hooks.SendMsg == nil {
		n, e = sysSendto(u.fd, w.buf[:size], &u.peer, u.plen)
	} else {
		// Addressed to the request's sender, whether a recvmsg hook or
		// the plain recvfrom read the request.
		copy(u.name[:], (*[unix.SizeofSockaddrAny]byte)(unsafe.Pointer(&u.peer))[:u.plen])
		w.msg = Msg{Buf: w.buf[:size], Name: u.name[:u.plen], NameLen: int(u.plen)}
		var err error
		if n, e, err = w.callPacketHook(w.hooks.SendMsg, "sendmsg", u.fd, 0); err != nil {
			return err
		}
	}
	if e != 0 {
		if udpTransient(e) {
			// The client's buffer is full or it has gone: this
			// transaction is lost, as it would be on a network; the
			// client resends.
			return nil
		}
		return w.ioFailure("sendmsg", "sendto", e)
	}
	w.c.bytesWritten += uint64(n)
	w.c.packetsWritten++
	w.c.transactions++
	return nil
}

// udpClient is one client flow: a connected UDP socket.
type udpClient struct {
	fd      int
	id      int
	st      flowStats
	ai      *AddrInfo
	rr      bool
	waiting bool // rr: a request is out
	running bool
	paused  bool
	quota   int64
	sentAt  time.Duration
	// rr: seq is the sequence number of the request out, carried in its
	// first seqLen bytes (seqMask: the values those bytes hold); bit k
	// of answered is set when request seq-k has had its response.
	seq      uint64
	seqLen   int
	seqMask  uint64
	answered uint64
}

type udpClientSetup struct{}

func (udpClientSetup) setup(w *worker) error {
	for _, id := range w.s.flowsOf(w.id) {
		f, err := newUDPClient(w, id, w.s.peerAddr(id))
		if err != nil {
			return err
		}
		w.flows = append(w.flows, f)
	}
	return nil
}

func newUDPClient(w *worker, id int, to netip.AddrPort) (*udpClient, error) {
	ai := addrInfo(to, true)
	fd, err := w.openSocket(ai)
	if err != nil {
		return nil, err
	}
	f := &udpClient{fd: fd, id: id, ai: ai, rr: w.s.opts.Workload == UDPRR, quota: w.s.quota(id)}
	f.seqLen = min(w.s.opts.RequestSize, w.s.opts.ResponseSize, seqSize)
	f.seqMask = math.MaxUint64 >> (64 - 8*f.seqLen)
	if err := w.s.bindLocal(fd, id, ai.Family); err != nil {
		w.closeSocket(fd, ai)
		return nil, err
	}
	if err := unix.Connect(fd, sockaddr(to)); err != nil {
		w.closeSocket(fd, ai)
		return nil, fmt.Errorf("connect to %s: %w", to, err)
	}
	if err := w.register(fd, 0, f); err != nil {
		w.closeSocket(fd, ai)
		return nil, err
	}
	f.st = newClientStats(id, fd)
	w.trackFlow(&f.st)
	return f, nil
}

func (f *udpClient) begin(w *worker) error {
	if f.rr && f.quota == 0 {
		return nil
	}
	f.running = true
	w.active++
	if f.rr {
		if w.timerAt == 0 {
			// The resend timers: every request sets its flow's.
			w.timerAt = w.now + w.s.opts.UDPTimeout
		}
		if err := w.poll.Mod(f.fd, unix.EPOLLIN, int32(f.fd)); err != nil {
			return err
		}
		return f.request(w)
	}
	return w.poll.Mod(f.fd, unix.EPOLLOUT, int32(f.fd))
}

func (f *udpClient) handle(w *worker, ev uint32) error {
	if ev&unix.EPOLLERR != 0 {
		if err := w.drainErrors(f.fd); err != nil && err != unix.ECONNREFUSED {
			return fmt.Errorf("flow %d: %w", f.id, err)
		}
	}
	if !f.running {
		return nil
	}
	if f.rr {
		if ev&unix.EPOLLIN != 0 {
			return f.response(w)
		}
		return nil
	}
	if ev&unix.EPOLLOUT != 0 && !f.paused {
		return f.stream(w)
	}
	return nil
}

// request sends one request datagram, under a new sequence number.
func (f *udpClient) request(w *worker) error {
	size := w.s.opts.RequestSize
	f.seq++
	f.answered <<= 1
	putSeq(w.buf[:f.seqLen], f.seq)
	n, e, err := w.write(f.fd, w.buf[:size])
	if err != nil {
		return err
	}
	f.waiting, f.sentAt = true, w.now
	if e != 0 {
		if udpTransient(e) {
			// Dropped before it left: the resend timer covers it, as a loss.
			return nil
		}
		return fmt.Errorf("flow %d: %w", f.id, w.ioFailure("sendmsg", "write", e))
	}
	w.c.bytesWritten += uint64(n)
	w.c.packetsWritten++
	f.st.bytesWritten += uint64(n)
	return nil
}

// response reads the response datagram and starts the next transaction.
func (f *udpClient) response(w *worker) error {
	for i := 0; i < w.readBurst; i++ {
		n, e, err := w.read(f.fd, w.buf)
		if err != nil {
			return err
		}
		if e != 0 {
			if udpTransient(e) {
				return nil
			}
			return fmt.Errorf("flow %d: %w", f.id, w.ioFailure("recvmsg", "read", e))
		}
		w.c.bytesRead += uint64(n)
		w.c.packetsRead++
		f.st.bytesRead += uint64(n)
		// The server echoes the request, sequence number first.
		switch k := (f.seq - getSeq(w.buf[:f.seqLen])) & f.seqMask; {
		case k < 64 && f.answered&(1<<k) != 0:
			w.c.udpDuplicates++ // a request answered twice
			continue
		case k != 0 || !f.waiting:
			w.c.udpStale++ // a late answer to a request since resent
			continue
		}
		f.answered |= 1
		f.waiting = false
		w.c.transactions++
		f.st.transactions++
		w.recordLatency(&f.st, w.stamp()-f.sentAt)
		if f.quota > 0 {
			if f.quota--; f.quota == 0 {
				f.running = false
				w.active--
				return nil
			}
		}
		if w.delays != nil {
			f.paused = true
			return w.postpone(f)
		}
		if err := f.request(w); err != nil {
			return err
		}
	}
	return nil
}

// tick resends the request of a flow whose response has not come within
// --udp-timeout, and returns when the flow's timer falls due next.
func (f *udpClient) tick(w *worker) (time.Duration, error) {
	if !f.rr || !f.running || !f.waiting || f.paused {
		return 0, nil
	}
	if due := f.sentAt + w.s.opts.UDPTimeout; w.now < due {
		return due, nil
	}
	w.c.udpResends++
	if err := f.request(w); err != nil {
		return 0, err
	}
	return f.sentAt + w.s.opts.UDPTimeout, nil
}

// seqSize is the most bytes of a udp_rr request that carry its sequence
// number: all of it fits in 8, and fewer hold its low bytes.
const seqSize = 8

// putSeq writes the low len(b) bytes of seq into b, big-endian.
func putSeq(b []byte, seq uint64) {
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = byte(seq)
		seq >>= 8
	}
}

// getSeq reads the sequence number putSeq wrote into b.
func getSeq(b []byte) uint64 {
	var seq uint64
	for _, c := range b {
		seq = seq<<8 | uint64(c)
	}
	return seq
}

// stream sends datagrams while the socket is writable.
func (f *udpClient) stream(w *worker) error {
	size := w.s.opts.BufferSize
	for i := 0; i < w.writeBurst; i++ {
		n, e, err := w.write(f.fd, w.buf[:size])
		if err != nil {
			return err
		}
		if e != 0 {
			if udpTransient(e) {
				return nil
			}
			return fmt.Errorf("flow %d: %w", f.id, w.ioFailure("sendmsg", "write", e))
		}
		w.c.bytesWritten += uint64(n)
		w.c.packetsWritten++
		f.st.bytesWritten += uint64(n)
		if w.sendFlags&unix.MSG_ZEROCOPY != 0 {
			w.c.zcSends++
		}
		if w.delays != nil {
			f.paused = true
			if err := w.poll.Mod(f.fd, 0, int32(f.fd)); err != nil {
				return err
			}
			return w.postpone(f)
		}
	}
	// UDP has no flow control: a sender that shares its CPU with a
	// receiver (on loopback, or with more threads than CPUs) would fill
	// the receiver's buffer during its time slice and have the rest
	// dropped. Yielding after each burst lets a waiting receiver run; on
	// a CPU of its own the call returns at once. Every yieldEvery
	// datagrams, well inside a receive buffer's worth, and only when the
	// side has as many workers as the machine has CPUs (fewer leave the
	// receiver a CPU). Measured on 2 CPUs, udp_stream -F 8 -T 2: received
	// 1.8 -> 3.9 Gbit/s, the loss from ~55 % to ~0.
	if !w.s.sharesCPUs {
		return nil
	}
	if w.unyielded += w.writeBurst; w.unyielded >= yieldEvery {
		w.unyielded = 0
		unix.RawSyscall(unix.SYS_SCHED_YIELD, 0, 0, 0)
	}
	return nil
}

// yieldEvery is how many datagrams a udp_stream sender sends between
// yields of its CPU.
const yieldEvery = 64

func (f *udpClient) resume(w *worker) error {
	if !f.paused || !f.running {
		return nil
	}
	f.paused = false
	if f.rr {
		w.now = w.s.clock()
		return f.request(w)
	}
	return w.poll.Mod(f.fd, unix.EPOLLOUT, int32(f.fd))
}

func (f *udpClient) close(w *worker) { w.closeSocket(f.fd, f.ai) }
