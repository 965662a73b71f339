package netns_test

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/hookperf/hookperf/netns/nstest"
)

// TestMain runs the tests (in a user namespace when not root) and fails
// the run if goroutines or sockets (netlink ones included) leaked, on top
// of nstest's checks for threads and file descriptors holding namespaces.
func TestMain(m *testing.M) {
	socks0, err := sockets()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	g0 := runtime.NumGoroutine()
	code := nstest.Run(m)
	if code == 0 {
		if err := settle(func() error {
			if g := runtime.NumGoroutine(); g > g0 {
				return fmt.Errorf("%d goroutines before the tests, %d after", g0, g)
			}
			socks, err := sockets()
			if err != nil {
				return err
			}
			if len(socks) > len(socks0) {
				return fmt.Errorf("sockets open before the tests: %v, after: %v", socks0, socks)
			}
			return nil
		}); err != nil {
			fmt.Fprintln(os.Stderr, "leak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// sockets lists the open socket file descriptors ("fd=socket:[ino]").
// Other descriptors come and go with the runtime (its netpoller opens
// lazily), so the run-wide check counts sockets, as Go's net tests do.
func sockets() ([]string, error) {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return nil, err
	}
	var socks []string
	for _, e := range ents {
		target, err := os.Readlink("/proc/self/fd/" + e.Name())
		if err == nil && strings.HasPrefix(target, "socket:") {
			socks = append(socks, e.Name()+"="+target)
		}
	}
	return socks, nil
}

func countFDs() (int, error) {
	ents, err := os.ReadDir("/proc/self/fd")
	return len(ents), err
}

// settle retries check until it passes or a generous deadline passes:
// threads and goroutines take a moment to go.
func settle(check func() error) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := check()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}
