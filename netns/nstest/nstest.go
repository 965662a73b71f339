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
	"net/netip"
	"os"
	"os/exec"
	"syscall"
	"testing"

	"github.com/vishvananda/netlink"

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
				code, rerr := runInUserNS()
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
		if err := loopbackUp(); err != nil {
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

// runInUserNS re-executes the test binary with the same arguments inside
// new user and network namespaces, as Go's own syscall tests do
// (unshare(CLONE_NEWUSER) is refused in a multithreaded process). The
// error is non-nil only if the child could not be started.
func runInUserNS() (int, error) {
	exe, err := os.Executable()
	if err != nil {
		return 0, fmt.Errorf("cannot re-execute the tests in a user namespace: %w", err)
	}
	cmd := exec.Command(exe, os.Args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), envUserNS+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:  unix.CLONE_NEWUSER | unix.CLONE_NEWNET,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}},
		Pdeathsig:   syscall.SIGKILL,
	}
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("the kernel refused a user namespace to run the tests in (unprivileged user namespaces may be disabled, e.g. by sysctl or AppArmor): %w", err)
	}
	err = cmd.Wait()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, nil
	case errors.As(err, &exit) && exit.ExitCode() >= 0:
		return exit.ExitCode(), nil
	default:
		fmt.Fprintf(os.Stderr, "nstest: the tests in the user namespace: %v\n", err)
		return 1, nil
	}
}

// loopbackUp brings lo up in the process's network namespace.
func loopbackUp() error {
	lo, err := netlink.LinkByName("lo")
	if err == nil {
		err = netlink.LinkSetUp(lo)
	}
	if err != nil {
		return fmt.Errorf("bring lo up in the user namespace's network namespace: %w", err)
	}
	return nil
}

// InUserNamespace reports whether the tests run in the user namespace
// Main made because the user was not privileged.
func InUserNamespace() bool { return os.Getenv(envUserNS) != "" }

// NS returns a new network namespace that is closed when the test ends.
// It skips the test with the reason if namespaces are unavailable to an
// unprivileged user, and fails it if they are unavailable to root.
func NS(t testing.TB) *netns.NS {
	t.Helper()
	if reason := os.Getenv(envSkip); reason != "" {
		t.Skipf("nstest: network namespaces are unavailable: %s", reason)
	}
	ns, err := netns.New()
	if err != nil {
		if os.Geteuid() != 0 && errors.Is(err, unix.EPERM) {
			t.Skipf("nstest: %v (call nstest.Main from TestMain to run in a user namespace)", err)
		}
		t.Fatalf("nstest: %v", err)
	}
	t.Cleanup(func() {
		if err := ns.Close(); err != nil {
			t.Errorf("nstest: %v", err)
		}
	})
	return ns
}

// PairConfig shapes the topology Pair builds. The zero value gives the
// defaults in the field comments.
type PairConfig struct {
	// MTU of both ends of the link; 0 keeps the kernel's (1500).
	MTU int
	// LinkName names the device in both namespaces ("veth0").
	LinkName string
	// Server4 and Client4 are the IPv4 addresses (10.99.0.1/24 and
	// 10.99.0.2/24).
	Server4, Client4 netip.Prefix
	// Server6 and Client6 are the IPv6 addresses (fd00:99::1/64 and
	// fd00:99::2/64).
	Server6, Client6 netip.Prefix
}

// defaultPrefixes are Pair's addresses: private ranges, only ever
// assigned inside the namespaces a test makes.
func defaultPrefixes() (server4, client4, server6, client6 netip.Prefix) {
	return netip.MustParsePrefix("10.99.0.1/24"), netip.MustParsePrefix("10.99.0.2/24"),
		netip.MustParsePrefix("fd00:99::1/64"), netip.MustParsePrefix("fd00:99::2/64")
}

// Topology is two hosts on one link, as Pair built it.
type Topology struct {
	// Server and Client are the two namespaces.
	Server, Client *netns.NS
	// ServerLink and ClientLink are the two ends of the veth link.
	ServerLink, ClientLink *netns.Link
	// The hosts' addresses on the link.
	ServerAddr4, ClientAddr4, ServerAddr6, ClientAddr6 netip.Addr
}

// Pair builds two namespaces, "server" and "client", joined by a veth
// link with an IPv4 and an IPv6 address at each end, and closes both when
// the test ends, whether it passes, fails or panics. It skips or fails the
// test as NS does when namespaces are unavailable.
func Pair(t testing.TB, cfg PairConfig) *Topology {
	t.Helper()
	def := func(p *netip.Prefix, d netip.Prefix) {
		if !p.IsValid() {
			*p = d
		}
	}
	s4, c4, s6, c6 := defaultPrefixes()
	def(&cfg.Server4, s4)
	def(&cfg.Client4, c4)
	def(&cfg.Server6, s6)
	def(&cfg.Client6, c6)
	server := NS(t)
	client := NS(t)
	sl, cl, err := netns.Veth(server, client, netns.VethConfig{
		NameA:  cfg.LinkName,
		NameB:  cfg.LinkName,
		AddrsA: []netip.Prefix{cfg.Server4, cfg.Server6},
		AddrsB: []netip.Prefix{cfg.Client4, cfg.Client6},
		MTU:    cfg.MTU,
	})
	if err != nil {
		t.Fatalf("nstest: pair: %v", err)
	}
	return &Topology{
		Server: server, Client: client,
		ServerLink: sl, ClientLink: cl,
		ServerAddr4: cfg.Server4.Addr(), ClientAddr4: cfg.Client4.Addr(),
		ServerAddr6: cfg.Server6.Addr(), ClientAddr6: cfg.Client6.Addr(),
	}
}
