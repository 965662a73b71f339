package kit

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// Phases of a side, stored in sideRun.phase and read by every worker once
// per event batch.
const (
	phaseSetup    int32 = iota // connecting and accepting, not measuring
	phaseRunning               // measuring
	phaseStopping              // workers take their last sample and end
)

// workload opens what a worker needs before the start: a server's
// listening or bound sockets, a client's flows.
type workload interface {
	setup(w *worker) error
}

// sideRun is the state one side shares among its workers. The fields the
// workers read while running are set before the workers start, or
// published through phase (an atomic) and the wake-up eventfd.
type sideRun struct {
	// clientFlows are the flows the clients named in their start
	// messages (server).
	clientFlows []flowPorts
	opts        *Options
	cfg         *SideConfig
	side        Side
	wl          workload
	workers     int
	base        time.Time // the side's clock starts here
	// stimeBase is the machine's system time at the side's start (-S).
	stimeBase time.Duration
	start     time.Duration
	// ran: the run started (set before the phase says so, by the control
	// goroutine).
	ran   bool
	wake  int // eventfd, registered edge-triggered in every worker's epoll set
	phase atomic.Int32

	hookNames map[string]string

	mu         sync.Mutex
	dataAddrs  []netip.AddrPort // server: per worker (UDP) or per --num-ports port (TCP); client: the server's
	bind       netip.AddrPort   // server: where to bind; client: local address (may be invalid)
	peerReads  bool             // server: the client reads in a stream
	sharesCPUs bool             // the side has at least as many workers as the machine has CPUs
	err        error            // the first fatal error
	failed     chan struct{}    // closed with err

	connected   chan struct{} // client: a value per worker once its flows connect
	finished    chan *worker  // each worker once its loop ends
	release     chan struct{} // closed when workers may close their sockets
	releaseOnce sync.Once
	wg          sync.WaitGroup // worker goroutines
	list        []*worker
}

func newSideRun(opts *Options, cfg *SideConfig, side Side) (*sideRun, error) {
	wake, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("eventfd: %w", err)
	}
	s := &sideRun{
		opts: opts, cfg: cfg, side: side, workers: opts.NumThreads,
		base: time.Now(), wake: wake,
		failed:    make(chan struct{}),
		connected: make(chan struct{}, opts.NumThreads),
		finished:  make(chan *worker, opts.NumThreads),
		release:   make(chan struct{}),
		dataAddrs: make([]netip.AddrPort, dataAddrCount(opts, side)),
	}
	if opts.StimeUseProc {
		if s.stimeBase, err = procStatSystemTime(); err != nil {
			unix.Close(wake)
			return nil, err
		}
	}
	s.wl = workloadFor(opts, side)
	s.sharesCPUs = opts.NumThreads >= onlineCPUs()
	s.hookNames = map[string]string{}
	for _, h := range []string{"socket", "close", "sendmsg", "recvmsg", "recverr"} {
		s.hookNames[h] = side.String() + "_" + h
	}
	return s, nil
}

// onlineCPUs counts the machine's online CPUs (not just those this
// process may use, which is what runtime.NumCPU counts).
func onlineCPUs() int {
	b, err := os.ReadFile("/sys/devices/system/cpu/online")
	if err != nil {
		return runtime.NumCPU()
	}
	cpus, err := parseCPUList(string(b))
	if err != nil {
		return runtime.NumCPU()
	}
	return max(len(cpus), 1)
}

// clock is the side's monotonic time.
func (s *sideRun) clock() time.Duration { return time.Since(s.base) }

func timeDuration(ns int64) time.Duration { return time.Duration(ns) }

func (s *sideRun) hookName(h string) string { return s.hookNames[h] }

// fail records the first fatal error and stops every worker.
func (s *sideRun) fail(err error) {
	s.mu.Lock()
	first := s.err == nil
	if first {
		s.err = err
	}
	s.mu.Unlock()
	if first {
		close(s.failed)
		s.setPhase(phaseStopping)
	}
}

// hasFailed reports whether the side has failed.
func (s *sideRun) hasFailed() bool {
	select {
	case <-s.failed:
		return true
	default:
		return false
	}
}

func (s *sideRun) failure() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// setPhase publishes a phase and wakes every worker to see it.
func (s *sideRun) setPhase(p int32) {
	switch p {
	case phaseRunning:
		// Only the side's control goroutine starts a run, once.
		if s.phase.Load() != phaseSetup {
			return
		}
		s.start = s.clock()
		s.ran = true
		s.phase.Store(phaseRunning)
	case phaseStopping:
		s.phase.Store(phaseStopping)
	}
	var one = [8]byte{1}
	_, _ = unix.Write(s.wake, one[:])
}

// bindAddr is the address server worker i binds its data socket to.
func (s *sideRun) bindAddr(i int) netip.AddrPort {
	ap := s.bind
	if s.opts.Workload.IsUDP() && !s.opts.ReusePort && ap.Port() != 0 {
		return netip.AddrPortFrom(ap.Addr(), ap.Port()+uint16(i))
	}
	if i > 0 && ap.Port() == 0 && (!s.opts.Workload.IsUDP() || s.opts.ReusePort) {
		// Worker 0 picked a free port; the others share it.
		return netip.AddrPortFrom(ap.Addr(), s.dataAddrs[0].Port())
	}
	return ap
}

// dataAddrCount is how many data addresses a server has: one per
// worker over UDP, one per --num-ports port over TCP (its workers share
// each, SO_REUSEPORT).
func dataAddrCount(o *Options, side Side) int {
	if side == ServerSide && !o.Workload.IsUDP() {
		return o.numPorts()
	}
	return o.NumThreads
}

func (s *sideRun) setDataAddr(i int, ap netip.AddrPort) {
	s.mu.Lock()
	s.dataAddrs[i] = ap
	s.mu.Unlock()
}

// peerAddr is the server address client flow id talks to.
func (s *sideRun) peerAddr(id int) netip.AddrPort {
	return s.dataAddrs[id%len(s.dataAddrs)]
}

// bindLocal binds the socket of a client's flow id to -L, if given, or
// to --source-port plus the flow's id.
func (s *sideRun) bindLocal(fd, id int, family int) error {
	if s.opts.SourcePort > 0 {
		any := netip.IPv4Unspecified()
		if family == unix.AF_INET6 {
			any = netip.IPv6Unspecified()
		}
		ap := netip.AddrPortFrom(any, uint16(s.opts.SourcePort+id))
		if _, err := bindTo(fd, ap); err != nil {
			return fmt.Errorf("--source-port: flow %d: %w", id, err)
		}
		return nil
	}
	if !s.bind.IsValid() {
		return nil
	}
	_, err := bindTo(fd, s.bind)
	return err
}

// spin is how many times a worker polls before it sleeps (--spin).
func (s *sideRun) spin() int {
	if s.opts.Spin != SpinAuto {
		return s.opts.Spin
	}
	if s.opts.Workload == UDPStream && s.side == ServerSide {
		return UDPStreamReceiverSpin
	}
	return 0
}

// quota is how many transactions client flow id runs: -l -N spread over
// the flows so that they add up to exactly N; -1 when time-limited.
func (s *sideRun) quota(id int) int64 {
	n := s.opts.Transactions
	if n <= 0 {
		return -1
	}
	f := int64(s.opts.NumFlows)
	q := n / f
	if int64(id) < n%f {
		q++
	}
	return q
}

// flowsOf lists the client flow ids worker i owns.
func (s *sideRun) flowsOf(i int) []int {
	var ids []int
	for id := i; id < s.opts.NumFlows; id += s.workers {
		ids = append(ids, id)
	}
	return ids
}

// expectedSamples sizes a worker's sample slice so that a timed run never
// grows it.
func (s *sideRun) expectedSamples() int {
	if s.opts.TestLength > 0 {
		return min(int(s.opts.TestLength/s.opts.Interval)+3, 4096)
	}
	return 64
}

// flowConnected notes one more connected client flow; once all of a
// worker's flows are connected, the side hears of it.
func (w *worker) flowConnected() {
	w.pending--
	if w.pending == 0 {
		w.s.connected <- struct{}{}
	}
}

// startWorkers starts the workers one after the other, each on its own
// locked OS thread, and returns once all have opened their sockets (or the
// first failed). When ctx ends first, or setting up takes longer than
// setupTimeout (a socket hook that never returns), a socket hook still
// running is interrupted.
func (s *sideRun) startWorkers(ctx context.Context) error {
	limit := s.setupTimeout()
	ctx, cancel := context.WithTimeoutCause(ctx, limit, fmt.Errorf("opening the %s's sockets took longer than %v", s.side, limit))
	defer cancel()
	for i := 0; i < s.workers; i++ {
		w := &worker{s: s, id: i}
		s.mu.Lock()
		s.list = append(s.list, w)
		s.mu.Unlock()
		ready := make(chan error, 1)
		s.wg.Add(1)
		go s.runWorker(w, ready)
		var err error
		select {
		case err = <-ready:
		case <-ctx.Done():
			// A socket hook is still running: it has StopGrace to end.
			var it interrupter
			it.startAfter(StopGrace - interruptEvery)
			for waiting := true; waiting; {
				select {
				case err = <-ready:
					waiting = false
				case <-it.C():
					s.interruptHooks()
					it.next()
				}
			}
			it.stop()
			if err == nil {
				return runEnded(ctx, s.side)
			}
			// The run's end first, then the hook it stopped.
			return fmt.Errorf("%w; %s worker %d: %w", runEnded(ctx, s.side), s.side, i, err)
		}
		if err != nil {
			return fmt.Errorf("%s worker %d: %w", s.side, i, err)
		}
	}
	return nil
}

func (s *sideRun) runWorker(w *worker, ready chan<- error) {
	defer s.wg.Done()
	// Never unlocked: a thread that entered a namespace or was pinned to a
	// CPU dies with its goroutine.
	runtime.LockOSThread()
	defer w.closeAll()
	defer func() {
		// The side reads the worker's figures now; its sockets stay open
		// until the side releases them, so that a client's last bytes reach
		// the server before a close could reset the connection.
		w.reapZerocopy()
		w.noteOpenTCP()
		w.halfClose()
		s.finished <- w
		<-s.release
	}()
	if err := w.setup(); err != nil {
		ready <- err
		return
	}
	if s.side == ClientSide && w.pending == 0 {
		s.connected <- struct{}{}
	}
	ready <- nil
	if err := w.loop(); err != nil {
		s.fail(fmt.Errorf("%s worker %d: %w", s.side, w.id, err))
	}
}

// setupTimeout bounds how long a side may take to open its sockets and
// connect its flows: as long as it waits for a silent peer, plus a
// millisecond a flow.
func (s *sideRun) setupTimeout() time.Duration {
	return s.cfg.peerTimeout() + time.Duration(s.opts.NumFlows)*time.Millisecond
}

// stopWorkers stops every worker, lets them close their sockets and
// waits for them to end, interrupting the hook calls that outlive the
// stop by kit.StopGrace.
func (s *sideRun) stopWorkers() {
	s.setPhase(phaseStopping)
	s.releaseOnce.Do(func() { close(s.release) })
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	s.interruptUntil(done, StopGrace-interruptEvery)
}

// interruptEvery is how often a side interrupts the hooks of workers that
// should have ended: a hook call found running at two interrupts in a
// row is stopped.
const interruptEvery = 250 * time.Millisecond

// interruptUntil waits for done; from after on, it interrupts the hooks
// every interruptEvery.
func (s *sideRun) interruptUntil(done <-chan struct{}, after time.Duration) {
	var it interrupter
	defer it.stop()
	it.startAfter(after)
	for {
		select {
		case <-done:
			return
		case <-it.C():
			s.interruptHooks()
			it.next()
		}
	}
}

// interrupter says when to interrupt hooks: once started, after its delay
// and then every interruptEvery. The zero value never fires.
type interrupter struct {
	t  *time.Timer
	at time.Time // when it fires next
}

// startAfter makes it fire d from now, unless it fires sooner already.
func (it *interrupter) startAfter(d time.Duration) {
	at := time.Now().Add(d)
	if it.t != nil && !at.Before(it.at) {
		return
	}
	it.at = at
	if it.t == nil {
		it.t = time.NewTimer(max(d, 0))
		return
	}
	it.t.Reset(max(d, 0))
}

// C is the channel it fires on (nil, never ready, until started).
func (it *interrupter) C() <-chan time.Time {
	if it.t == nil {
		return nil
	}
	return it.t.C
}

// next is called each time it fired: it fires again interruptEvery later.
func (it *interrupter) next() {
	it.at = time.Now().Add(interruptEvery)
	it.t.Reset(interruptEvery)
}

func (it *interrupter) stop() {
	if it.t != nil {
		it.t.Stop()
	}
}

// interruptHooks asks every worker's hook set to stop a hook call that
// was running at the previous interrupt too (a script stuck in a loop or
// a blocking call).
func (s *sideRun) interruptHooks() {
	s.mu.Lock()
	hooks := make([]*Hooks, 0, len(s.list))
	for _, w := range s.list {
		if w.hooksReady != nil {
			hooks = append(hooks, w.hooksReady)
		}
	}
	s.mu.Unlock()
	for _, h := range hooks {
		if h.Interrupt != nil {
			h.Interrupt()
		}
	}
}

// close releases what the side holds after its workers ended.
func (s *sideRun) close() {
	unix.Close(s.wake)
}
