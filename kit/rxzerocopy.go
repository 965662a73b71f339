package kit

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// TCP receive zero-copy (-z, TCP_ZEROCOPY_RECEIVE): a tcp_stream reader
// maps the socket's received pages into a window of its own address space
// (mmap of the socket) instead of copying them; the bytes that do not
// fill whole pages come through a small copy buffer, and what the kernel
// cannot map (recv_skip_hint) is read the usual way. The window is
// released (MADV_DONTNEED) after each read, as the data is only counted.

// tcpZerocopyReceive is linux/tcp.h's struct tcp_zerocopy_receive.
type tcpZerocopyReceive struct {
	Address        uint64 // in: the window
	Length         uint32 // in: the window's size; out: bytes mapped
	RecvSkipHint   uint32 // out: bytes to read the usual way first
	Inq            uint32 // out: bytes left in the receive queue
	Err            int32  // out: the socket's error
	CopybufAddress uint64 // in: the copy buffer
	CopybufLen     int32  // in: its size; out: bytes copied, or an error
	Flags          uint32
	MsgControl     uint64
	MsgControllen  uint64
	MsgFlags       uint32
	Reserved       uint32
}

// rxZerocopy is a flow's mapped window.
type rxZerocopy struct {
	window []byte // mmap of the socket
}

// rxCopybufLen is the copy buffer's size: under a page, so that the
// kernel maps every whole page it can (a larger buffer makes it copy).
const rxCopybufLen = 4095

// newRxZerocopy maps a window of size bytes (whole pages) of socket fd.
func newRxZerocopy(fd, size int) (*rxZerocopy, error) {
	page := unix.Getpagesize()
	size = max((size+page-1)/page*page, page)
	b, err := unix.Mmap(fd, 0, size, unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("-z/--rx-zerocopy: mmap of the socket: %w", err)
	}
	return &rxZerocopy{window: b}, nil
}

// read receives what it can into the window (and buf for what cannot be
// mapped) and returns the bytes received, how many of them were mapped,
// and whether the receive queue is now empty; 0 with no error is the
// peer's EOF, as for read(2).
func (z *rxZerocopy) read(fd int, buf []byte) (n, mapped int, drained bool, e unix.Errno) {
	zc := tcpZerocopyReceive{
		Address:        uint64(uintptr(unsafe.Pointer(&z.window[0]))),
		Length:         uint32(len(z.window)),
		CopybufAddress: uint64(uintptr(unsafe.Pointer(&buf[0]))),
		CopybufLen:     int32(min(len(buf), rxCopybufLen)),
	}
	size := uint32(unsafe.Sizeof(zc))
	_, _, e = unix.RawSyscall6(unix.SYS_GETSOCKOPT, uintptr(fd), unix.IPPROTO_TCP, unix.TCP_ZEROCOPY_RECEIVE,
		uintptr(unsafe.Pointer(&zc)), uintptr(unsafe.Pointer(&size)), 0)
	if e != 0 {
		return 0, 0, false, e
	}
	n, mapped = int(zc.Length), int(zc.Length)
	if zc.CopybufLen > 0 {
		n += int(zc.CopybufLen)
	}
	if zc.Length > 0 {
		// Give the pages back: the data is counted, not kept.
		_ = unix.Madvise(z.window[:zc.Length], unix.MADV_DONTNEED)
	}
	if zc.RecvSkipHint > 0 {
		m, e := sysRead(fd, buf[:min(int(zc.RecvSkipHint), len(buf))])
		if e == 0 {
			n += m
		} else if n == 0 {
			return 0, 0, false, e
		}
	}
	if n == 0 {
		if zc.Err != 0 {
			return 0, 0, false, unix.Errno(max(zc.Err, -zc.Err))
		}
		// Nothing queued, or the EOF: a plain read tells them apart.
		n, e = sysRead(fd, buf)
		return n, 0, n < len(buf), e
	}
	return n, mapped, zc.Inq == 0, 0
}

// close unmaps the window.
func (z *rxZerocopy) close() {
	if z != nil && z.window != nil {
		_ = unix.Munmap(z.window)
		z.window = nil
	}
}
