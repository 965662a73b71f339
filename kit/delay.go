package kit

import (
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// resumer is a flow that paused for -D/--delay and resumes when its time
// comes.
type resumer interface {
	resume(w *worker) error
}

// delayQueue holds a worker's paused flows. Every flow of a run pauses
// for the same delay, so due times arrive in order and a FIFO suffices.
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

// setupDelay creates the worker's timer when the run asks for a delay.
func (w *worker) setupDelay() error {
	if w.s.opts.Delay <= 0 {
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

// postpone pauses f until -D has passed.
func (w *worker) postpone(f resumer) error {
	q := w.delays
	q.items = append(q.items, delayed{due: w.now + w.s.opts.Delay, f: f})
	if len(q.items)-q.head == 1 {
		return q.arm(w.s.opts.Delay)
	}
	return nil
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
