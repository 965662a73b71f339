package kit

import (
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"
)

// filesNeeded estimates the descriptors a run holds at once: a socket a
// flow on each side it runs, an epoll set, a listener and a spare per
// worker, and some for the control plane and the Go runtime.
func filesNeeded(o *Options, local bool) uint64 {
	perSide := uint64(o.NumFlows) + 3*uint64(o.NumThreads) + 16
	if local {
		return 2*perSide + 32
	}
	return perSide + 32
}

// ensureFileLimit raises the open-file limit as far as the run needs and
// the hard limit allows (a privileged process raises the hard limit too),
// and refuses a run the limit cannot hold.
func ensureFileLimit(o *Options, local bool) error {
	need := filesNeeded(o, local)
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("getrlimit: %w", err)
	}
	if lim.Cur >= need {
		return nil
	}
	if lim.Max >= need {
		lim.Cur = lim.Max
		return unix.Setrlimit(unix.RLIMIT_NOFILE, &lim)
	}
	raised := unix.Rlimit{Cur: need, Max: need}
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &raised); err == nil {
		return nil
	}
	return &FileLimitError{Flows: o.NumFlows, Threads: o.NumThreads, Need: need, Limit: lim.Max, Local: local}
}

// FileLimitError says a run needs more open files than the hard limit
// allows. It is found before any socket is opened.
type FileLimitError struct {
	Flows   int
	Threads int
	Need    uint64 // descriptors the run needs
	Limit   uint64 // the hard RLIMIT_NOFILE
	Local   bool   // both sides in this process
}

func (e *FileLimitError) Error() string {
	both := ""
	if e.Local {
		both = " (both sides in one process)"
	}
	if 3*e.Threads > e.Flows { // a worker holds 3 descriptors, a flow 1
		return fmt.Sprintf("-T/--num-threads: %d threads need about %d open files%s, but the limit is %d (raise it with ulimit -n, or run fewer threads)",
			e.Threads, e.Need, both, e.Limit)
	}
	return fmt.Sprintf("-F/--num-flows: %d flows need about %d open files%s, but the limit is %d (raise it with ulimit -n, or run fewer flows)",
		e.Flows, e.Need, both, e.Limit)
}

// FitsOneSide reports whether one side of the run, alone in a process,
// fits the limit.
func (e *FileLimitError) FitsOneSide(o *Options) bool {
	return filesNeeded(o, false) <= e.Limit
}

// lockThread wires the calling goroutine to its OS thread for good.
func lockThread() { runtime.LockOSThread() }

// Prepare readies the process for a run of o (both sides in this process
// when local): it raises the open-file limit, or returns a
// *FileLimitError before any socket is opened, and raises GOMAXPROCS so
// that every worker thread can wait in epoll_wait holding its P with Ps
// to spare for the rest of the program (it never lowers it). Run and
// RunLocal call it themselves; a caller that runs the two sides with Run
// in one process calls it first with local set.
func Prepare(o *Options, local bool) error {
	if err := ensureFileLimit(o, local); err != nil {
		return err
	}
	workers := o.NumThreads
	if local {
		workers *= 2
	}
	if n := workers + 2; runtime.GOMAXPROCS(0) < n {
		runtime.GOMAXPROCS(n)
	}
	return nil
}
