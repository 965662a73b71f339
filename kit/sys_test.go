package kit

import (
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"
)

// TestRawConnect: an address converted by newRawSockaddr reaches the
// listener it names, for both families, as the kernel sees it.
func TestRawConnect(t *testing.T) {
	for _, host := range []string{"127.0.0.1", "::1"} {
		t.Run(host, func(t *testing.T) {
			addr := netip.MustParseAddr(host)
			lfd, bound := testListener(t, addr)
			fd, err := newSocket(familyOf(addr), unix.SOCK_STREAM)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { sysClose(fd) })
			if e := sysConnect(fd, newRawSockaddr(bound)); e != 0 && e != unix.EINPROGRESS {
				t.Fatalf("connect to %s: %v", bound, e)
			}
			afd := testAccept(t, lfd)
			peer, err := unix.Getsockname(afd)
			if err != nil {
				t.Fatal(err)
			}
			if got := addrPortOf(peer); got != bound {
				t.Errorf("accepted connection's local address = %s, want %s", got, bound)
			}
		})
	}
}

// TestRawConnectRefused: a refused connect shows as an errno, not a panic
// or a hang.
func TestRawConnectRefused(t *testing.T) {
	addr := netip.MustParseAddr("127.0.0.1")
	lfd, bound := testListener(t, addr)
	unix.Close(lfd) // nothing listens on the port any more
	fd, err := newSocket(unix.AF_INET, unix.SOCK_STREAM)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sysClose(fd) })
	e := sysConnect(fd, newRawSockaddr(bound))
	if e == unix.EINPROGRESS {
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLOUT}}
		if _, err := unix.Poll(pfd, 5000); err != nil {
			t.Fatal(err)
		}
		err = socketError(fd)
	} else if e != 0 {
		err = e
	}
	if err != unix.ECONNREFUSED {
		t.Errorf("connect to a closed port: %v, want ECONNREFUSED", err)
	}
}

// testListener listens on an ephemeral port of addr until the test ends.
func testListener(t *testing.T, addr netip.Addr) (int, netip.AddrPort) {
	t.Helper()
	fd, err := unix.Socket(familyOf(addr), unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	bound, err := bindTo(fd, netip.AddrPortFrom(addr, 0))
	if err != nil {
		t.Skipf("no %s on this machine: %v", addr, err)
	}
	if err := unix.Listen(fd, 8); err != nil {
		t.Fatal(err)
	}
	return fd, bound
}

// testAccept accepts one connection (blocking) closed when the test ends.
func testAccept(t *testing.T, lfd int) int {
	t.Helper()
	fd, _, err := unix.Accept4(lfd, unix.SOCK_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return fd
}
