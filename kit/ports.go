package kit

import (
	"fmt"
	"net/netip"

	"golang.org/x/sys/unix"
)

// pickDataPort finds a free data port for a local run, so that socket
// hooks see the real port in the address they are handed (the socket
// hook runs before bind). A UDP server without --reuseport needs one port
// per worker, port+i, all free.
func pickDataPort(o *Options, bind netip.Addr) (int, error) {
	sotype := unix.SOCK_STREAM
	if o.Workload.IsUDP() {
		sotype = unix.SOCK_DGRAM
	}
	span := 1
	if o.Workload.IsUDP() && !o.ReusePort {
		span = o.NumThreads
	}
	for try := 0; try < 20; try++ {
		p, err := probePort(sotype, netip.AddrPortFrom(bind, 0))
		if err != nil {
			return 0, err
		}
		if int(p)+span > 65536 {
			continue
		}
		free := true
		for i := 1; i < span && free; i++ {
			_, err := probePort(sotype, netip.AddrPortFrom(bind, p+uint16(i)))
			free = err == nil
		}
		if free {
			return int(p), nil
		}
	}
	return 0, fmt.Errorf("-P/--port: found no run of %d free ports", span)
}

// probePort binds a socket to ap, returns the port it got and closes it.
func probePort(sotype int, ap netip.AddrPort) (uint16, error) {
	fd, err := newSocket(familyOf(ap.Addr()), sotype)
	if err != nil {
		return 0, err
	}
	defer unix.Close(fd)
	got, err := bindTo(fd, ap)
	if err != nil {
		return 0, err
	}
	return got.Port(), nil
}
