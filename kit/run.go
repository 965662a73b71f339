package kit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"sync"
	"time"
)

// SideConfig is what one side of a run needs beyond its Options: where
// its threads live, its hooks, where its log goes. The zero value runs
// plain syscalls in the caller's network namespace.
type SideConfig struct {
	// ThreadInit is called on every OS thread the side uses (each worker
	// and the control connection's) before it opens a socket, e.g. to
	// enter a network namespace. The thread is never reused afterwards.
	ThreadInit func() error
	// Hooks makes each worker's hook set; nil for the plain data path.
	Hooks HookProvider
	// Log receives progress lines (-V); nil discards them.
	Log io.Writer
	// Listening is called by a server once its control socket listens,
	// with the address clients should use.
	Listening func(control netip.AddrPort)
	// Progress, if set, receives the side's totals once an interval while
	// the test runs (on the side's control goroutine).
	Progress func(Progress)
	// IOStat, if set, receives a client's --iostat-ms snapshots while the
	// test runs (on the side's control goroutine).
	IOStat func(IOStat)
	// PeerTimeout bounds how long a side waits for its peer's next control
	// message (0: 10s). Heartbeats keep a live peer well inside it.
	PeerTimeout time.Duration
	// Threads, if set, is the side's worker threads in place of the
	// options' NumThreads: a server's own -T, which it never takes from
	// its client (2 server workers for 1 flow leave one with nothing to
	// serve).
	Threads int
}

// apply gives opts the side's own settings.
func (c *SideConfig) apply(opts *Options) {
	if c.Threads > 0 {
		opts.NumThreads = c.Threads
	}
}

func (c *SideConfig) peerTimeout() time.Duration {
	if c.PeerTimeout > 0 {
		return c.PeerTimeout
	}
	return 10 * time.Second
}

func (c *SideConfig) logf(format string, args ...any) {
	if c.Log != nil {
		fmt.Fprintf(c.Log, format+"\n", args...)
	}
}

// Run runs one side of a test, the client if opts.Client is set and the
// server otherwise, and returns its measurement. A server serves one test
// and returns. The context cancels the run; opts.SuicideLength bounds it.
func Run(ctx context.Context, opts Options, cfg SideConfig) (*Result, error) {
	cfg.apply(&opts)
	if err := opts.Validate(); err != nil {
		return nil, &UsageError{Err: err}
	}
	if err := Prepare(&opts, false); err != nil {
		return nil, &UsageError{Err: err}
	}
	if opts.SuicideLength > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opts.SuicideLength)
		defer cancel()
	}
	if opts.Client {
		return runClient(ctx, &opts, &cfg)
	}
	srv, err := listenServer(&opts, &cfg)
	if err != nil {
		return nil, err
	}
	return srv.serve(ctx)
}

// LocalResult is the outcome of RunLocal: both sides' measurements.
type LocalResult struct {
	Server *Result
	Client *Result
}

// RunLocal runs a server and a client of opts in this process, over the
// host given in opts (the loopback address of its family by default), on
// free ports unless opts names them. Each side gets its own SideConfig, so
// each can live in its own network namespace.
func RunLocal(ctx context.Context, opts Options, server, client SideConfig) (*LocalResult, error) {
	sopts := opts
	sopts.Client = false
	// -r/-w speak for the client; the server follows what its client asks.
	sopts.EnableRead, sopts.EnableWrite = false, false
	sopts.WaitStart = 0 // the client's
	copts := opts
	copts.Client = true
	if opts.ControlPort == DefaultControlPort {
		sopts.ControlPort = 0
	}
	if opts.DataPort == DefaultDataPort {
		sopts.DataPort = 0
	}
	server.apply(&sopts)
	if err := opts.ValidateLocal(); err != nil {
		return nil, &UsageError{Err: err}
	}
	if err := sopts.Validate(); err != nil {
		return nil, &UsageError{Err: err}
	}
	both := opts // the larger side's threads
	both.NumThreads = max(opts.NumThreads, server.Threads)
	if err := Prepare(&both, true); err != nil {
		return nil, &UsageError{Err: err}
	}
	if opts.SuicideLength > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opts.SuicideLength)
		defer cancel()
	}
	srv, err := listenServer(&sopts, &server)
	if err != nil {
		return nil, err
	}
	copts.ControlPort = int(srv.addr.Port())
	if copts.Host == "" && srv.addr.Addr().IsValid() && !srv.addr.Addr().IsUnspecified() {
		copts.Host = srv.addr.Addr().String()
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// An interrupt reaches the server through its client, which ends the
	// test for both and collects the server's figures.
	sctx, cancelServer := IgnoreInterrupts(ctx)
	defer cancelServer(nil)
	var res LocalResult
	var serr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		res.Server, serr = srv.serve(sctx)
		if serr != nil {
			cancel()
		}
	}()
	var cerr error
	res.Client, cerr = runClient(ctx, &copts, &client)
	if cerr != nil && !EndsServer(cerr) {
		cancel()
		cancelServer(context.Canceled)
	}
	wg.Wait()
	return &res, LocalError(cerr, serr)
}

// LocalError is the error of a run of both sides in one process, from
// the client's and the server's: the first cause first. A client
// interrupted (Ctrl-C) ended the test for both; a client that saw its
// server fail reports the server's own error.
func LocalError(cerr, serr error) error {
	var in *Interrupted
	var peer *PeerError
	switch {
	case errors.As(cerr, &in) && !in.Peer:
		return cerr
	case cerr != nil && errors.Is(serr, ErrSuicide):
		// -s ended both: the client's error says what was still going on.
		return fmt.Errorf("client: %w", cerr)
	case errors.As(cerr, &peer) && serr != nil:
		return fmt.Errorf("server failed: %w", serr)
	case cerr != nil && errors.As(serr, &peer):
		return fmt.Errorf("client: %w", cerr)
	}
	switch {
	case serr != nil && errors.Is(cerr, context.Canceled) && !errors.Is(serr, context.Canceled):
		// The server failed and the client was cancelled for it.
		return fmt.Errorf("server: %w", serr)
	case cerr != nil && serr != nil && !errors.Is(serr, context.Canceled):
		return fmt.Errorf("client: %w; server: %w", cerr, serr)
	case cerr != nil:
		return fmt.Errorf("client: %w", cerr)
	case serr != nil:
		return fmt.Errorf("server: %w", serr)
	}
	return nil
}

// UsageError is a problem with the options, found before any traffic.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// onSideThread runs fn on a fresh OS thread that has passed ThreadInit
// (entered the side's namespace), so that the sockets fn opens live there.
// Without ThreadInit it runs fn directly.
func onSideThread(cfg *SideConfig, fn func() error) error {
	if cfg.ThreadInit == nil {
		return fn()
	}
	done := make(chan error, 1)
	go func() {
		lockThread() // never unlocked: the thread dies with the goroutine
		if err := cfg.ThreadInit(); err != nil {
			done <- fmt.Errorf("thread init: %w", err)
			return
		}
		done <- fn()
	}()
	return <-done
}
