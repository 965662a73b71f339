package poller

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
)

// testEvent is an event as the tests compare it.
type testEvent struct {
	Token  int32
	Events uint32
}

func testEvents(evs []unix.EpollEvent) []testEvent {
	var out []testEvent
	for _, ev := range evs {
		out = append(out, testEvent{ev.Fd, ev.Events})
	}
	return out
}

// testPoller returns a Poller closed when the test ends.
func testPoller(t *testing.T, maxEvents int, edge bool) *Poller {
	t.Helper()
	p, err := New(maxEvents, edge)
	if err != nil {
		t.Fatalf("New(%d, %v): %v", maxEvents, edge, err)
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return p
}

// testSocketpair returns a connected non-blocking Unix stream pair
// closed when the test ends.
func testSocketpair(t *testing.T) (a, b int) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("socketpair: %v", err)
	}
	t.Cleanup(func() {
		unix.Close(fds[0])
		unix.Close(fds[1])
	})
	return fds[0], fds[1]
}

// testEventfd returns a non-blocking eventfd closed when the test ends.
func testEventfd(t *testing.T) int {
	t.Helper()
	fd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		t.Fatalf("eventfd: %v", err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return fd
}

func testWrite(t *testing.T, fd int, b []byte) {
	t.Helper()
	if n, err := unix.Write(fd, b); err != nil || n != len(b) {
		t.Fatalf("write(%d, %d bytes) = %d, %v", fd, len(b), n, err)
	}
}

func testSignal(t *testing.T, efd int) {
	t.Helper()
	testWrite(t, efd, []byte{1, 0, 0, 0, 0, 0, 0, 0})
}

// testWait waits (bounded: the fd is expected ready, or not at all) and
// returns the events.
func testWait(t *testing.T, p *Poller, timeoutMS int) []testEvent {
	t.Helper()
	evs, err := p.Wait(time.Duration(timeoutMS) * time.Millisecond)
	if err != nil {
		t.Fatalf("Wait: %v", err)
	}
	return testEvents(evs)
}

func TestNewRejectsMaxEvents(t *testing.T) {
	for _, n := range []int{0, -1} {
		for _, edge := range []bool{false, true} {
			p, err := New(n, edge)
			if err == nil {
				p.Close()
				t.Fatalf("New(%d, %v) = nil error, want one", n, edge)
			}
			if p != nil {
				t.Errorf("New(%d, %v) returned a Poller with its error", n, edge)
			}
			if !strings.Contains(err.Error(), "maxevents") {
				t.Errorf("New(%d, %v) error %q does not name maxevents", n, edge, err)
			}
		}
	}
}

func TestAddWaitReturnsToken(t *testing.T) {
	tests := []struct {
		name  string
		token int32
	}{{"zero", 0}, {"positive", 7}, {"negative", -1}, {"largest", 1<<31 - 1}}
	for _, tt := range tests {
		for _, edge := range []bool{false, true} {
			name := tt.name + "/level"
			if edge {
				name = tt.name + "/edge"
			}
			t.Run(name, func(t *testing.T) {
				p := testPoller(t, 8, edge)
				a, b := testSocketpair(t)
				if err := p.Add(a, In, tt.token); err != nil {
					t.Fatalf("Add: %v", err)
				}
				testWrite(t, b, []byte("x"))
				got := testWait(t, p, 1000)
				if diff := cmp.Diff([]testEvent{{tt.token, In}}, got); diff != "" {
					t.Errorf("Wait mismatch (-want +got):\n%s", diff)
				}
			})
		}
	}
}

func TestWaitEventfd(t *testing.T) {
	p := testPoller(t, 8, false)
	efd := testEventfd(t)
	if err := p.Add(efd, In, 42); err != nil {
		t.Fatalf("Add: %v", err)
	}
	testSignal(t, efd)
	// A negative timeout waits forever; the eventfd is ready already.
	evs, err := p.Wait(-1)
	if err != nil {
		t.Fatalf("Wait(-1): %v", err)
	}
	if diff := cmp.Diff([]testEvent{{42, In}}, testEvents(evs)); diff != "" {
		t.Errorf("Wait(-1) mismatch (-want +got):\n%s", diff)
	}
}

func TestZeroTimeoutReturnsNoEvents(t *testing.T) {
	tests := []struct {
		name     string
		register func(t *testing.T, p *Poller)
	}{
		{"empty set", func(t *testing.T, p *Poller) {}},
		{"idle socket", func(t *testing.T, p *Poller) {
			a, _ := testSocketpair(t)
			if err := p.Add(a, In|RdHup, 1); err != nil {
				t.Fatalf("Add: %v", err)
			}
		}},
		{"idle eventfd", func(t *testing.T, p *Poller) {
			if err := p.Add(testEventfd(t), In, 2); err != nil {
				t.Fatalf("Add: %v", err)
			}
		}},
	}
	for _, tt := range tests {
		for _, edge := range []bool{false, true} {
			name := tt.name + "/level"
			if edge {
				name = tt.name + "/edge"
			}
			t.Run(name, func(t *testing.T) {
				p := testPoller(t, 8, edge)
				tt.register(t, p)
				for _, ms := range []int{0, 1} {
					if got := testWait(t, p, ms); len(got) != 0 {
						t.Errorf("Wait(%dms) on nothing ready = %v, want no events", ms, got)
					}
				}
			})
		}
	}
}

// TestLevelVersusEdge: level-triggered, unread data is reported again and
// again; edge-triggered, once per arrival.
func TestLevelVersusEdge(t *testing.T) {
	tests := []struct {
		name       string
		edge       bool
		addEdge    bool        // register with AddEdge rather than Add
		wantSecond []testEvent // the second Wait, without reading
	}{
		{"level", false, false, []testEvent{{3, In}}},
		{"edge poller", true, false, nil},
		{"AddEdge on a level poller", false, true, nil},
		{"AddEdge on an edge poller", true, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := testPoller(t, 8, tt.edge)
			a, b := testSocketpair(t)
			add := p.Add
			if tt.addEdge {
				add = p.AddEdge
			}
			if err := add(a, In, 3); err != nil {
				t.Fatalf("Add: %v", err)
			}
			testWrite(t, b, []byte("hello"))
			if diff := cmp.Diff([]testEvent{{3, In}}, testWait(t, p, 1000)); diff != "" {
				t.Errorf("first Wait mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantSecond, testWait(t, p, 0)); diff != "" {
				t.Errorf("second Wait, data unread, mismatch (-want +got):\n%s", diff)
			}
			// New data is a new edge: both modes report it.
			testWrite(t, b, []byte("again"))
			if diff := cmp.Diff([]testEvent{{3, In}}, testWait(t, p, 1000)); diff != "" {
				t.Errorf("Wait after more data mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestEdgeWakeupOnce is the kit's use of AddEdge: a wake-up eventfd that
// is never read wakes a level-triggered poller once.
func TestEdgeWakeupOnce(t *testing.T) {
	p := testPoller(t, 8, false)
	efd := testEventfd(t)
	if err := p.AddEdge(efd, In, 9); err != nil {
		t.Fatalf("AddEdge: %v", err)
	}
	testSignal(t, efd)
	if diff := cmp.Diff([]testEvent{{9, In}}, testWait(t, p, 1000)); diff != "" {
		t.Errorf("first Wait mismatch (-want +got):\n%s", diff)
	}
	for i := 0; i < 3; i++ {
		if got := testWait(t, p, 0); len(got) != 0 {
			t.Fatalf("Wait %d after the wake-up = %v, want nothing", i+2, got)
		}
	}
}

func TestMod(t *testing.T) {
	tests := []struct {
		name string
		edge bool
		mod  func(p *Poller) func(fd int, events uint32, token int32) error
	}{
		{"Mod level", false, func(p *Poller) func(int, uint32, int32) error { return p.Mod }},
		{"Mod edge", true, func(p *Poller) func(int, uint32, int32) error { return p.Mod }},
		{"ModEdge on a level poller", false, func(p *Poller) func(int, uint32, int32) error { return p.ModEdge }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := testPoller(t, 8, tt.edge)
			a, _ := testSocketpair(t)
			if err := p.Add(a, In, 1); err != nil {
				t.Fatalf("Add: %v", err)
			}
			// Nothing to read: no events; the socket is writable, but no
			// one asked.
			if got := testWait(t, p, 0); len(got) != 0 {
				t.Fatalf("Wait before Mod = %v, want nothing", got)
			}
			mod := tt.mod(p)
			if err := mod(a, In|Out, 2); err != nil {
				t.Fatalf("Mod: %v", err)
			}
			if diff := cmp.Diff([]testEvent{{2, Out}}, testWait(t, p, 1000)); diff != "" {
				t.Errorf("Wait after Mod to In|Out with a new token mismatch (-want +got):\n%s", diff)
			}
			if err := mod(a, In, 3); err != nil {
				t.Fatalf("Mod back to In: %v", err)
			}
			if got := testWait(t, p, 0); len(got) != 0 {
				t.Errorf("Wait after Mod back to In = %v, want nothing", got)
			}
		})
	}
}

// TestModRearmsEdge: in edge mode, Mod re-arms a registration, so data
// left unread is reported once more (the kit relies on this when it turns
// Out on and off).
func TestModRearmsEdge(t *testing.T) {
	p := testPoller(t, 8, true)
	a, b := testSocketpair(t)
	if err := p.Add(a, In, 5); err != nil {
		t.Fatalf("Add: %v", err)
	}
	testWrite(t, b, []byte("x"))
	testWait(t, p, 1000)
	if got := testWait(t, p, 0); len(got) != 0 {
		t.Fatalf("second Wait = %v, want nothing", got)
	}
	if err := p.Mod(a, In, 6); err != nil {
		t.Fatalf("Mod: %v", err)
	}
	if diff := cmp.Diff([]testEvent{{6, In}}, testWait(t, p, 0)); diff != "" {
		t.Errorf("Wait after Mod mismatch (-want +got):\n%s", diff)
	}
	if got := testWait(t, p, 0); len(got) != 0 {
		t.Errorf("Wait after the re-armed event = %v, want nothing (still edge-triggered)", got)
	}
}

func TestDel(t *testing.T) {
	p := testPoller(t, 8, false)
	a, b := testSocketpair(t)
	efd := testEventfd(t)
	if err := p.Add(a, In, 1); err != nil {
		t.Fatalf("Add socket: %v", err)
	}
	if err := p.Add(efd, In, 2); err != nil {
		t.Fatalf("Add eventfd: %v", err)
	}
	testWrite(t, b, []byte("x"))
	testSignal(t, efd)
	if err := p.Del(a); err != nil {
		t.Fatalf("Del: %v", err)
	}
	if diff := cmp.Diff([]testEvent{{2, In}}, testWait(t, p, 1000)); diff != "" {
		t.Errorf("Wait after Del mismatch (-want +got):\n%s", diff)
	}
	// A deleted fd can be added again.
	if err := p.Add(a, In, 3); err != nil {
		t.Fatalf("Add after Del: %v", err)
	}
	if err := p.Del(efd); err != nil {
		t.Fatalf("Del eventfd: %v", err)
	}
	if diff := cmp.Diff([]testEvent{{3, In}}, testWait(t, p, 1000)); diff != "" {
		t.Errorf("Wait after re-Add mismatch (-want +got):\n%s", diff)
	}
}

func TestCtlErrors(t *testing.T) {
	p := testPoller(t, 8, false)
	a, b := testSocketpair(t)
	if err := p.Add(a, In, 1); err != nil {
		t.Fatalf("Add: %v", err)
	}
	tests := []struct {
		name string
		call func() error
		want error
	}{
		{"Add twice", func() error { return p.Add(a, In, 1) }, unix.EEXIST},
		{"AddEdge twice", func() error { return p.AddEdge(a, In, 1) }, unix.EEXIST},
		{"Mod unregistered", func() error { return p.Mod(b, In, 1) }, unix.ENOENT},
		{"ModEdge unregistered", func() error { return p.ModEdge(b, In, 1) }, unix.ENOENT},
		{"Del unregistered", func() error { return p.Del(b) }, unix.ENOENT},
		{"Add a bad fd", func() error { return p.Add(-1, In, 1) }, unix.EBADF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); !errors.Is(err, tt.want) {
				t.Errorf("%s = %v, want %v", tt.name, err, tt.want)
			}
		})
	}
}

// TestWaitMaxEvents: one Wait returns at most maxEvents events; the rest
// wait for the next call.
func TestWaitMaxEvents(t *testing.T) {
	p := testPoller(t, 2, false)
	want := map[int32]bool{}
	for i := int32(0); i < 3; i++ {
		efd := testEventfd(t)
		if err := p.Add(efd, In, 10+i); err != nil {
			t.Fatalf("Add: %v", err)
		}
		testSignal(t, efd)
		want[10+i] = true
	}
	got := testWait(t, p, 1000)
	if len(got) != 2 {
		t.Fatalf("Wait with maxevents 2 = %v, want 2 events", got)
	}
	// Level-triggered, epoll rotates its ready list: the next Wait starts
	// with the one left out.
	seen := map[int32]bool{}
	for _, ev := range append(got, testWait(t, p, 1000)...) {
		seen[ev.Token] = true
	}
	if diff := cmp.Diff(want, seen); diff != "" {
		t.Errorf("tokens over two Waits mismatch (-want +got):\n%s", diff)
	}
}

// TestWaitReportsHangup: the peer's close reaches a registration that
// asked for RdHup.
func TestWaitReportsHangup(t *testing.T) {
	p := testPoller(t, 8, false)
	a, b := testSocketpair(t)
	if err := p.Add(a, In|RdHup, 4); err != nil {
		t.Fatalf("Add: %v", err)
	}
	if err := unix.Shutdown(b, unix.SHUT_WR); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if diff := cmp.Diff([]testEvent{{4, In | RdHup}}, testWait(t, p, 1000)); diff != "" {
		t.Errorf("Wait after the peer's shutdown mismatch (-want +got):\n%s", diff)
	}
}

func TestCloseThenWaitFails(t *testing.T) {
	p, err := New(1, false)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := p.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	// The descriptor is gone; nothing else in this test binary opens one
	// meanwhile, so epoll_wait sees EBADF.
	if _, err := p.Wait(0); !errors.Is(err, unix.EBADF) {
		t.Errorf("Wait after Close = %v, want EBADF", err)
	}
}

// TestSpin: with spin set, Wait still returns ready events at once, a
// zero timeout still returns at once, and an idle set still sleeps for
// the timeout after its polls.
func TestSpin(t *testing.T) {
	for _, spin := range []int{0, 1, 16} {
		t.Run(fmt.Sprint("spin=", spin), func(t *testing.T) {
			p := testPoller(t, 8, false)
			p.SetSpin(spin)
			efd := testEventfd(t)
			if err := p.Add(efd, In, 7); err != nil {
				t.Fatalf("Add: %v", err)
			}
			if got := testWait(t, p, 0); len(got) != 0 {
				t.Errorf("Wait(0) on nothing ready = %v, want no events", got)
			}
			// Go's preemption signal may end a wait early (EINTR, no
			// events): wait again for what is left, as the kit does.
			waits := 0
			for deadline := time.Now().Add(30 * time.Millisecond); time.Now().Before(deadline); waits++ {
				if got := testWait(t, p, int(time.Until(deadline).Milliseconds())+1); len(got) != 0 {
					t.Fatalf("Wait on nothing ready = %v, want no events", got)
				}
			}
			if waits > 10 {
				t.Errorf("an idle 30 ms took %d waits, want it to sleep rather than spin", waits)
			}
			testSignal(t, efd)
			want := []testEvent{{7, In}}
			for _, ms := range []int{0, -1} {
				if diff := cmp.Diff(want, testWait(t, p, ms)); diff != "" {
					t.Errorf("Wait(%dms) with an event ready (-want +got):\n%s", ms, diff)
				}
			}
		})
	}
}
