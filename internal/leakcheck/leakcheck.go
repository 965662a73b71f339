// Package leakcheck lets a package's TestMain fail its tests when they
// leave file descriptors or goroutines behind: every run must close what
// it opened, whether it passed, failed or was stopped.
//
//	func TestMain(m *testing.M) { os.Exit(leakcheck.Main(m)) }
package leakcheck

import (
	"flag"
	"fmt"
	"net"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Main runs the tests and returns their exit code, 1 if they passed but
// left descriptors or goroutines open.
func Main(m *testing.M) int {
	// The runtime's network poller opens its descriptors on first use and
	// keeps them: start it before counting.
	if ln, err := net.Listen("tcp", "127.0.0.1:0"); err == nil {
		ln.Close()
	}
	fds, gs := openFDs(), runtime.NumGoroutine()
	code := m.Run()
	// The fuzzing engine keeps goroutines of its own: check only test runs.
	if f := flag.Lookup("test.fuzz"); code == 0 && (f == nil || f.Value.String() == "") {
		if err := settled(fds, gs); err != nil {
			fmt.Fprintln(os.Stderr, "leak:", err)
			code = 1
		}
	}
	return code
}

// settled waits a little for closing goroutines, then compares.
func settled(fds, gs int) error {
	var err error
	for i := 0; i < 50; i++ {
		nf, ng := openFDs(), runtime.NumGoroutine()
		if nf <= fds && ng <= gs {
			return nil
		}
		err = fmt.Errorf("%d file descriptors open (started with %d), %d goroutines (started with %d)\n%s", nf, fds, ng, gs, goroutines())
		time.Sleep(100 * time.Millisecond)
	}
	return err
}

func openFDs() int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return 0
	}
	return len(ents)
}

func goroutines() string {
	buf := make([]byte, 1<<16)
	s := string(buf[:runtime.Stack(buf, true)])
	if i := strings.Index(s, "\n\n"); i >= 0 && len(s) > 4000 {
		return s[:4000]
	}
	return s
}
