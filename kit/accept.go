package kit

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The server's side of the control protocol before the test starts:
// accepting control connections, reading hellos, welcoming the clients and
// waiting for their start. A connection that does not become a started
// client (silent, garbled, a wrong magic, unusable options, gone or giving
// up before the start) is dropped and the server waits for another.

const (
	// helloWait is how long a new control connection may take to say
	// hello: a client says it at once.
	helloWait = 3 * time.Second
	// maxPendingHellos bounds the connections whose hello is awaited at
	// once; more wait in the listen backlog.
	maxPendingHellos = 16
)

// greeted is a control connection that said a valid hello.
type greeted struct {
	c net.Conn
	h *hello
}

// greeter accepts control connections and reads each one's hello on a
// goroutine of its own, so that a connection that idles or sends garbage
// keeps no client waiting. Valid hellos come out of out; once busy is
// closed (the test has started) later clients are told so and dropped.
type greeter struct {
	ln      net.Listener
	base    Options // what a hello's options are checked against
	log     func(format string, args ...any)
	out     chan greeted
	failed  chan error // the listener broke
	busy    chan struct{}
	quit    chan struct{}
	slots   chan struct{}
	invalid atomic.Uint64

	mu      sync.Mutex
	pending map[net.Conn]bool
	wg      sync.WaitGroup
	once    sync.Once
}

// greet starts accepting control connections on srv's listener.
func (srv *server) greet() *greeter {
	g := &greeter{
		ln: srv.ln, base: *srv.opts,
		out: make(chan greeted), failed: make(chan error, 1),
		busy: make(chan struct{}), quit: make(chan struct{}),
		slots: make(chan struct{}, maxPendingHellos), pending: map[net.Conn]bool{},
	}
	var logMu sync.Mutex
	g.log = func(format string, args ...any) {
		logMu.Lock()
		defer logMu.Unlock()
		srv.cfg.logf(format, args...)
	}
	g.wg.Add(1)
	go g.acceptLoop()
	return g
}

func (g *greeter) acceptLoop() {
	defer g.wg.Done()
	for {
		select {
		case g.slots <- struct{}{}:
		case <-g.quit:
			return
		}
		c, err := g.ln.Accept()
		if err != nil {
			select {
			case <-g.quit:
			default:
				g.failed <- fmt.Errorf("control: accept: %w", err)
			}
			return
		}
		if !g.track(c) {
			c.Close()
			return
		}
		g.wg.Add(1)
		go g.greetOne(c)
	}
}

// greetOne reads c's hello and hands c on, or drops it.
func (g *greeter) greetOne(c net.Conn) {
	defer g.wg.Done()
	defer func() { <-g.slots }()
	h, err := g.readHello(c)
	if err != nil {
		g.log("control: %s: %v", c.RemoteAddr(), err)
		g.drop(c)
		return
	}
	g.untrack(c)
	select {
	case g.out <- greeted{c: c, h: h}:
	case <-g.busy:
		_ = writeMessage(c, &message{Type: msgAbort, Error: "the server is busy with another test"}, time.Second)
		c.Close()
	case <-g.quit:
		c.Close()
	}
}

// readHello reads and checks a client's first message; a refused client
// is told why.
func (g *greeter) readHello(c net.Conn) (*hello, error) {
	_ = c.SetReadDeadline(time.Now().Add(helloWait))
	m, err := readMessage(c)
	_ = c.SetReadDeadline(time.Time{})
	if err != nil {
		return nil, fmt.Errorf("bad hello: %w", err)
	}
	refuse := func(err error) (*hello, error) {
		_ = writeMessage(c, &message{Type: msgAbort, Error: err.Error()}, time.Second)
		return nil, err
	}
	if m.Type != msgHello {
		return refuse(fmt.Errorf("%w: expected hello, got %s", ErrProtocol, m.Type))
	}
	if m.Magic != g.base.Magic {
		g.invalid.Add(1)
		return refuse(fmt.Errorf("wrong magic %d (this server's is %d)", m.Magic, g.base.Magic))
	}
	if m.Hello.Workload != g.base.Workload {
		return refuse(fmt.Errorf("workload %s asked of a %s server", m.Hello.Workload, g.base.Workload))
	}
	// The client's options must make sense for this server too: garbage
	// in a hello is refused, never trusted with a buffer size.
	trial := g.base
	adoptInto(&trial, m.Hello)
	if err := trial.Validate(); err != nil {
		return refuse(fmt.Errorf("unusable options in hello: %s", strings.ReplaceAll(err.Error(), "\n", "; ")))
	}
	select {
	case <-g.busy:
		return refuse(errors.New("the server is busy with another test"))
	default:
	}
	return m.Hello, nil
}

// track records a connection whose hello is awaited, so that stop can
// close it; it reports false once the greeter is stopping.
func (g *greeter) track(c net.Conn) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.pending == nil {
		return false
	}
	g.pending[c] = true
	return true
}

func (g *greeter) untrack(c net.Conn) {
	g.mu.Lock()
	delete(g.pending, c)
	g.mu.Unlock()
}

func (g *greeter) drop(c net.Conn) {
	g.untrack(c)
	c.Close()
}

// started marks the test as started: later clients are turned away.
func (g *greeter) started() { close(g.busy) }

// stop ends the accepting, closes the connections still pending and
// waits for every goroutine of the greeter.
func (g *greeter) stop() {
	g.once.Do(func() {
		close(g.quit)
		g.ln.Close()
		g.mu.Lock()
		for c := range g.pending {
			c.Close()
		}
		g.pending = nil
		g.mu.Unlock()
		g.wg.Wait()
	})
}

// clientGone is a client lost before the start: the server drops it and
// waits for another.
type clientGone struct{ err error }

func (e *clientGone) Error() string { return e.err.Error() }
func (e *clientGone) Unwrap() error { return e.err }

// round is a set of clients welcomed together, with the server's workers
// running for them.
type round struct {
	conns  []*conn
	events chan event
	s      *sideRun
}

// startClients returns NumClients clients that have said hello, been
// welcomed and said start, with the server's workers running. A client
// lost before its start is dropped, with the others of its round, and the
// server waits for new ones; only the server's own failure or the end of
// ctx is an error.
func (srv *server) startClients(ctx context.Context, g *greeter) (*round, error) {
	for {
		*srv.opts = g.base // a dropped round's client may have shaped it
		r, err := srv.startRound(ctx, g)
		var gone *clientGone
		if !errors.As(err, &gone) {
			if err == nil {
				g.started()
			}
			return r, err
		}
		g.log("control: %v; waiting for another client", err)
	}
}

// startRound waits for NumClients hellos, starts the workers the first
// client's options ask for, welcomes the clients and waits for their
// start.
func (srv *server) startRound(ctx context.Context, g *greeter) (*round, error) {
	r := &round{events: make(chan event, 16)}
	for len(r.conns) < srv.opts.NumClients {
		select {
		case gc := <-g.out:
			if len(r.conns) == 0 {
				srv.adopt(gc.h)
				srv.hello = gc.h
			}
			r.conns = append(r.conns, newConn(gc.c, r.events))
		case err := <-g.failed:
			r.end(err)
			return nil, err
		case <-ctx.Done():
			err := runEnded(ctx, ServerSide)
			r.end(err)
			return nil, err
		}
	}
	s, err := newSideRun(srv.opts, srv.cfg, ServerSide)
	if err != nil {
		r.end(err)
		return nil, err
	}
	r.s = s
	s.bind = srv.dataBind()
	s.peerReads = srv.hello.EnableRead
	if err := s.startWorkers(ctx); err != nil {
		r.end(err)
		return nil, err
	}
	ports := make([]uint16, len(s.dataAddrs))
	for i, a := range s.dataAddrs {
		ports[i] = a.Port()
	}
	for _, c := range r.conns {
		if err := c.send(&message{Type: msgWelcome, Ports: ports}); err != nil {
			err = &clientGone{fmt.Errorf("control: client %s vanished before the start: %w", c.c.RemoteAddr(), err)}
			r.end(err)
			return nil, err
		}
	}
	if err := r.waitStart(ctx, srv.cfg); err != nil {
		r.end(err)
		return nil, err
	}
	return r, nil
}

// waitStart waits for every client's start, with heartbeats both ways.
func (r *round) waitStart(ctx context.Context, cfg *SideConfig) error {
	beat := time.NewTicker(heartbeatEvery(cfg))
	defer beat.Stop()
	for n := 0; n < len(r.conns); {
		select {
		case ev := <-r.events:
			from := ev.from.c.RemoteAddr()
			if ev.err != nil {
				return &clientGone{fmt.Errorf("control: client %s vanished before the start: %w", from, ev.err)}
			}
			ev.from.seen = time.Now()
			switch ev.m.Type {
			case msgStart:
				n++
				if ev.m.Flows != nil {
					r.s.clientFlows = append(r.s.clientFlows, ev.m.Flows)
				}
			case msgHeartbeat:
			case msgAbort:
				return &clientGone{fmt.Errorf("control: client %s gave up before the start: %s", from, ev.m.Error)}
			default:
				return &clientGone{fmt.Errorf("%w: client %s sent %s before the start", ErrProtocol, from, ev.m.Type)}
			}
		case <-beat.C:
			for _, c := range r.conns {
				if time.Since(c.seen) > cfg.peerTimeout() {
					return &clientGone{fmt.Errorf("control: no word from client %s for %v before the start", c.c.RemoteAddr(), cfg.peerTimeout())}
				}
				_ = c.send(&message{Type: msgHeartbeat})
			}
		case <-r.s.failed:
			return r.s.failure()
		case <-ctx.Done():
			return runEnded(ctx, ServerSide)
		}
	}
	return nil
}

// end gives up a round that did not start: its clients are told why, its
// workers stopped, its connections closed.
func (r *round) end(err error) {
	for _, c := range r.conns {
		c.abort(err)
		c.Close()
	}
	if r.s != nil {
		r.s.stopWorkers()
		r.s.close()
	}
}
