package kit

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"time"
)

// dialRetryFor is how long a client keeps trying a server that is not
// listening yet (both started at the same moment).
const dialRetryFor = 5 * time.Second

// runClient runs the client side: hello, connect the flows, start, run,
// stop, and learn the server's figures.
func runClient(ctx context.Context, opts *Options, cfg *SideConfig) (*Result, error) {
	res := &Result{Side: ClientSide, Options: *opts}
	host := opts.Host
	if host == "" {
		host = loopback(opts.Family == IPv6).String()
	}
	addr, err := resolve(ctx, host, opts.Family)
	if err != nil {
		return res, &UsageError{Err: fmt.Errorf("-H/--host: %w", err)}
	}
	var local netip.Addr
	if opts.LocalHost != "" {
		if local, err = resolve(ctx, opts.LocalHost, opts.Family); err != nil {
			return res, &UsageError{Err: fmt.Errorf("-L/--local-host: %w", err)}
		}
	}
	if err := probeSocketOptions(opts, cfg, familyOf(addr)); err != nil {
		return res, err
	}
	control := netip.AddrPortFrom(addr, uint16(opts.ControlPort))
	var nc net.Conn
	if err := onSideThread(cfg, func() (err error) { nc, err = dialControl(ctx, control); return err }); err != nil {
		return res, err
	}
	events := make(chan event, 16)
	cc := newConn(nc, events)
	defer cc.Close()
	h := &hello{
		Workload: opts.Workload, NumFlows: opts.NumFlows, NumThreads: opts.NumThreads,
		TestLength: opts.TestLength, Transactions: opts.Transactions,
		BufferSize: opts.BufferSize, RequestSize: opts.RequestSize, ResponseSize: opts.ResponseSize,
		EnableRead: opts.EnableRead, EnableWrite: opts.EnableWrite, Delay: opts.Delay, Interval: opts.Interval,
		TimeWait: opts.TimeWait, TCPFastOpen: opts.TCPFastOpen, SplitBidir: opts.SplitBidir,
	}
	if err := cc.send(&message{Type: msgHello, Magic: opts.Magic, Hello: h}); err != nil {
		return res, err
	}
	// The server opens its sockets before its welcome: it gives itself
	// its setup timeout and a stuck hook StopGrace, and then says why.
	welcomeWait := cfg.peerTimeout() + time.Duration(opts.NumFlows)*time.Millisecond + StopGrace + time.Second
	welcome, err := expect(ctx, cc, events, msgWelcome, welcomeWait)
	if err != nil {
		if errors.As(err, new(*Interrupted)) {
			cc.abort(err)
		}
		return res, err
	}

	if n := len(welcome.Ports); opts.NumPorts > 1 && !opts.Workload.IsUDP() && n != opts.NumPorts {
		err := fmt.Errorf("--num-ports %d: the server listens on %d data port(s); give it --num-ports %d too", opts.NumPorts, n, opts.NumPorts)
		cc.abort(err)
		return res, err
	}
	s, err := newSideRun(opts, cfg, ClientSide)
	if err != nil {
		return res, err
	}
	defer s.close()
	if local.IsValid() {
		s.bind = netip.AddrPortFrom(local, 0)
	}
	res.Options.DataPort = int(welcome.Ports[0]) // the port in use, for the report
	s.dataAddrs = s.dataAddrs[:0]
	for _, p := range welcome.Ports {
		s.dataAddrs = append(s.dataAddrs, netip.AddrPortFrom(addr, p))
	}
	fail := func(err error) (*Result, error) {
		cc.abort(err)
		s.stopWorkers()
		return res, err
	}
	if err := s.waitBeforeStart(ctx, cc, events); err != nil {
		return fail(err)
	}
	if err := s.startWorkers(ctx); err != nil {
		return fail(err)
	}
	if err := s.waitConnected(ctx, cc, events); err != nil {
		return fail(s.peerCause(err, events))
	}
	if err := cc.send(&message{Type: msgStart, Flows: s.flowPorts()}); err != nil {
		return fail(err)
	}
	s.setPhase(phaseRunning)
	res.TimeStart = time.Now()
	res.RusageStart = s.rusage()

	interrupted, err := s.runTest(ctx, cc, events)
	if err != nil {
		return fail(err)
	}
	res.TimeEnd = time.Now()
	res.RusageEnd = s.rusage()
	res.TotalRunTime = res.TimeEnd.Sub(res.TimeStart)
	s.collect(res)
	stop := &message{Type: msgStop, Figures: res.figures()}
	timeout := cfg.peerTimeout()
	if interrupted != nil {
		// The test ended early but both sides report it: the stop and the
		// server's figures are exchanged all the same.
		ctx = context.WithoutCancel(ctx)
		if !interrupted.Peer {
			stop.Interrupted = interrupted.Reason
		} else {
			// The server sends its figures once the flows have closed.
			timeout = drainFor + peerCauseWait
		}
	}
	if err := cc.send(stop); err != nil {
		return fail(err)
	}
	result, err := expect(ctx, cc, events, msgResult, timeout)
	if err != nil {
		return fail(err)
	}
	res.addRemote(result.Figures)
	s.stopWorkers()
	if err := s.failure(); err != nil {
		return res, err
	}
	if interrupted != nil {
		interrupted.After = res.TotalRunTime
		res.Interrupted = interrupted.Reason
		return res, interrupted
	}
	return res, nil
}

// runTest runs until every worker has finished its test: at its
// deadline or quota, or early when this side or the server is interrupted
// (the *Interrupted returned, Peer set for the server's).
func (s *sideRun) runTest(ctx context.Context, cc *conn, events chan event) (*Interrupted, error) {
	beat := time.NewTicker(heartbeatEvery(s.cfg))
	defer beat.Stop()
	prog := progressReporter{s: s}
	tick := time.NewTicker(s.opts.Interval)
	defer tick.Stop()
	var ioTick <-chan time.Time // --iostat-ms
	var lastIO IOStat
	if s.opts.IOStatEvery > 0 && s.cfg.IOStat != nil {
		t := time.NewTicker(s.opts.IOStatEvery)
		defer t.Stop()
		ioTick = t.C
	}
	// Workers stop themselves at the deadline (or when told to); one that
	// has not soon after is stuck in a hook.
	var stuck interrupter
	defer stuck.stop()
	if s.opts.TestLength > 0 && s.opts.Transactions == 0 {
		stuck.startAfter(s.opts.TestLength + StopGrace - interruptEvery)
	}
	var interrupted *Interrupted
	stopEarly := func(in *Interrupted) {
		interrupted = in
		s.setPhase(phaseStopping)
		stuck.startAfter(StopGrace - interruptEvery)
	}
	done := ctx.Done()
	peer := events // nil once the server has said it was interrupted
	for finished := 0; finished < s.workers; {
		select {
		case <-stuck.C():
			s.interruptHooks()
			stuck.next()
		case <-tick.C:
			prog.report()
		case <-ioTick:
			lastIO = s.ioStat(lastIO)
			s.cfg.IOStat(lastIO)
		case <-s.finished:
			finished++
		case ev := <-peer:
			if ev.err == nil && ev.m.Type == msgAbort && ev.m.Interrupted != "" {
				// The server was interrupted: end the test here too. Its
				// figures follow, once the flows have closed.
				stopEarly(&Interrupted{Reason: ev.m.Interrupted, Side: ServerSide, Peer: true})
				peer = nil
				continue
			}
			if err := peerEvent(cc, ev, ServerSide); err != nil {
				return nil, err
			}
		case <-beat.C:
			if err := checkPeer(cc, s.cfg); err != nil {
				return nil, err
			}
		case <-s.failed:
			if interrupted != nil && !interrupted.Peer {
				// A hook stopped after the interrupt: the interrupt first.
				interrupted.NoFigures = true
				return nil, fmt.Errorf("%w; %w", interrupted, s.failure())
			}
			return nil, s.peerCause(s.failure(), events)
		case <-done:
			in := interruption(ctx)
			if in == nil {
				return nil, runEnded(ctx, ClientSide)
			}
			// Ctrl-C: the test ends now, and both sides report it.
			stopEarly(&Interrupted{Reason: in.Reason, Side: ClientSide, After: s.clock() - s.start})
			done = nil
		}
	}
	return interrupted, s.failure()
}

// dialControl connects to the server's control port, retrying for a few
// seconds while nothing listens there yet.
func dialControl(ctx context.Context, to netip.AddrPort) (net.Conn, error) {
	deadline := time.Now().Add(dialRetryFor)
	var d net.Dialer
	for {
		dctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		c, err := d.DialContext(dctx, "tcp", to.String())
		cancel()
		if err == nil {
			return c, nil
		}
		if ctx.Err() != nil {
			return nil, runEnded(ctx, ClientSide)
		}
		if !errors.Is(err, syscall.ECONNREFUSED) || time.Now().After(deadline) {
			return nil, fmt.Errorf("control: cannot reach the server at %s: %w", to, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// expect waits for a message of type want, handling heartbeats and the
// peer's abort on the way.
func expect(ctx context.Context, cc *conn, events chan event, want string, timeout time.Duration) (*message, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		select {
		case ev := <-events:
			if ev.err != nil {
				return nil, fmt.Errorf("control: the server closed the connection before %s: %w", want, ev.err)
			}
			switch ev.m.Type {
			case want:
				return ev.m, nil
			case msgAbort:
				return nil, &PeerError{Side: ServerSide, Msg: ev.m.Error, Refused: want == msgWelcome}
			case msgHeartbeat:
				continue
			}
			return nil, fmt.Errorf("%w: expected %s, got %s", ErrProtocol, want, ev.m.Type)
		case <-t.C:
			return nil, fmt.Errorf("control: no %s from the server within %v", want, timeout)
		case <-ctx.Done():
			return nil, runEnded(ctx, ClientSide)
		}
	}
}

// peerEvent handles a message from the peer (on side) that arrives while
// the test runs.
func peerEvent(cc *conn, ev event, side Side) error {
	if ev.err != nil {
		return fmt.Errorf("control: the %s vanished: %w", side, ev.err)
	}
	cc.seen = time.Now()
	if ev.m.Type == msgAbort {
		return &PeerError{Side: side, Msg: ev.m.Error}
	}
	return nil
}

// checkPeer sends a heartbeat and fails if the peer has been silent too long.
func checkPeer(cc *conn, cfg *SideConfig) error {
	if time.Since(cc.seen) > cfg.peerTimeout() {
		return fmt.Errorf("control: no word from the peer for %v", cfg.peerTimeout())
	}
	return cc.send(&message{Type: msgHeartbeat})
}

// waitBeforeStart waits --wait-start before the flows open, keeping the
// control connection alive both ways.
func (s *sideRun) waitBeforeStart(ctx context.Context, cc *conn, events chan event) error {
	if s.opts.WaitStart <= 0 {
		return nil
	}
	s.cfg.logf("waiting %v before the flows start (--wait-start)", s.opts.WaitStart)
	t := time.NewTimer(s.opts.WaitStart)
	defer t.Stop()
	beat := time.NewTicker(heartbeatEvery(s.cfg))
	defer beat.Stop()
	for {
		select {
		case <-t.C:
			return nil
		case ev := <-events:
			if err := peerEvent(cc, ev, ServerSide); err != nil {
				return err
			}
		case <-beat.C:
			if err := checkPeer(cc, s.cfg); err != nil {
				return err
			}
		case <-ctx.Done():
			return runEnded(ctx, ClientSide)
		}
	}
}

// waitConnected waits until every worker's flows are connected.
func (s *sideRun) waitConnected(ctx context.Context, cc *conn, events chan event) error {
	timeout := s.setupTimeout()
	t := time.NewTimer(timeout)
	defer t.Stop()
	beat := time.NewTicker(heartbeatEvery(s.cfg))
	defer beat.Stop()
	for n := 0; n < s.workers; {
		select {
		case <-s.connected:
			n++
		case ev := <-events:
			if err := peerEvent(cc, ev, ServerSide); err != nil {
				return err
			}
		case <-beat.C:
			if err := checkPeer(cc, s.cfg); err != nil {
				return err
			}
		case <-s.failed:
			return s.failure()
		case <-t.C:
			return fmt.Errorf("connecting %d flows took longer than %v", s.opts.NumFlows, timeout)
		case <-ctx.Done():
			return runEnded(ctx, ClientSide)
		}
	}
	return nil
}
