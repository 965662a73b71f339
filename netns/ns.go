package netns

import (
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

func init() {
	// Keep the main goroutine on the main thread for the life of the
	// program, so that no goroutine that locks its thread and enters a
	// namespace ever runs there: the runtime wedges the main thread
	// instead of retiring it (golang/go#34031).
	runtime.LockOSThread()
}

// ErrClosed is returned by the methods of an NS that was closed.
var ErrClosed = errors.New("netns: namespace is closed")

// NS is a network namespace, held open by a file descriptor. Its methods
// are safe for concurrent use. Close it when done: the kernel destroys the
// namespace, and every link in it, once nothing holds it any more.
type NS struct {
	ino uint64 // the namespace's inode number, fixed at creation

	mu     sync.Mutex
	fd     int // -1 once closed
	handle *netlink.Handle
}

// New creates a network namespace with its loopback device up. The
// calling goroutine's thread is not touched: the namespace is made on a
// throwaway locked thread that exits afterwards.
func New() (*NS, error) {
	type made struct {
		ns  *NS
		err error
	}
	ch := make(chan made, 1)
	go func() {
		// Never unlocked: this thread is in the new namespace, so it
		// exits with the goroutine.
		runtime.LockOSThread()
		ns, err := newOnThisThread()
		ch <- made{ns, err}
	}()
	m := <-ch
	if m.err != nil {
		return nil, fmt.Errorf("netns: new namespace: %w", m.err)
	}
	return m.ns, nil
}

// newOnThisThread moves the calling (locked, disposable) thread into a new
// network namespace and returns it, with a netlink handle opened inside it
// and lo up.
func newOnThisThread() (*NS, error) {
	if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
		return nil, fmt.Errorf("unshare(CLONE_NEWNET): %w", err)
	}
	fd, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open /proc/thread-self/ns/net: %w", err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("stat /proc/thread-self/ns/net: %w", err)
	}
	ns := &NS{ino: st.Ino, fd: fd}
	// Sockets stay in the namespace they were made in, so this handle
	// configures the namespace from any thread.
	ns.handle, err = netlink.NewHandle()
	if err != nil {
		ns.Close()
		return nil, fmt.Errorf("netlink handle: %w", err)
	}
	lo, err := ns.handle.LinkByName("lo")
	if err == nil {
		err = ns.handle.LinkSetUp(lo)
	}
	if err != nil {
		ns.Close()
		return nil, fmt.Errorf("bring lo up: %w", err)
	}
	return ns, nil
}

// Available reports whether network namespaces can be made here: nil as
// root (or with CAP_SYS_ADMIN, or inside a user namespace that owns the
// process's network namespace), otherwise an error that says why.
func Available() error {
	ns, err := New()
	if err != nil {
		return fmt.Errorf("netns: cannot make network namespaces here (they need root, CAP_SYS_ADMIN, or a user namespace as nstest.Main makes): %w", errors.Unwrap(err))
	}
	return ns.Close()
}

// ID returns the namespace's inode number, as in /proc/<pid>/ns/net
// ("net:[ID]"). It tells namespaces apart while they live.
func (ns *NS) ID() uint64 { return ns.ino }

// String returns the namespace as the kernel names it, "net:[ID]".
func (ns *NS) String() string { return fmt.Sprintf("net:[%d]", ns.ino) }

// Close releases the namespace and its netlink handle. It is idempotent.
func (ns *NS) Close() error {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	if ns.fd < 0 {
		return nil
	}
	if ns.handle != nil {
		ns.handle.Close()
		ns.handle = nil
	}
	err := unix.Close(ns.fd)
	ns.fd = -1
	if err != nil {
		return fmt.Errorf("netns: close %s: %w", ns, err)
	}
	return nil
}

// Enter moves the calling thread into the namespace. It is meant for
// kit.SideConfig.ThreadInit: the caller must have locked the goroutine to
// its thread (runtime.LockOSThread) and must never unlock it, so that the
// thread exits with the goroutine instead of returning to the runtime's
// pool inside the namespace. Enter refuses to move the main thread.
func (ns *NS) Enter() error {
	if unix.Gettid() == unix.Getpid() {
		return fmt.Errorf("netns: enter %s: refusing to move the main thread, which the runtime never retires (run this on a locked goroutine other than main)", ns)
	}
	ns.mu.Lock()
	defer ns.mu.Unlock()
	if ns.fd < 0 {
		return ErrClosed
	}
	if err := unix.Setns(ns.fd, unix.CLONE_NEWNET); err != nil {
		return fmt.Errorf("netns: enter %s: setns: %w", ns, err)
	}
	return nil
}

// Do runs fn on a fresh OS thread inside the namespace and returns its
// error. Sockets fn opens live in the namespace and stay usable from any
// thread afterwards. Goroutines fn starts run in the caller's namespace,
// not in this one. The thread is discarded when fn returns, and the
// caller's thread is never switched. A panic in fn is raised again in the
// caller (with fn's stack in the message); runtime.Goexit in fn (t.FailNow)
// ends the caller too.
func (ns *NS) Do(fn func() error) error {
	type outcome struct {
		err      error
		returned bool
		panicked bool
		value    any
		stack    []byte
	}
	ch := make(chan outcome, 1)
	go func() {
		// Never unlocked: after Enter this thread is in the namespace,
		// so it must exit with this goroutine.
		runtime.LockOSThread()
		var o outcome
		defer func() {
			if !o.returned {
				if r := recover(); r != nil {
					o = outcome{panicked: true, value: r, stack: debug.Stack()}
				}
			}
			ch <- o
		}()
		err := ns.Enter()
		if err == nil {
			err = ns.checkThread()
		}
		if err != nil {
			o = outcome{err: err, returned: true}
			return
		}
		err = fn()
		o = outcome{err: err, returned: true}
	}()
	o := <-ch
	switch {
	case o.panicked:
		panic(fmt.Sprintf("%v\n\n[netns: panic in %s.Do; its goroutine's stack:]\n%s", o.value, ns, o.stack))
	case !o.returned:
		runtime.Goexit()
	}
	return o.err
}

// checkThread makes sure the calling thread is inside the namespace, so
// that nothing meant for the namespace reaches the host.
func (ns *NS) checkThread() error {
	var st unix.Stat_t
	if err := unix.Stat("/proc/thread-self/ns/net", &st); err != nil {
		return fmt.Errorf("netns: check the thread's namespace: %w", err)
	}
	if st.Ino != ns.ino {
		return fmt.Errorf("netns: the thread is in net:[%d], not in %s", st.Ino, ns)
	}
	return nil
}

// Handle returns a netlink handle whose sockets live inside the
// namespace, for configuration the package does not wrap. It is shared:
// do not close it; Close closes it.
func (ns *NS) Handle() (*netlink.Handle, error) {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	if ns.fd < 0 {
		return nil, ErrClosed
	}
	return ns.handle, nil
}
