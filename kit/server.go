package kit

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"time"
)

// server is a listening control socket and the test it will serve.
type server struct {
	opts  *Options
	cfg   *SideConfig
	ln    net.Listener
	addr  netip.AddrPort // where the control socket listens
	bind  netip.Addr     // the address data sockets bind to
	hello *hello         // the first client's
}

// listenServer opens the control socket, so that a caller (RunLocal, a
// test) knows the port before the server waits for its client.
func listenServer(opts *Options, cfg *SideConfig) (*server, error) {
	bind, err := serverBindAddr(opts)
	if err != nil {
		return nil, &UsageError{Err: err}
	}
	if err := probeSocketOptions(opts, cfg, familyOf(bind)); err != nil {
		return nil, err
	}
	srv := &server{opts: opts, cfg: cfg, bind: bind}
	err = onSideThread(cfg, func() error {
		network := "tcp4"
		if bind.Is6() {
			network = "tcp6"
		}
		ln, err := net.Listen(network, netip.AddrPortFrom(bind, uint16(opts.ControlPort)).String())
		if err != nil {
			return err
		}
		srv.ln = ln
		return nil
	})
	if err != nil {
		return nil, &UsageError{Err: fmt.Errorf("-C/--control-port: %w", err)}
	}
	srv.addr = srv.ln.Addr().(*net.TCPAddr).AddrPort()
	if srv.addr.Addr().Is4In6() {
		srv.addr = netip.AddrPortFrom(srv.addr.Addr().Unmap(), srv.addr.Port())
	}
	if srv.addr.Addr().IsUnspecified() {
		srv.addr = netip.AddrPortFrom(loopback(bind.Is6()), srv.addr.Port())
	}
	err = onSideThread(cfg, func() (err error) {
		if opts.DataPort == 0 {
			opts.DataPort, err = pickDataPort(opts, bind)
			return err
		}
		return probeDataPorts(opts, bind)
	})
	if err != nil {
		srv.ln.Close()
		return nil, &UsageError{Err: err}
	}
	if cfg.Listening != nil {
		cfg.Listening(srv.addr)
	}
	return srv, nil
}

// serverBindAddr is the address a server binds: -L, else -H, else the
// wildcard of its family (IPv4 unless -6).
func serverBindAddr(o *Options) (netip.Addr, error) {
	host := o.LocalHost
	if host == "" {
		host = o.Host
	}
	if host == "" {
		if o.Family == IPv6 {
			return netip.IPv6Unspecified(), nil
		}
		return netip.IPv4Unspecified(), nil
	}
	return resolve(context.Background(), host, o.Family)
}

func loopback(v6 bool) netip.Addr {
	if v6 {
		return netip.IPv6Loopback()
	}
	return netip.AddrFrom4([4]byte{127, 0, 0, 1})
}

// resolve turns a host name or literal into one address of the family.
func resolve(ctx context.Context, host string, fam Family) (netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		a = a.Unmap()
		if (fam == IPv4 && !a.Is4()) || (fam == IPv6 && !a.Is6()) {
			return netip.Addr{}, fmt.Errorf("host %s is not an %s address", host, fam)
		}
		return a, nil
	}
	network := map[Family]string{Unspec: "ip", IPv4: "ip4", IPv6: "ip6"}[fam]
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, network, host)
	if err != nil || len(addrs) == 0 {
		return netip.Addr{}, fmt.Errorf("host %q does not resolve: %v", host, err)
	}
	for _, a := range addrs { // prefer IPv4 when the family is open, as neper does
		if a.Unmap().Is4() || fam == IPv6 {
			return a.Unmap(), nil
		}
	}
	return addrs[0], nil
}

// serve waits for its clients, runs the test and returns the result.
func (srv *server) serve(ctx context.Context) (*Result, error) {
	defer srv.ln.Close()
	g := srv.greet()
	defer g.stop()
	r, err := srv.startClients(ctx, g)
	res := &Result{Side: ServerSide, Options: *srv.opts, InvalidSecretCount: g.invalid.Load()}
	if err != nil {
		return res, err
	}
	conns, events, s := r.conns, r.events, r.s
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	defer s.close()
	fail := func(err error) (*Result, error) {
		for _, c := range conns {
			c.abort(err)
		}
		s.stopWorkers()
		return res, err
	}
	// Every client has started: measure until every client stops.
	s.setPhase(phaseRunning)
	res.TimeStart = time.Now()
	res.RusageStart = s.rusage()
	stopped := 0
	remote := &Figures{}
	var peerInterrupt string // a client's Ctrl-C that ended the test
	beat := time.NewTicker(heartbeatEvery(srv.cfg))
	defer beat.Stop()
	for stopped < len(conns) {
		select {
		case ev := <-events:
			if ev.err != nil {
				return fail(fmt.Errorf("control: client %s vanished: %w", ev.from.c.RemoteAddr(), ev.err))
			}
			ev.from.seen = time.Now()
			switch ev.m.Type {
			case msgStop:
				stopped++
				remote.add(ev.m.Figures)
				if ev.m.Interrupted != "" {
					peerInterrupt = ev.m.Interrupted
				}
			case msgAbort:
				return fail(&PeerError{Side: ClientSide, Msg: ev.m.Error})
			}
		case <-beat.C:
			for _, c := range conns {
				if time.Since(c.seen) > srv.cfg.peerTimeout() {
					return fail(fmt.Errorf("control: no word from client %s for %v", c.c.RemoteAddr(), srv.cfg.peerTimeout()))
				}
				_ = c.send(&message{Type: msgHeartbeat})
			}
		case <-s.failed:
			return fail(s.failure())
		case <-ctx.Done():
			if in := interruption(ctx); in != nil {
				return srv.interrupted(s, res, conns, events, in)
			}
			return fail(runEnded(ctx, ServerSide))
		}
	}
	s.stopWorkers()
	if err := s.failure(); err != nil {
		return fail(err)
	}
	srv.finish(s, res)
	res.addRemote(remote)
	for _, c := range conns {
		_ = c.send(&message{Type: msgResult, Figures: res.figures()})
	}
	if peerInterrupt != "" {
		res.Interrupted = peerInterrupt
		return res, &Interrupted{Reason: peerInterrupt, Side: ClientSide, Peer: true, After: res.TotalRunTime}
	}
	return res, nil
}

// finish takes the server's figures once its workers have ended.
func (srv *server) finish(s *sideRun, res *Result) {
	res.TimeEnd = time.Now()
	res.RusageEnd = s.rusage()
	res.TotalRunTime = res.TimeEnd.Sub(res.TimeStart)
	s.collect(res)
}

// interrupted ends a test the server was interrupted in (Ctrl-C): it
// tells its clients, which stop, close their flows and send their
// figures; it takes its own once its workers have read what the clients
// sent, and sends them, so that each side reports both.
func (srv *server) interrupted(s *sideRun, res *Result, conns []*conn, events <-chan event, in *Interrupted) (*Result, error) {
	for _, c := range conns {
		_ = writeMessage(c.c, &message{Type: msgAbort, Error: (&Interrupted{Reason: in.Reason}).Error(), Interrupted: in.Reason}, time.Second)
	}
	s.stopWorkers()
	srv.finish(s, res)
	res.Interrupted = in.Reason
	remote := &Figures{}
	t := time.NewTimer(peerCauseWait)
	defer t.Stop()
	for got := 0; got < len(conns); {
		select {
		case ev := <-events:
			if ev.err != nil {
				got = len(conns) // a client gone: no more figures
			} else if ev.m.Type == msgStop {
				remote.add(ev.m.Figures)
				if got++; got == len(conns) {
					res.addRemote(remote)
				}
			}
		case <-t.C:
			got = len(conns)
		}
	}
	for _, c := range conns {
		_ = writeMessage(c.c, &message{Type: msgResult, Figures: res.figures()}, time.Second)
	}
	if err := s.failure(); err != nil {
		return res, err
	}
	return res, &Interrupted{Reason: in.Reason, Side: ServerSide, After: res.TotalRunTime}
}

// dataBind is where the server's data sockets bind.
func (srv *server) dataBind() netip.AddrPort {
	return netip.AddrPortFrom(srv.bind, uint16(srv.opts.DataPort))
}

// adopt takes the options a server learns from its client.
func (srv *server) adopt(h *hello) { adoptInto(srv.opts, h) }

func adoptInto(o *Options, h *hello) {
	o.NumFlows = h.NumFlows
	o.TestLength, o.Transactions = h.TestLength, h.Transactions
	o.BufferSize = max(o.BufferSize, h.BufferSize)
	o.RequestSize, o.ResponseSize = h.RequestSize, h.ResponseSize
	o.Delay = h.Delay
	o.TimeWait = h.TimeWait
	o.TCPFastOpen = o.TCPFastOpen || h.TCPFastOpen
	o.SplitBidir = h.SplitBidir
}

func heartbeatEvery(cfg *SideConfig) time.Duration {
	return max(cfg.peerTimeout()/5, 10*time.Millisecond)
}

// runEnded explains why a context ended a run on side.
func runEnded(ctx context.Context, side Side) error {
	if in := interruption(ctx); in != nil {
		return &Interrupted{Reason: in.Reason, Side: side}
	}
	cause := context.Cause(ctx)
	switch {
	case errors.Is(cause, context.DeadlineExceeded):
		return ErrSuicide
	case cause != nil:
		return cause // a limit of the run's own, e.g. setupTimeout
	}
	return ctx.Err()
}

// add sums another client's figures into f.
func (f *Figures) add(o *Figures) {
	f.Transactions += o.Transactions
	f.BytesRead += o.BytesRead
	f.BytesWritten += o.BytesWritten
	f.PacketsRead += o.PacketsRead
	f.PacketsWritten += o.PacketsWritten
	f.Throughput += o.Throughput
	f.ReadBitrate += o.ReadBitrate
	f.WriteBitrate += o.WriteBitrate
	f.LocalBitrate += o.LocalBitrate
	f.Seconds = max(f.Seconds, o.Seconds)
	f.TCPRetransmits += o.TCPRetransmits
	// The mean RTT over both sets of connections.
	if n := f.TCPConnections + o.TCPConnections; n > 0 {
		f.TCPRTT = int64((float64(f.TCPRTT)*float64(f.TCPConnections) + float64(o.TCPRTT)*float64(o.TCPConnections)) / float64(n))
	}
	f.TCPConnections += o.TCPConnections
	f.UDPResends += o.UDPResends
	f.UDPDuplicates += o.UDPDuplicates
	f.UDPStale += o.UDPStale
	// Several clients' samples are summed interval by interval (they
	// sample at the same times since the start), as far as all have them.
	if f.Samples == nil {
		f.Samples = slices.Clone(o.Samples)
		return
	}
	f.Samples = f.Samples[:min(len(f.Samples), len(o.Samples))]
	for i, s := range o.Samples[:len(f.Samples)] {
		m := &f.Samples[i]
		m.Time = max(m.Time, s.Time)
		m.Transactions += s.Transactions
		m.BytesRead += s.BytesRead
		m.BytesWritten += s.BytesWritten
		m.CPU += s.CPU
	}
}
