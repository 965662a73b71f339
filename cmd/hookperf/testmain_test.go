package main

// The harness of the end-to-end tests: the binary built once, processes
// that are always reaped, free ports, and the parsing of key=value output.

import (
	"bytes"
	"fmt"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"gotest.tools/v3/assert"
)

// testVersion is stamped into the test binary, as a release build would be.
const testVersion = "v0.0.0-e2e"

// hookperfBin is the binary under test, built by TestMain.
var hookperfBin string

func TestMain(m *testing.M) { os.Exit(testMain(m)) }

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "hookperf-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	hookperfBin = filepath.Join(dir, "hookperf")
	args := []string{"build", "-ldflags", "-X main.version=" + testVersion, "-o", hookperfBin}
	if raceEnabled() {
		args = append(args, "-race") // the binary under test is checked too
	}
	build := exec.Command("go", append(args, ".")...)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "building hookperf: %v\n", err)
		return 1
	}
	code := m.Run()
	if left := leftProcesses(hookperfBin); code == 0 && len(left) > 0 {
		// Every test reaps what it started; a process still running now
		// was started by one of them (the server of a split --local run)
		// and outlived it.
		fmt.Fprintf(os.Stderr, "leak: hookperf processes still running: %v\n", left)
		code = 1
	}
	return code
}

// leftProcesses lists the processes running bin, after a moment for
// those that are ending.
func leftProcesses(bin string) []int {
	var pids []int
	for try := 0; try < 20; try++ {
		pids = pids[:0]
		dirs, _ := filepath.Glob("/proc/[0-9]*")
		for _, d := range dirs {
			if exe, err := os.Readlink(filepath.Join(d, "exe")); err == nil && exe == bin {
				pid, _ := strconv.Atoi(filepath.Base(d))
				pids = append(pids, pid)
			}
		}
		if len(pids) == 0 {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return pids
}

// raceEnabled reports whether this test binary was built with -race.
func raceEnabled() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}

// procTimeout bounds any one run of the binary; runs take about 1s.
const procTimeout = 30 * time.Second

// proc is a running hookperf.
type proc struct {
	t              testing.TB
	cmd            *exec.Cmd
	stdout, stderr bytes.Buffer
	started        time.Time
	done           chan struct{}
}

// result is how a hookperf run ended.
type result struct {
	code           int
	stdout, stderr string
	elapsed        time.Duration
}

func (r result) String() string {
	return fmt.Sprintf("exit status %d after %v\nstdout:\n%s\nstderr:\n%s", r.code, r.elapsed.Round(time.Millisecond), r.stdout, r.stderr)
}

// start starts the binary with args in a fresh temporary directory (so
// that files it writes, such as samples.csv, go away with the test).
func start(t testing.TB, args ...string) *proc {
	t.Helper()
	return startBin(t, hookperfBin, t.TempDir(), args...)
}

// startBin starts bin with args in dir; the process is killed at the end
// of the test if it is still running.
func startBin(t testing.TB, bin, dir string, args ...string) *proc {
	t.Helper()
	return startBinAs(t, nil, bin, dir, args...)
}

// startBinAs is startBin as the user cred names (nil: the tests' own).
func startBinAs(t testing.TB, cred *syscall.Credential, bin, dir string, args ...string) *proc {
	t.Helper()
	p := &proc{t: t, cmd: exec.Command(bin, args...), done: make(chan struct{})}
	p.cmd.Dir = dir
	if cred != nil {
		p.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	// The pure-Go resolver, which never sends a .onion name to DNS
	// (RFC 7686): TestBadInput's unresolvable host stays on this machine.
	p.cmd.Env = append(os.Environ(), "GODEBUG=netdns=go")
	p.started = time.Now()
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s %q: %v", bin, args, err)
	}
	go func() {
		_ = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// wait waits for the process to end, failing the test (after killing it)
// if it takes longer than timeout.
func (p *proc) wait(timeout time.Duration) result {
	p.t.Helper()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-p.done:
	case <-timer.C:
		_ = p.cmd.Process.Kill()
		<-p.done
		p.t.Fatalf("%q did not end within %v\nstdout:\n%s\nstderr:\n%s", p.cmd.Args, timeout, p.stdout.String(), p.stderr.String())
	}
	return result{
		code:    p.cmd.ProcessState.ExitCode(),
		stdout:  p.stdout.String(),
		stderr:  p.stderr.String(),
		elapsed: time.Since(p.started),
	}
}

// runBin runs the binary with args to its end.
func runBin(t testing.TB, args ...string) result {
	t.Helper()
	return start(t, args...).wait(procTimeout)
}

// mustSucceed runs the binary and fails the test unless it exits 0 with
// key=value output and a quiet stderr.
func mustSucceed(t testing.TB, args ...string) map[string]string {
	t.Helper()
	r := runBin(t, args...)
	assert.Equal(t, r.code, 0, "hookperf %q: %s", args, r)
	assert.Equal(t, r.stderr, "", "hookperf %q: %s", args, r)
	return parseKV(t, r.stdout)
}

// parseKV parses neper's key=value lines; every line must be one pair and
// no key may repeat.
func parseKV(t testing.TB, out string) map[string]string {
	t.Helper()
	kv := map[string]string{}
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		k, v, ok := strings.Cut(line, "=")
		if !ok || k == "" {
			t.Fatalf("line %q is not key=value in:\n%s", line, out)
		}
		if _, dup := kv[k]; dup {
			t.Fatalf("key %q repeats in:\n%s", k, out)
		}
		kv[k] = v
	}
	return kv
}

// num returns the value of key as a number.
func num(t testing.TB, kv map[string]string, key string) float64 {
	t.Helper()
	s, ok := kv[key]
	if !ok {
		t.Fatalf("no key %q in the output", key)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		t.Fatalf("%s=%q is not a finite number", key, s)
	}
	return f
}

// assertClose fails unless a and b differ by at most 1% of the larger.
func assertClose(t testing.TB, what string, a, b float64) {
	t.Helper()
	if math.Abs(a-b) > 0.01*math.Max(math.Abs(a), math.Abs(b)) {
		t.Errorf("%s: %v and %v differ by more than 1%%", what, a, b)
	}
}

// usedPorts are the ports handed out in this test run, so that two
// parallel tests never get the same one.
var usedPorts sync.Map

// freePort returns a port that nothing binds right now, over TCP and UDP,
// IPv4 and IPv6, and that no other test of this run was given.
func freePort(t testing.TB) int {
	t.Helper()
	for try := 0; try < 100; try++ {
		l, err := net.Listen("tcp4", "0.0.0.0:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		ok := true
		var closers []func() error
		for _, network := range []string{"udp4", "udp6"} {
			c, err := net.ListenPacket(network, net.JoinHostPort("", strconv.Itoa(port)))
			if err != nil {
				ok = false
				break
			}
			closers = append(closers, c.Close)
		}
		if ok {
			l6, err := net.Listen("tcp6", net.JoinHostPort("::", strconv.Itoa(port)))
			if err != nil {
				ok = false
			} else {
				closers = append(closers, l6.Close)
			}
		}
		for _, c := range closers {
			_ = c()
		}
		_ = l.Close()
		if _, taken := usedPorts.LoadOrStore(port, true); ok && !taken {
			return port
		}
	}
	t.Fatal("found no free port")
	return 0
}
