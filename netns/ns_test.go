package netns_test

import (
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	vnetns "github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
	"gotest.tools/v3/assert"

	"github.com/hookperf/hookperf/netns"
	"github.com/hookperf/hookperf/netns/nstest"
)

// threadNS returns the inode of the calling thread's network namespace.
func threadNS(t testing.TB) uint64 {
	t.Helper()
	st, err := os.Stat("/proc/thread-self/ns/net")
	assert.NilError(t, err)
	return st.Sys().(*syscall.Stat_t).Ino
}

// inNS is the first line of every test closure that sends traffic: if Do
// were broken, the traffic would leave the host instead of staying in
// the test's namespaces.
func inNS(ns *netns.NS) error {
	ino, err := threadNSErr()
	if err != nil {
		return err
	}
	if ino != ns.ID() {
		return fmt.Errorf("test guard: the thread is in net:[%d], not in %s: refusing to send", ino, ns)
	}
	return nil
}

func threadNSErr() (uint64, error) {
	st, err := os.Stat("/proc/thread-self/ns/net")
	if err != nil {
		return 0, err
	}
	return st.Sys().(*syscall.Stat_t).Ino, nil
}

func TestNewCloseLeavesNothing(t *testing.T) {
	// Skips here if namespaces are unavailable; closed again at once so
	// that it does not count below.
	assert.NilError(t, nstest.NS(t).Close())
	for _, n := range []int{1, 3} {
		t.Run(fmt.Sprintf("%d namespaces", n), func(t *testing.T) {
			fds0, err := countFDs()
			assert.NilError(t, err)
			var all []*netns.NS
			ids := map[uint64]bool{}
			for range n {
				ns, err := netns.New()
				assert.NilError(t, err)
				t.Cleanup(func() { ns.Close() })
				all = append(all, ns)
				ids[ns.ID()] = true
			}
			assert.Equal(t, len(ids), n, "namespaces must be distinct")
			_, held, err := nstest.NamespaceHolders()
			assert.NilError(t, err)
			assert.Equal(t, len(held), n, "one fd per open namespace: %v", held)
			for _, ns := range all {
				assert.NilError(t, ns.Close())
				assert.NilError(t, ns.Close(), "Close must be idempotent")
			}
			assert.NilError(t, settle(func() error {
				threads, held, err := nstest.NamespaceHolders()
				if err != nil {
					return err
				}
				if len(threads)+len(held) > 0 {
					return fmt.Errorf("still held: threads %v, fds %v", threads, held)
				}
				fds, err := countFDs()
				if err != nil {
					return err
				}
				if fds != fds0 {
					return fmt.Errorf("%d fds before, %d after", fds0, fds)
				}
				return nil
			}))
		})
	}
}

func TestClosedNamespace(t *testing.T) {
	ns := nstest.NS(t)
	assert.NilError(t, ns.Close())
	_, err := ns.Handle()
	assert.ErrorIs(t, err, netns.ErrClosed)
	assert.ErrorIs(t, ns.Do(func() error { return nil }), netns.ErrClosed)
	assert.ErrorIs(t, ns.SetSysctl("net.core.somaxconn", "100"), netns.ErrClosed)
	other := nstest.NS(t)
	_, _, err = netns.Veth(other, ns, netns.VethConfig{})
	assert.ErrorIs(t, err, netns.ErrClosed)
}

// TestNewHasOnlyLoopbackUp checks a new namespace from inside (only lo,
// and up) and from its netlink handle.
func TestNewHasOnlyLoopbackUp(t *testing.T) {
	ns := nstest.NS(t)
	var names []string
	var loUp bool
	err := ns.Do(func() error {
		ifs, err := net.Interfaces()
		for _, i := range ifs {
			names = append(names, i.Name)
			if i.Name == "lo" {
				loUp = i.Flags&net.FlagUp != 0
			}
		}
		return err
	})
	assert.NilError(t, err)
	if diff := cmp.Diff([]string{"lo"}, names); diff != "" {
		t.Fatalf("links inside the namespace (-want +got):\n%s", diff)
	}
	assert.Assert(t, loUp, "lo must be up")
	h, err := ns.Handle()
	assert.NilError(t, err)
	links, err := h.LinkList()
	assert.NilError(t, err)
	assert.Equal(t, len(links), 1)
	assert.Equal(t, links[0].Attrs().Name, "lo")
}

// TestDoRunsInNamespace compares the thread's namespace inside Do with the
// namespace's, and the calling thread's before and after.
func TestDoRunsInNamespace(t *testing.T) {
	a, b := nstest.NS(t), nstest.NS(t)
	// Pin the test goroutine so that "the calling thread" is one thread.
	// Unlocking later is safe: this thread never leaves its namespace.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	callerTid := unix.Gettid()
	before := threadNS(t)
	for _, tc := range []struct {
		name string
		ns   *netns.NS
	}{{"a", a}, {"b", b}, {"a again", a}} {
		t.Run(tc.name, func(t *testing.T) {
			var inside uint64
			var tid int
			var vid string
			err := tc.ns.Do(func() error {
				tid = unix.Gettid()
				h, err := vnetns.Get()
				if err != nil {
					return err
				}
				defer h.Close()
				vid = h.UniqueId()
				inside, err = threadNSErr()
				return err
			})
			assert.NilError(t, err)
			assert.Equal(t, inside, tc.ns.ID(), "thread inside Do is in the namespace")
			assert.Assert(t, strings.HasSuffix(vid, fmt.Sprintf(":%d)", tc.ns.ID())), "vishvananda/netns sees %s", vid)
			assert.Assert(t, tid != callerTid, "Do must not run fn on the caller's thread")
			// The thread that ran fn is discarded.
			assert.NilError(t, settle(func() error {
				if _, err := os.Stat(fmt.Sprintf("/proc/self/task/%d", tid)); err == nil {
					return fmt.Errorf("thread %d that entered %s still exists", tid, tc.ns)
				}
				return nil
			}))
		})
	}
	assert.Equal(t, unix.Gettid(), callerTid)
	assert.Equal(t, threadNS(t), before, "the calling thread's namespace changed")
	assert.Assert(t, before != a.ID() && before != b.ID())
}

func TestDoReturnsError(t *testing.T) {
	ns := nstest.NS(t)
	want := errors.New("from fn")
	assert.Equal(t, ns.Do(func() error { return want }), want)
}

func TestDoPanicReachesCaller(t *testing.T) {
	ns := nstest.NS(t)
	got := func() (r any) {
		defer func() { r = recover() }()
		ns.Do(func() error { panic("boom in namespace") })
		return nil
	}()
	s, ok := got.(string)
	assert.Assert(t, ok, "recovered %T %v", got, got)
	assert.Assert(t, strings.HasPrefix(s, "boom in namespace"), s)
	assert.Assert(t, strings.Contains(s, "TestDoPanicReachesCaller"), "the panic carries fn's stack: %s", s)
}

func TestDoGoexitEndsCaller(t *testing.T) {
	ns := nstest.NS(t)
	after := make(chan bool, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		ns.Do(func() error { runtime.Goexit(); return nil })
		after <- true
	}()
	<-done
	assert.Equal(t, len(after), 0, "the caller went on after fn called Goexit")
}

// TestEnterForThreadInit does what kit.SideConfig.ThreadInit does: a
// locked goroutine enters the namespace and never unlocks.
func TestEnterForThreadInit(t *testing.T) {
	ns := nstest.NS(t)
	type res struct {
		ino uint64
		err error
	}
	ch := make(chan res, 1)
	go func() {
		runtime.LockOSThread() // never unlocked
		if err := ns.Enter(); err != nil {
			ch <- res{err: err}
			return
		}
		ino, err := threadNSErr()
		ch <- res{ino, err}
	}()
	r := <-ch
	assert.NilError(t, r.err)
	assert.Equal(t, r.ino, ns.ID())
}

// TestSocketStaysInNamespace listens on the same loopback port in the
// host and inside a namespace: each listener gets only its own
// namespace's connections, and the namespace's socket works from any
// thread after Do returns.
func TestSocketStaysInNamespace(t *testing.T) {
	ns := nstest.NS(t)
	hostLn, err := net.Listen("tcp4", "127.0.0.1:0")
	assert.NilError(t, err)
	defer hostLn.Close()
	addr := hostLn.Addr().String()
	var nsLn net.Listener
	assert.NilError(t, ns.Do(func() (err error) {
		nsLn, err = net.Listen("tcp4", addr) // same port: another namespace
		return err
	}))
	defer nsLn.Close()

	got := make(chan string)
	for _, l := range []struct {
		ln   net.Listener
		name string
	}{{hostLn, "host"}, {nsLn, "namespace"}} {
		go func() {
			for {
				c, err := l.ln.Accept()
				if err != nil {
					return // closed at the end of the test
				}
				c.Close()
				got <- l.name
			}
		}()
	}
	for _, tc := range []struct {
		name   string
		dialIn *netns.NS
		want   string
	}{
		{"from the host", nil, "host"},
		{"from the namespace", ns, "namespace"},
		{"from the host again", nil, "host"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dial := func() error {
				c, err := net.Dial("tcp4", addr)
				if err == nil {
					c.Close()
				}
				return err
			}
			if tc.dialIn != nil {
				assert.NilError(t, tc.dialIn.Do(dial))
			} else {
				assert.NilError(t, dial())
			}
			assert.Equal(t, <-got, tc.want)
		})
	}
}

func TestAvailable(t *testing.T) {
	nstest.NS(t) // skips where namespaces are unavailable
	assert.NilError(t, netns.Available())
}
