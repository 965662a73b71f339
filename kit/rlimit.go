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
	return fmt.Errorf("-F/--num-flows: %d flows need about %d open files, but the limit is %d (raise it with ulimit -n, or run fewer flows)",
		o.NumFlows, need, lim.Max)
}

// lockThread wires the calling goroutine to its OS thread for good.
func lockThread() { runtime.LockOSThread() }
