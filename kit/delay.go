package kit

import (
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// resumer is a flow that paused for -D/--delay (or --noburst's slot) and
// resumes when its time comes.
type resumer interface {
	resume(w *worker) error
}

// delayQueue holds a worker's paused flows. Every flow of a run pauses
// for the same delay, or until the worker's next --noburst slot, so due
// times arrive in order and a FIFO suffices.
// A timerfd, registered in the worker's epoll set, fires for the head.
type delayQueue struct {
	fd    int
	items []delayed
	head  int
}

type delayed struct {
	due time.Duration
	f   resumer
}

// setupDelay creates the worker's timer when the run asks for a delay
// or --noburst.
func (w *worker) setupDelay() error {
	if w.s.opts.Delay <= 0 && w.s.opts.NoBurst <= 0 {
		return nil
	}
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return fmt.Errorf("timerfd_create: %w", err)
	}
	w.delays = &delayQueue{fd: fd}
	w.closers = append(w.closers, func() { w.unregister(fd); unix.Close(fd) })
	return w.register(fd, unix.EPOLLIN, w.delays)
}

// postpone pauses f until -D has passed, or until the worker's next
// --noburst slot.
func (w *worker) postpone(f resumer) error {
	q := w.delays
	due := w.now + w.s.opts.Delay
	if w.s.opts.NoBurst > 0 {
		due = w.nextSlot()
	}
	q.items = append(q.items, delayed{due: due, f: f})
	if len(q.items)-q.head == 1 {
		return q.arm(due - w.now)
	}
	return nil
}

// nextSlot hands out the worker's --noburst slots, as neper's threads
// do: worker i of T sends at i·N, then every T·N after, N the noburst
// interval, from the start; together the workers send one request every
// N, evenly. A worker that falls behind takes its past slots at once.
func (w *worker) nextSlot() time.Duration {
	n := w.s.opts.NoBurst
	if w.slot == 0 {
		w.slot = w.start + time.Duration(w.id)*n
	}
	due := w.slot
	w.slot += n * time.Duration(w.s.workers)
	return due
}

func (q *delayQueue) arm(after time.Duration) error {
	after = max(after, time.Nanosecond) // zero would disarm
	spec := unix.ItimerSpec{Value: unix.NsecToTimespec(int64(after))}
	return unix.TimerfdSettime(q.fd, 0, &spec, nil)
}

// handle resumes every flow whose time has come and re-arms the timer.
func (q *delayQueue) handle(w *worker, _ uint32) error {
	var buf [8]byte
	_, _ = sysRead(q.fd, buf[:])
	now := w.s.clock()
	for q.head < len(q.items) && q.items[q.head].due <= now {
		f := q.items[q.head].f
		q.items[q.head] = delayed{}
		q.head++
		if err := f.resume(w); err != nil {
			return err
		}
	}
	if q.head == len(q.items) {
		q.items, q.head = q.items[:0], 0
		return nil
	}
	if q.head > len(q.items)/2 {
		n := copy(q.items, q.items[q.head:])
		q.items, q.head = q.items[:n], 0
	}
	return q.arm(q.items[q.head].due - now)
}
