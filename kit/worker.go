package kit

import (
	"errors"
	"fmt"
	"math"
	"time"

	"golang.org/x/sys/unix"

	"github.com/hookperf/hookperf/kit/internal/poller"
	"github.com/hookperf/hookperf/kit/internal/stats"
)

// handler reacts to the epoll events of one file descriptor.
type handler interface {
	handle(w *worker, events uint32) error
}

// worker is one epoll loop on one locked OS thread, with its flows, its
// buffer, its hooks and its counters. Nothing in it is shared with other
// workers while the run lasts.
type worker struct {
	s     *sideRun
	id    int
	poll  *poller.Poller
	hooks *Hooks // nil: plain syscalls
	// hooksReady is hooks, published under the side's lock for Interrupt.
	hooksReady *Hooks
	buf        []byte
	msg        Msg    // re-pointed for every hook call
	ctl        []byte // control buffer for error-queue reads

	handlers []handler     // indexed by fd
	flows    []flow        // this worker's flows (client: assigned; server: accepted)
	closers  []func()      // listening and other per-worker sockets, closed last
	delays   *delayQueue   // flows paused by -D or --noburst (nil without either)
	slot     time.Duration // the next --noburst slot (0: not yet handed out)
	crrFree  []*crrServer  // tcp_crr server flows ready for reuse
	// readBurst and writeBurst bound the reads or writes one event makes:
	// a few when level-triggered, so one busy flow does not starve the
	// others; until EAGAIN when edge-triggered; one when a hook replaces
	// the call, as rushit called its hooks once per event.
	readBurst, writeBurst int
	unyielded             int // datagrams sent since a udp_stream sender last yielded
	// minusOne: the last packet hook returned a bare -1 (no errno).
	minusOne bool
	// sendFlags are the flags of every data write: MSG_MORE on tcp_stream
	// unless --no-cork, as neper's. recvFlags those of every data read:
	// MSG_TRUNC with --skip-rx-copy.
	sendFlags, recvFlags int
	// publishEvery: the worker publishes its counters after every batch
	// of events, for --iostat-ms, not once an interval.
	publishEvery bool
	// rtts is a client's --log-rtt log (nil without it).
	rtts *rttLog
	// rxZerocopy: stream reads map the received pages (-z), when no hook
	// replaces the read.
	rxZerocopy bool

	now      time.Duration // monotonic time of the current event batch, since the side's base
	started  bool
	start    time.Duration // when measurement started
	deadline time.Duration // client: when to stop (0: no time limit)
	next     time.Duration // next sample
	stopAt   time.Duration // server: when the stop came (0: not yet)
	finished bool          // the last sample is taken
	pending  int           // client flows still connecting
	active   int           // flows that have not finished their transaction quota
	// timerAt is when the flows' timers next need a look (0: no timers).
	// No timer falls due before it; it may be early.
	timerAt time.Duration

	c   counters
	tcp tcpTotals // TCP_INFO of the connections that ended
	// packetHookCalls counts the packet hook calls (only on the hooked
	// path: the plain one pays nothing for it).
	packetHookCalls uint64
	lat             stats.Histogram
	interval        stats.Moments // latency within the current interval
	samples         []Sample
	lats            []stats.Moments // latency of each sample's interval
	// The current and the last interval's latency histograms, for the
	// samples' percentiles: only on an rr client asked for percentiles.
	intervalHist, lastHist *stats.Histogram
	// flowStats are the worker's flows' counts and samples, closed flows'
	// included (see trackFlow).
	flowStats []*flowStats
	// untracked counts for the flows that have no samples of their own
	// (a tcp_crr server's connections); nothing reads it.
	untracked flowStats
	pub       published // counters shared once an interval, for progress
}

// counters are a worker's (or a flow's) running totals.
type counters struct {
	transactions   uint64
	bytesRead      uint64
	bytesWritten   uint64
	packetsRead    uint64
	packetsWritten uint64
	connections    uint64
	// A udp_rr client's: requests resent, and responses to a request
	// already answered or to one since resent.
	udpResends, udpDuplicates, udpStale uint64
	// The data calls made (reads, writes), for --iostat-ms.
	readOps, writeOps uint64
	// Zero-copy sends (-Z) made, completed, and of those copied.
	zcSends, zcDone, zcCopied uint64
	zcMapped                  uint64 // -z: bytes received mapped, not copied
}

func (c *counters) add(o *counters) {
	c.transactions += o.transactions
	c.bytesRead += o.bytesRead
	c.bytesWritten += o.bytesWritten
	c.packetsRead += o.packetsRead
	c.packetsWritten += o.packetsWritten
	c.connections += o.connections
	c.udpResends += o.udpResends
	c.udpDuplicates += o.udpDuplicates
	c.udpStale += o.udpStale
	c.readOps += o.readOps
	c.writeOps += o.writeOps
	c.zcSends += o.zcSends
	c.zcDone += o.zcDone
	c.zcCopied += o.zcCopied
	c.zcMapped += o.zcMapped
}

// ticker is a flow with a timer: a udp_rr client resends a request that
// went unanswered for --udp-timeout.
type ticker interface {
	// tick does what fell due by w.now and returns when the flow's timer
	// next falls due (0: it is not set).
	tick(w *worker) (time.Duration, error)
}

// flow is one workload connection's state machine.
type flow interface {
	handler
	// begin is called once when measurement starts.
	begin(w *worker) error
	// close releases the flow's socket.
	close(w *worker)
}

// register adds fd to the epoll set with h as its handler.
func (w *worker) register(fd int, events uint32, h handler) error {
	return w.add(fd, events, h, w.poll.Add)
}

// registerEdge adds fd edge-triggered, whatever -E says: for sockets the
// kit drives to EAGAIN itself (a tcp_crr client's short-lived connection).
func (w *worker) registerEdge(fd int, events uint32, h handler) error {
	return w.add(fd, events, h, w.poll.AddEdge)
}

// add records h as fd's handler and registers fd with the poller's add.
func (w *worker) add(fd int, events uint32, h handler, add func(int, uint32, int32) error) error {
	if fd >= len(w.handlers) {
		n := max(2*len(w.handlers), fd+1, 64)
		grown := make([]handler, n)
		copy(grown, w.handlers)
		w.handlers = grown
	}
	w.handlers[fd] = h
	if err := add(fd, events, int32(fd)); err != nil {
		w.handlers[fd] = nil
		return fmt.Errorf("epoll_ctl add fd %d: %w", fd, err)
	}
	return nil
}

// unregister forgets fd's handler; the caller closes fd, which removes it
// from the epoll set.
func (w *worker) unregister(fd int) {
	if fd < len(w.handlers) {
		w.handlers[fd] = nil
	}
	if w.hooks != nil {
		// A hook may have duplicated the descriptor, which would keep its
		// registration alive past close(2).
		_ = w.poll.Del(fd)
	}
}

// setup prepares the worker on its own thread: namespace, CPU, poller,
// hooks and the sockets the workload opens before the start.
func (w *worker) setup() error {
	s := w.s
	if s.cfg.ThreadInit != nil {
		if err := s.cfg.ThreadInit(); err != nil {
			return fmt.Errorf("thread init: %w", err)
		}
	}
	if s.opts.PinCPU {
		if err := pinToAllowedCPU(w.id); err != nil {
			return err
		}
	} else if s.opts.PinNUMA {
		if err := pinToNUMANode(w.id); err != nil {
			return err
		}
	}
	var err error
	if w.poll, err = poller.New(s.opts.MaxEvents, s.opts.EdgeTrigger); err != nil {
		return err
	}
	w.poll.SetSpin(s.spin())
	if err := w.poll.AddEdge(s.wake, poller.In, int32(s.wake)); err != nil {
		return fmt.Errorf("register wake-up fd: %w", err)
	}
	if s.cfg.Hooks != nil {
		h, err := s.cfg.Hooks.NewHooks(WorkerInfo{Side: s.side, Index: w.id, Workers: s.workers})
		if err != nil {
			return fmt.Errorf("hooks: %w", err)
		}
		w.hooks = h
		s.mu.Lock()
		w.hooksReady = h // readable by the side, to interrupt a stuck hook
		s.mu.Unlock()
	}
	w.readBurst, w.writeBurst = burst, burst
	if s.opts.Workload == TCPStream && !s.opts.NoCork {
		w.sendFlags = unix.MSG_MORE
	}
	if s.opts.SkipRxCopy {
		w.recvFlags = unix.MSG_TRUNC
	}
	if s.opts.ZeroCopy {
		w.sendFlags |= unix.MSG_ZEROCOPY
	}
	if s.opts.LogRTT != "" && s.side == ClientSide && s.opts.Workload.IsRR() {
		w.rtts = newRTTLog(s.opts.logRTTPerFlow())
	}
	w.publishEvery = s.opts.IOStatEvery > 0 && s.side == ClientSide
	w.rxZerocopy = s.opts.RxZeroCopy && (w.hooks == nil || w.hooks.RecvMsg == nil)
	if s.opts.EdgeTrigger {
		w.readBurst, w.writeBurst = math.MaxInt32, math.MaxInt32
	}
	if w.hooks != nil && w.hooks.RecvMsg != nil && !s.opts.EdgeTrigger {
		w.readBurst = 1
	}
	if w.hooks != nil && w.hooks.SendMsg != nil && !s.opts.EdgeTrigger {
		w.writeBurst = 1
	}
	w.buf = make([]byte, s.opts.BufferSize)
	fill(w.buf)
	w.ctl = make([]byte, 512)
	if err := w.setupDelay(); err != nil {
		return err
	}
	w.samples = make([]Sample, 0, s.expectedSamples())
	w.lats = make([]stats.Moments, 0, s.expectedSamples())
	if s.side == ClientSide && s.opts.Workload.IsRR() && len(s.opts.Percentiles) > 0 {
		w.intervalHist, w.lastHist = new(stats.Histogram), new(stats.Histogram)
	}
	return s.wl.setup(w)
}

// pinToAllowedCPU pins the calling thread to the i-th CPU (modulo their
// number) of those the process may run on, as neper's -U does.
func pinToAllowedCPU(i int) error {
	var allowed unix.CPUSet
	if err := unix.SchedGetaffinity(0, &allowed); err != nil {
		return fmt.Errorf("-U/--pin-cpu: sched_getaffinity: %w", err)
	}
	var cpus []int
	for c := 0; c < len(allowed)*64; c++ {
		if allowed.IsSet(c) {
			cpus = append(cpus, c)
		}
	}
	if len(cpus) == 0 {
		return fmt.Errorf("-U/--pin-cpu: no CPU allowed")
	}
	var set unix.CPUSet
	set.Set(cpus[i%len(cpus)])
	if err := unix.SchedSetaffinity(0, &set); err != nil {
		return fmt.Errorf("-U/--pin-cpu: pin to CPU %d: %w", cpus[i%len(cpus)], err)
	}
	return nil
}

// fill gives a buffer recognisable, non-zero content.
func fill(b []byte) {
	for i := range b {
		b[i] = byte('a' + i%26)
	}
}

// loop runs the worker's epoll loop until the side stops or the client's
// test is over.
func (w *worker) loop() error {
	s := w.s
	for {
		if err := w.checkPhase(); err != nil {
			if errors.Is(err, errDone) {
				return nil
			}
			return err
		}
		if w.started && w.done() {
			w.finish()
			return nil
		}
		evs, err := w.poll.Wait(w.timeout())
		if err != nil {
			return err
		}
		w.now = s.clock()
		for i := range evs {
			fd := int(evs[i].Fd)
			if fd == s.wake {
				continue
			}
			if h := w.handlers[fd]; h != nil {
				if err := h.handle(w, evs[i].Events); err != nil {
					return err
				}
			}
		}
		if w.timerAt > 0 && w.now >= w.timerAt {
			if err := w.runTimers(); err != nil {
				return err
			}
		}
		if w.started && w.stopAt == 0 && w.now >= w.next {
			w.sample()
		}
		if w.publishEvery {
			w.pub.store(&w.c)
		}
	}
}

var errDone = errors.New("done")

// checkPhase follows the side's phase: start measuring, or stop.
func (w *worker) checkPhase() error {
	switch w.s.phase.Load() {
	case phaseRunning:
		if !w.started {
			return w.begin()
		}
	case phaseStopping:
		if !w.started && w.s.ran && !w.s.hasFailed() {
			// The run was over before this worker saw it start (a
			// server's, under a client's few transactions): it still
			// samples its start and its end.
			if err := w.begin(); err != nil {
				return err
			}
		}
		if w.started && !w.finished {
			// The last sample is taken at the stop: what a server drains
			// afterwards counts in its totals (so both sides' byte counts
			// agree) but not in the measured window's rate.
			w.now = w.s.clock()
			w.finish()
		}
		if w.draining() {
			return nil
		}
		return errDone
	}
	return nil
}

// drainFor bounds how long a stopping server keeps reading what its
// client sent before it closed.
const drainFor = 2 * time.Second

// draining reports whether a stopping server worker should go on serving:
// its flows still hold data the client sent before it stopped, and the
// counts of both sides agree only once that is read (to the EOF).
func (w *worker) draining() bool {
	if w.s.side != ServerSide || !w.started || w.s.hasFailed() || len(w.flows) == 0 || w.s.opts.Workload == DummyTest {
		return false
	}
	now := w.s.clock()
	if w.stopAt == 0 {
		w.stopAt = now
	}
	return now < w.stopAt+drainFor
}

// begin starts measurement and kicks off the client's flows.
func (w *worker) begin() error {
	s := w.s
	w.started = true
	w.now = s.clock()
	w.start = s.start
	w.next = w.start + s.opts.Interval
	if s.side == ClientSide && s.opts.TestLength > 0 && s.opts.Transactions == 0 {
		w.deadline = w.start + s.opts.TestLength
	}
	w.record(w.start)
	for _, f := range w.flows {
		if err := f.begin(w); err != nil {
			return err
		}
	}
	return nil
}

// done reports whether a client worker has finished its test.
func (w *worker) done() bool {
	if w.s.side != ClientSide {
		return false
	}
	if w.deadline > 0 {
		return w.now >= w.deadline
	}
	return w.active == 0
}

// timeout is how long the next epoll_wait may block.
func (w *worker) timeout() time.Duration {
	if !w.started {
		return 100 * time.Millisecond
	}
	now := w.s.clock()
	until := w.next
	if w.stopAt > 0 {
		until = min(until, w.stopAt+drainFor)
	}
	if w.deadline > 0 && w.deadline < until {
		until = w.deadline
	}
	if w.timerAt > 0 && w.timerAt < until {
		until = w.timerAt
	}
	if until <= now {
		return 0
	}
	return until - now
}

// runTimers runs the timers of the flows that have one and sets timerAt
// to the earliest that is still set. A timer set after this look falls due
// at least --udp-timeout from now, so timerAt is at most that far away:
// the flows set their timers without telling the worker, and the loop
// costs nothing per datagram.
func (w *worker) runTimers() error {
	next := w.now + w.s.opts.UDPTimeout
	for _, f := range w.flows {
		t, ok := f.(ticker)
		if !ok {
			continue
		}
		due, err := t.tick(w)
		if err != nil {
			return err
		}
		if due > 0 && due < next {
			next = due
		}
	}
	w.timerAt = next
	return nil
}

// sample records the counters at the end of each interval that passed.
func (w *worker) sample() {
	iv := w.s.opts.Interval
	for w.now >= w.next {
		w.record(w.next)
		w.next += iv
	}
}

// finish records the last, possibly partial, interval.
func (w *worker) finish() {
	end := w.now
	if w.deadline > 0 && end > w.deadline {
		end = w.deadline
	}
	w.finished = true
	for w.next < end {
		w.record(w.next)
		w.next += w.s.opts.Interval
	}
	if last := w.samples[len(w.samples)-1]; end-w.start <= last.Time {
		// The end falls on the last sample: that sample gets the final
		// counts.
		w.interval.Merge(&w.lats[len(w.lats)-1])
		if w.intervalHist != nil {
			w.intervalHist.Merge(w.lastHist)
		}
		w.samples = w.samples[:len(w.samples)-1]
		w.lats = w.lats[:len(w.lats)-1]
		for _, st := range w.flowStats {
			st.unrecord()
		}
	}
	w.record(end)
}

// record appends the worker's sample at time t (since the side's base)
// and starts a new latency interval.
func (w *worker) record(t time.Duration) {
	ru := getRusage(unix.RUSAGE_THREAD)
	if w.s.opts.StimeUseProc {
		// The machine's, shared evenly among the side's workers, as neper
		// shares it among its threads.
		ru.Stime = w.s.procStime() / time.Duration(w.s.workers)
	}
	sm := Sample{
		Time:         t - w.start,
		Worker:       w.id,
		Flow:         -1,
		Transactions: w.c.transactions,
		BytesRead:    w.c.bytesRead,
		BytesWritten: w.c.bytesWritten,
		Packets:      w.c.packetsRead,
		Utime:        ru.Utime,
		Stime:        ru.Stime,
		MaxRSS:       ru.MaxRSS,
		MinFlt:       ru.MinFlt,
		MajFlt:       ru.MajFlt,
		Nvcsw:        ru.Nvcsw,
		Nivcsw:       ru.Nivcsw,
	}
	for _, st := range w.flowStats {
		st.record(&sm, w.s.opts.Percentiles)
	}
	sm.setLatency(&w.interval)
	if h := w.intervalHist; h != nil {
		sm.LatencyPercentiles = percentilesOf(h, w.s.opts.Percentiles)
		w.intervalHist, w.lastHist = w.lastHist, h
		w.intervalHist.Reset()
	}
	w.pub.store(&w.c)
	w.samples = append(w.samples, sm)
	w.lats = append(w.lats, w.interval)
	w.interval = stats.Moments{}
}

// closeAll closes every flow and per-worker socket, running close hooks,
// then the poller and the hook set.
func (w *worker) closeAll() {
	for _, f := range w.flows {
		f.close(w)
	}
	w.flows = nil
	for i := len(w.closers) - 1; i >= 0; i-- {
		w.closers[i]()
	}
	if w.poll != nil {
		_ = w.poll.Close()
	}
	if w.hooks != nil && w.hooks.Close != nil {
		w.hooks.Close()
	}
}

// halfCloser is a flow that ends its sending half when its client stops.
type halfCloser interface {
	halfClose()
}

// halfClose ends the sending half of a client's flows that stream, so the
// server reads everything they wrote up to a clean EOF.
func (w *worker) halfClose() {
	if w.s.side != ClientSide {
		return
	}
	for _, f := range w.flows {
		if h, ok := f.(halfCloser); ok {
			h.halfClose()
		}
	}
}

// stamp reads the clock for the end of a transaction, and makes that the
// time the next one, chained from it, starts at.
func (w *worker) stamp() time.Duration {
	w.now = w.s.clock()
	return w.now
}

// recordLatency adds the latency of one transaction of flow st.
func (w *worker) recordLatency(st *flowStats, d time.Duration) {
	if w.rtts != nil {
		w.rtts.add(w.id, st.id, w.now-w.start, d)
	}
	st.latency(d)
	w.interval.Add(int64(d))
	if w.intervalHist != nil {
		w.intervalHist.Record(int64(d))
	}
	if w.now-w.start >= w.s.opts.Warmup {
		w.lat.Record(int64(d))
	}
}
