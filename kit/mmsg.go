package kit

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// mmsghdr is struct mmsghdr: a msghdr and the length the kernel moved.
type mmsghdr struct {
	hdr unix.Msghdr
	len uint32
	_   [4]byte
}

// mmsgBatch receives up to len(hdrs) datagrams in one recvmmsg(2), each
// into its own slice of one buffer. A udp_stream server without hooks
// uses it: per-datagram system calls are what limits a UDP receiver.
type mmsgBatch struct {
	hdrs []mmsghdr
	iovs []unix.Iovec
	buf  []byte
}

func newMmsgBatch(n, size int) *mmsgBatch {
	b := &mmsgBatch{hdrs: make([]mmsghdr, n), iovs: make([]unix.Iovec, n), buf: make([]byte, n*size)}
	for i := range b.hdrs {
		b.iovs[i].Base = &b.buf[i*size]
		b.iovs[i].SetLen(size)
		b.hdrs[i].hdr.Iov = &b.iovs[i]
		b.hdrs[i].hdr.SetIovlen(1)
	}
	return b
}

// recv reads what is queued, up to the batch size, without blocking.
func (b *mmsgBatch) recv(fd int) (int, unix.Errno) {
	n, _, e := unix.RawSyscall6(unix.SYS_RECVMMSG, uintptr(fd), uintptr(unsafe.Pointer(&b.hdrs[0])), uintptr(len(b.hdrs)),
		unix.MSG_DONTWAIT, 0, 0)
	return int(n), e
}
