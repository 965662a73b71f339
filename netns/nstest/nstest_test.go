package nstest_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/vishvananda/netlink"
	"gotest.tools/v3/assert"

	"github.com/hookperf/hookperf/netns"
	"github.com/hookperf/hookperf/netns/nstest"
)

func TestMain(m *testing.M) { nstest.Main(m) }

// envChild tells a re-executed test binary which child part of a test to
// play (the tests below run themselves as subprocesses).
const envChild = "NSTEST_TEST_CHILD"

func TestPair(t *testing.T) {
	for _, tc := range []struct {
		name     string
		cfg      nstest.PairConfig
		link     string
		mtu      int
		s4, c4   string
		s6, c6   string
		prefixes []string
	}{
		{"defaults", nstest.PairConfig{}, "veth0", 1500,
			"10.99.0.1", "10.99.0.2", "fd00:99::1", "fd00:99::2",
			[]string{"10.99.0.1/24", "fd00:99::1/64"}},
		{"MTU and name", nstest.PairConfig{MTU: 9000, LinkName: "eth1"}, "eth1", 9000,
			"10.99.0.1", "10.99.0.2", "fd00:99::1", "fd00:99::2",
			[]string{"10.99.0.1/24", "fd00:99::1/64"}},
		{"addresses", nstest.PairConfig{
			Server4: netip.MustParsePrefix("10.99.7.10/28"), Client4: netip.MustParsePrefix("10.99.7.11/28"),
			Server6: netip.MustParsePrefix("fd00:99:7::10/120"), Client6: netip.MustParsePrefix("fd00:99:7::11/120"),
		}, "veth0", 1500,
			"10.99.7.10", "10.99.7.11", "fd00:99:7::10", "fd00:99:7::11",
			[]string{"10.99.7.10/28", "fd00:99:7::10/120"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			topo := nstest.Pair(t, tc.cfg)
			want := []string{tc.s4, tc.c4, tc.s6, tc.c6}
			got := []string{topo.ServerAddr4.String(), topo.ClientAddr4.String(), topo.ServerAddr6.String(), topo.ClientAddr6.String()}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("addresses (-want +got):\n%s", diff)
			}
			assert.Assert(t, topo.Server != topo.Client && topo.Server.ID() != topo.Client.ID())
			assert.Equal(t, topo.ServerLink.NS, topo.Server)
			assert.Equal(t, topo.ClientLink.NS, topo.Client)
			var prefixes []string
			for _, p := range topo.ServerLink.Addrs {
				prefixes = append(prefixes, p.String())
			}
			if diff := cmp.Diff(tc.prefixes, prefixes, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("server link addresses (-want +got):\n%s", diff)
			}
			for _, l := range []*netns.Link{topo.ServerLink, topo.ClientLink} {
				assert.Equal(t, l.Name, tc.link)
				mtu, err := l.MTU()
				assert.NilError(t, err)
				assert.Equal(t, mtu, tc.mtu)
			}
			for _, addr := range []netip.Addr{topo.ServerAddr4, topo.ServerAddr6} {
				assert.Equal(t, echo(t, topo, addr), "echo:hello")
			}
		})
	}
}

// echo connects from the client namespace to a TCP server in the server
// namespace at addr and returns the reply to "hello".
func echo(t *testing.T, topo *nstest.Topology, addr netip.Addr) string {
	t.Helper()
	var ln net.Listener
	assert.NilError(t, topo.Server.Do(func() (err error) {
		if err := inNS(topo.Server); err != nil {
			return err
		}
		ln, err = net.Listen("tcp", netip.AddrPortFrom(addr, 0).String())
		return err
	}))
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		buf := make([]byte, 16)
		n, _ := c.Read(buf)
		c.Write(append([]byte("echo:"), buf[:n]...))
	}()
	var c net.Conn
	assert.NilError(t, topo.Client.Do(func() (err error) {
		if err := inNS(topo.Client); err != nil {
			return err
		}
		c, err = net.DialTimeout("tcp", ln.Addr().String(), 10*time.Second)
		return err
	}))
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	_, err := c.Write([]byte("hello"))
	assert.NilError(t, err)
	b, err := io.ReadAll(c)
	assert.NilError(t, err)
	return string(b)
}

// inNS guards test traffic: if Do were broken, it would leave the host
// instead of staying in the test's namespaces.
func inNS(ns *netns.NS) error {
	var st syscall.Stat_t
	if err := syscall.Stat("/proc/thread-self/ns/net", &st); err != nil {
		return err
	}
	if st.Ino != ns.ID() {
		return fmt.Errorf("test guard: the thread is in net:[%d], not in %s: refusing to send", st.Ino, ns)
	}
	return nil
}

// runChild runs this test binary again for one test, playing the child
// part named mode, and returns its exit code and output.
func runChild(t *testing.T, test, mode string, setup func(*exec.Cmd)) (int, string) {
	t.Helper()
	exe, err := os.Executable()
	assert.NilError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, "-test.run=^"+test+"$", "-test.v", "-test.count=1")
	// A race-enabled binary sleeps a second at exit unless told not to.
	gorace := strings.TrimSpace(os.Getenv("GORACE") + " atexit_sleep_ms=0")
	cmd.Env = append(os.Environ(), envChild+"="+mode, "GORACE="+gorace)
	if setup != nil {
		setup(cmd)
	}
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, string(out)
	case errors.As(err, &exit):
		return exit.ExitCode(), string(out)
	}
	t.Fatalf("run %s: %v\n%s", cmd, err, out)
	return 0, ""
}

type hostState struct{ named, veths []string }

func host(t *testing.T) hostState {
	t.Helper()
	var s hostState
	ents, err := os.ReadDir("/run/netns")
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	for _, e := range ents {
		s.named = append(s.named, e.Name())
	}
	links, err := netlink.LinkList()
	assert.NilError(t, err)
	for _, l := range links {
		if l.Type() == "veth" {
			s.veths = append(s.veths, l.Attrs().Name)
		}
	}
	return s
}

// TestPairCleanup ends a Pair-using subtest by passing, failing and
// panicking, each in a subprocess, and checks that Pair's cleanup ran
// (no namespace held any more when the cleanup registered before Pair
// runs) and that nothing is left in the host.
func TestPairCleanup(t *testing.T) {
	if mode := os.Getenv(envChild); mode != "" {
		pairCleanupChild(t, mode)
		return
	}
	for _, tc := range []struct {
		mode     string
		wantCode int
		wantOut  []string
	}{
		{"pass", 0, []string{"--- PASS: TestPairCleanup/sub"}},
		{"fail", 1, []string{"failing on purpose", "--- FAIL: TestPairCleanup/sub"}},
		{"panic", 2, []string{"panic: panicking on purpose"}},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			before := host(t)
			code, out := runChild(t, "TestPairCleanup", tc.mode, nil)
			assert.Equal(t, code, tc.wantCode, out)
			for _, w := range append(tc.wantOut, "PAIR-MADE", "CLEANUP namespace fds=0 threads=0") {
				assert.Assert(t, strings.Contains(out, w), "missing %q in:\n%s", w, out)
			}
			if diff := cmp.Diff(before, host(t), cmp.AllowUnexported(hostState{})); diff != "" {
				t.Errorf("host after the child (-before +after):\n%s", diff)
			}
		})
	}
}

func pairCleanupChild(t *testing.T, mode string) {
	t.Run("sub", func(t *testing.T) {
		// Registered first, so it runs after Pair's cleanup.
		t.Cleanup(func() {
			var threads, fds []string
			deadline := time.Now().Add(10 * time.Second)
			for {
				var err error
				threads, fds, err = nstest.NamespaceHolders()
				if err != nil {
					fmt.Println("CLEANUP error:", err)
					return
				}
				if len(threads)+len(fds) == 0 || time.Now().After(deadline) {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			fmt.Printf("CLEANUP namespace fds=%d threads=%d\n", len(fds), len(threads))
		})
		topo := nstest.Pair(t, nstest.PairConfig{})
		if _, fds, _ := nstest.NamespaceHolders(); len(fds) == 2 {
			fmt.Printf("PAIR-MADE %s %s\n", topo.Server, topo.Client)
		}
		switch mode {
		case "fail":
			t.Fatal("failing on purpose")
		case "panic":
			panic("panicking on purpose")
		}
	})
}

// nobody is the user the unprivileged runs use.
const nobody = 65534

// exeForNobody copies the test binary where another user can run it (the
// build directory is private to root).
func exeForNobody(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	assert.NilError(t, err)
	dir, err := os.MkdirTemp("", "nstest-")
	assert.NilError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	assert.NilError(t, os.Chmod(dir, 0o755))
	data, err := os.ReadFile(exe)
	assert.NilError(t, err)
	dst := filepath.Join(dir, filepath.Base(exe))
	assert.NilError(t, os.WriteFile(dst, data, 0o755))
	return dst
}

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 || nstest.InUserNamespace() {
		t.Skip("needs real root, to run the test binary as another user")
	}
}

// TestUserNamespaceReexec runs a Pair test as an unprivileged user: Main
// must re-execute it in a user namespace, where it is root and Pair
// works.
func TestUserNamespaceReexec(t *testing.T) {
	if os.Getenv(envChild) == "userns" {
		uidMap, err := os.ReadFile("/proc/self/uid_map")
		assert.NilError(t, err)
		assert.Assert(t, nstest.InUserNamespace())
		assert.Equal(t, os.Geteuid(), 0)
		topo := nstest.Pair(t, nstest.PairConfig{})
		assert.Equal(t, echo(t, topo, topo.ServerAddr4), "echo:hello")
		assert.Equal(t, echo(t, topo, topo.ServerAddr6), "echo:hello")
		fmt.Printf("USERNS-OK uid_map=%s\n", strings.Join(strings.Fields(string(uidMap)), " "))
		return
	}
	needRoot(t)
	exe := exeForNobody(t)
	code, out := runChild(t, "TestUserNamespaceReexec", "userns", func(cmd *exec.Cmd) {
		cmd.Path = exe
		cmd.Args[0] = exe
		cmd.Dir = "/"
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	})
	assert.Equal(t, code, 0, out)
	want := fmt.Sprintf("USERNS-OK uid_map=0 %d 1", nobody)
	assert.Assert(t, strings.Contains(out, want), "missing %q in:\n%s", want, out)
	assert.Assert(t, strings.Contains(out, "--- PASS: TestUserNamespaceReexec"), out)
}

// TestUserNamespaceRefused runs a Pair test as an unprivileged user where
// the kernel refuses user namespaces (user.max_user_namespaces=0 in an
// enclosing user namespace): the test must be skipped with the reason.
func TestUserNamespaceRefused(t *testing.T) {
	if os.Getenv(envChild) == "refused" {
		nstest.Pair(t, nstest.PairConfig{})
		t.Fatal("Pair did not skip")
	}
	needRoot(t)
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skipf("setpriv (util-linux) is needed to drop to another user inside a user namespace: %v", err)
	}
	exe := exeForNobody(t)
	// In a user namespace that maps the usual ids 1:1, forbid nested user
	// namespaces, then become nobody and run the test binary.
	script := `echo 0 > /proc/sys/user/max_user_namespaces && exec "$0" --reuid=65534 --regid=65534 --clear-groups -- "$@"`
	code, out := runChild(t, "TestUserNamespaceRefused", "refused", func(cmd *exec.Cmd) {
		cmd.Args = append([]string{"sh", "-c", script, setpriv, exe}, cmd.Args[1:]...)
		cmd.Path = "/bin/sh"
		cmd.Dir = "/"
		cmd.SysProcAttr = &syscall.SysProcAttr{
			Cloneflags:                 syscall.CLONE_NEWUSER,
			UidMappings:                []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 65536}},
			GidMappings:                []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 65536}},
			GidMappingsEnableSetgroups: true,
		}
	})
	assert.Equal(t, code, 0, out)
	for _, w := range []string{"--- SKIP: TestUserNamespaceRefused", "network namespaces are unavailable", "the kernel refused a user namespace", "no space left on device"} {
		assert.Assert(t, strings.Contains(out, w), "missing %q in:\n%s", w, out)
	}
}
