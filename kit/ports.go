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
	span := o.numPorts()
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

// probeDataPorts binds, and closes, a socket on every data port the
// server's workers will bind, as they will bind it (TCP: the data port,
// shared with SO_REUSEPORT; UDP: the data port plus the worker's index,
// or the data port shared with --reuseport), so that a port in use is a
// usage error when the server starts, not a failure when a client comes.
func probeDataPorts(o *Options, bind netip.Addr) error {
	udp := o.Workload.IsUDP()
	sotype, reusePort, span := unix.SOCK_STREAM, true, o.numPorts()
	if udp {
		sotype, reusePort = unix.SOCK_DGRAM, o.ReusePort
		if !o.ReusePort {
			span = o.NumThreads
		}
	}
	if last := o.DataPort + span - 1; last > 65535 {
		if !udp {
			return fmt.Errorf("-P/--port: --num-ports %d needs ports %d..%d, past 65535", span, o.DataPort, last)
		}
		return fmt.Errorf("-P/--port: %d UDP workers need ports %d..%d, past 65535 (use --reuseport or a lower -P)", span, o.DataPort, last)
	}
	for i := 0; i < span; i++ {
		ap := netip.AddrPortFrom(bind, uint16(o.DataPort+i))
		fd, err := newSocket(familyOf(bind), sotype)
		if err != nil {
			return err
		}
		err = setReuse(fd, reusePort, o.ReuseAddr)
		if err == nil {
			_, err = bindTo(fd, ap)
		}
		unix.Close(fd)
		if err != nil {
			return fmt.Errorf("-P/--port: %w", err)
		}
	}
	return nil
}
