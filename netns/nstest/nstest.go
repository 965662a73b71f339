// Package nstest gives tests ready-made network namespaces: Pair makes two
// hosts, "server" and "client", on one veth link with IPv4 and IPv6
// addresses, and closes everything with t.Cleanup, also when the test
// fails or panics.
//
// Call Main from TestMain. As root it runs the tests as they are; as an
// unprivileged user it runs them again inside a new user namespace (where
// the process is root over its own network namespaces), and if the kernel
// refuses that, Pair skips the tests that need namespaces with the reason.
// After the tests it fails the run if a thread was left inside a
// namespace, a namespace file descriptor is still open, or a veth or a
// named namespace appeared in the host.
//
//	func TestMain(m *testing.M) { nstest.Main(m) }
//
//	func TestEcho(t *testing.T) {
//		topo := nstest.Pair(t, nstest.PairConfig{})
//		// topo.Server and topo.Client are *netns.NS; the server
//		// listens on topo.ServerAddr4 inside topo.Server.Do, or a
//		// kit side runs there with ThreadInit: topo.Server.Enter.
//	}
package nstest

import (
	"errors"
	"fmt"
	"os"
	"testing"

	"github.com/hookperf/hookperf/netns"
	"golang.org/x/sys/unix"
)

const (
	// envUserNS marks the test binary re-executed inside a user
	// namespace.
	envUserNS = "HOOKPERF_NSTEST_USERNS"
	// envSkip carries the reason namespaces are unavailable to Pair.
	envSkip = "HOOKPERF_NSTEST_SKIP"
)

// Main runs the tests (see Run) and exits with their status.
func Main(m *testing.M) { os.Exit(Run(m)) }

// Run is Main without the exit, for a TestMain that checks more
// afterwards. If namespaces cannot be made here, it re-executes the test
// binary inside a new user and network namespace, with the current user
// mapped to root, and returns that run's status; if the kernel refuses
// the user namespace, it runs the tests here and Pair skips with the
// reason. After the tests, it checks that no thread is left inside
// another network namespace, no namespace file descriptor is open, and no
// named namespace or veth device appeared in the host; a leak fails the
// run.
func Run(m *testing.M) int {
	if os.Getenv(envSkip) == "" {
		if err := netns.Available(); err != nil {
			if os.Getenv(envUserNS) != "" {
				os.Setenv(envSkip, fmt.Sprintf("%v (inside a user namespace)", err))
			} else {
				code, rerr := netns.RerunInUserNS(envUserNS + "=1")
				if rerr == nil {
					return code
				}
				os.Setenv(envSkip, fmt.Sprintf("%v; and %v", err, rerr))
			}
		}
	}
	if InUserNamespace() && os.Getenv(envSkip) == "" {
		// The user namespace came with a network namespace of its own,
		// the tests' "host": give it a working loopback, as a host has.
		if err := netns.LoopbackUp(); err != nil {
			fmt.Fprintf(os.Stderr, "nstest: %v\n", err)
			return 1
		}
	}
	before, err := takeSnapshot()
	if err != nil {
		fmt.Fprintf(os.Stderr, "nstest: %v\n", err)
		return 1
	}
	code := m.Run()
	if err := checkLeaks(before); err != nil {
		fmt.Fprintf(os.Stderr, "nstest: leaked after the tests: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// InUserNamespace reports whether the tests run in the user namespace
// Main made because the user was not privileged.
func InUserNamespace() bool { return os.Getenv(envUserNS) != "" }

// NS returns a new network namespace that is closed when the test ends.
// It skips the test with the reason if namespaces are unavailable to an
// unprivileged user, and fails it if they are unavailable to root.
func NS(t testing.TB) *netns.NS {
	t.Helper()
	return made(t, netns.New)
}

// made makes what a test asked for with mk and closes it when the test
// ends; it skips the test where namespaces are unavailable to an
// unprivileged user, and fails it where they are unavailable to root.
func made[T interface{ Close() error }](t testing.TB, mk func() (T, error)) T {
	t.Helper()
	if reason := os.Getenv(envSkip); reason != "" {
		t.Skipf("nstest: network namespaces are unavailable: %s", reason)
	}
	v, err := mk()
	if err != nil {
		if os.Geteuid() != 0 && errors.Is(err, unix.EPERM) {
			t.Skipf("nstest: %v (call nstest.Main from TestMain to run in a user namespace)", err)
		}
		t.Fatalf("nstest: %v", err)
	}
	t.Cleanup(func() {
		if err := v.Close(); err != nil {
			t.Errorf("nstest: %v", err)
		}
	})
	return v
}

// PairConfig shapes the topology Pair builds (netns.PairConfig).
type PairConfig = netns.PairConfig

// Topology is two hosts on one link, as Pair built it (a netns.Pair).
type Topology = netns.Pair

// Pair builds two namespaces, "server" and "client", joined by a veth
// link with an IPv4 and an IPv6 address at each end (netns.NewPair), and
// closes both when the test ends, whether it passes, fails or panics. It
// skips or fails the test as NS does when namespaces are unavailable.
func Pair(t testing.TB, cfg PairConfig) *Topology {
	t.Helper()
	return made(t, func() (*Topology, error) { return netns.NewPair(cfg) })
}
