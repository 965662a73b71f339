package kit

import (
	"encoding/binary"
	"time"

	"golang.org/x/sys/unix"
)

// Zero-copy sends (-Z, MSG_ZEROCOPY): the kernel sends from the worker's
// buffer in place and tells, on the socket's error queue, when it is done
// with each send (a range of send numbers per notification), and whether
// it had to copy after all (SO_EE_CODE_ZEROCOPY_COPIED: loopback and
// veth deliver a copy). The worker's buffer never changes, so it may be
// sent again before the kernel is done with it.

// soEEOriginZerocopy and soEECodeZerocopyCopied are linux/errqueue.h's
// SO_EE_ORIGIN_ZEROCOPY and SO_EE_CODE_ZEROCOPY_COPIED.
const (
	soEEOriginZerocopy     = 5
	soEECodeZerocopyCopied = 1
)

// zerocopyCompletions reads the zero-copy notifications among the
// control messages of an error-queue read: sends completed, and of those
// the kernel copied.
func zerocopyCompletions(control []byte) (done, copied uint64) {
	msgs, err := unix.ParseSocketControlMessage(control)
	if err != nil {
		return 0, 0
	}
	for _, m := range msgs {
		ipv4 := m.Header.Level == unix.SOL_IP && m.Header.Type == unix.IP_RECVERR
		ipv6 := m.Header.Level == unix.SOL_IPV6 && m.Header.Type == unix.IPV6_RECVERR
		if !ipv4 && !ipv6 || len(m.Data) < 16 {
			continue
		}
		// struct sock_extended_err: ee_errno u32, ee_origin u8, ee_type
		// u8, ee_code u8, ee_pad u8, ee_info u32, ee_data u32.
		if m.Data[4] != soEEOriginZerocopy {
			continue
		}
		lo := binary.NativeEndian.Uint32(m.Data[8:12])
		hi := binary.NativeEndian.Uint32(m.Data[12:16])
		n := uint64(hi-lo) + 1 // the range may wrap around 2^32
		done += n
		if m.Data[6]&soEECodeZerocopyCopied != 0 {
			copied += n
		}
	}
	return done, copied
}

// noteErrQueue counts the zero-copy completions of the error-queue read
// w.msg holds.
func (w *worker) noteErrQueue() {
	if w.sendFlags&unix.MSG_ZEROCOPY == 0 || w.msg.ControlLen == 0 {
		return
	}
	done, copied := zerocopyCompletions(w.msg.Control[:w.msg.ControlLen])
	w.c.zcDone += done
	w.c.zcCopied += copied
}

// zerocopyWait bounds how long a worker that sent with MSG_ZEROCOPY
// waits, after its test, for the kernel to complete its last sends.
const zerocopyWait = time.Second

// reapZerocopy reads the error queues of the worker's flows until every
// zero-copy send has completed, or zerocopyWait has passed, so that the
// counts agree: the last sends complete once the peer has acknowledged
// them.
func (w *worker) reapZerocopy() {
	if w.sendFlags&unix.MSG_ZEROCOPY == 0 {
		return
	}
	end := time.Now().Add(zerocopyWait)
	for w.c.zcDone < w.c.zcSends && time.Now().Before(end) {
		for _, f := range w.flows {
			fd := flowFD(f)
			if fd < 0 {
				continue
			}
			for {
				w.msg = Msg{Buf: w.buf[:0], Control: w.ctl}
				if _, e := sysRecvmsg(fd, &w.msg, unix.MSG_ERRQUEUE|unix.MSG_DONTWAIT); e != 0 {
					break
				}
				w.noteErrQueue()
			}
		}
		if w.c.zcDone < w.c.zcSends {
			time.Sleep(time.Millisecond)
		}
	}
}

// flowFD is the socket of a flow that may send with MSG_ZEROCOPY.
func flowFD(f flow) int {
	switch f := f.(type) {
	case *streamFlow:
		return f.fd
	case *udpClient:
		return f.fd
	}
	return -1
}
