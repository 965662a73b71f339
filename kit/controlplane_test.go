package kit

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"gotest.tools/v3/assert"
)

// startServer listens for one test on free ports and serves it in the
// background; the returned function waits for its result.
func startServer(t *testing.T, ctx context.Context, o Options, cfg SideConfig) (netip.AddrPort, func() (*Result, error)) {
	t.Helper()
	o.Client, o.ControlPort, o.DataPort = false, 0, 0
	srv, err := listenServer(&o, &cfg)
	assert.NilError(t, err)
	type outcome struct {
		r   *Result
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		r, err := srv.serve(ctx)
		done <- outcome{r, err}
	}()
	var got *outcome
	wait := func() (*Result, error) {
		if got == nil {
			o := <-done
			got = &o
		}
		return got.r, got.err
	}
	t.Cleanup(func() { _, _ = wait() })
	return srv.addr, wait
}

func clientOf(o Options, control netip.AddrPort) Options {
	o.Client, o.Host, o.ControlPort = true, control.Addr().String(), int(control.Port())
	return o
}

func TestWrongMagicIsCountedAndRefused(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	o := localOpts(TCPRR)
	o.Magic = 7
	addr, wait := startServer(t, ctx, o, SideConfig{})

	bad := clientOf(o, addr)
	bad.Magic = 8
	_, err := Run(ctx, bad, SideConfig{})
	assert.ErrorContains(t, err, "wrong magic 8")

	good := clientOf(o, addr)
	c, err := Run(ctx, good, SideConfig{})
	assert.NilError(t, err)
	s, err := wait()
	assert.NilError(t, err)
	assert.Equal(t, s.InvalidSecretCount, uint64(1))
	assert.Assert(t, c.Transactions > 0)
}

func TestGarbageOnControlPortDoesNotStopServer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	o := localOpts(TCPRR)
	addr, wait := startServer(t, ctx, o, SideConfig{PeerTimeout: time.Second})
	for _, junk := range []string{"GET / HTTP/1.0\r\n\r\n", "\x00\x00\x00\x05{}{}{", "\xff\xff\xff\xff"} {
		c, err := net.Dial("tcp", addr.String())
		assert.NilError(t, err)
		_, err = c.Write([]byte(junk))
		assert.NilError(t, err)
		c.Close()
	}
	_, err := Run(ctx, clientOf(o, addr), SideConfig{})
	assert.NilError(t, err)
	_, err = wait()
	assert.NilError(t, err)
}

// fakeClient says hello as a client would, then does what act says.
func fakeClient(t *testing.T, addr netip.AddrPort, o Options, act func(c net.Conn)) {
	t.Helper()
	c, err := net.Dial("tcp", addr.String())
	assert.NilError(t, err)
	defer c.Close()
	h := &hello{Workload: o.Workload, NumFlows: 1, NumThreads: 1, TestLength: o.TestLength,
		BufferSize: o.BufferSize, RequestSize: 1, ResponseSize: 1, Interval: o.Interval}
	assert.NilError(t, writeMessage(c, &message{Type: msgHello, Magic: o.Magic, Hello: h}, time.Second))
	m, err := readMessage(c)
	assert.NilError(t, err)
	assert.Equal(t, m.Type, msgWelcome)
	act(c)
}

func TestServerEndsWhenClientVanishes(t *testing.T) {
	tests := []struct {
		name string
		act  func(c net.Conn)
		want string
	}{
		{"closes after start", func(c net.Conn) {
			_ = writeMessage(c, &message{Type: msgStart}, time.Second)
			time.Sleep(100 * time.Millisecond)
		}, "vanished"},
		{"falls silent", func(c net.Conn) {
			_ = writeMessage(c, &message{Type: msgStart}, time.Second)
			time.Sleep(2 * time.Second)
		}, "no word from client"},
		{"gives up after start", func(c net.Conn) {
			_ = writeMessage(c, &message{Type: msgStart}, time.Second)
			_ = writeMessage(c, &message{Type: msgAbort, Error: "out of coffee"}, time.Second)
			time.Sleep(100 * time.Millisecond)
		}, "out of coffee"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			o := localOpts(TCPRR)
			o.TestLength = time.Minute
			addr, wait := startServer(t, ctx, o, SideConfig{PeerTimeout: 500 * time.Millisecond})
			start := time.Now()
			fakeClient(t, addr, o, tc.act)
			_, err := wait()
			assert.ErrorContains(t, err, tc.want)
			assert.Assert(t, time.Since(start) < 5*time.Second, "took %v", time.Since(start))
		})
	}
}

// TestServerOutlivesClientLostBeforeStart: a client that was welcomed but
// never started is dropped, and the server serves the next one.
func TestServerOutlivesClientLostBeforeStart(t *testing.T) {
	tests := []struct {
		name string
		act  func(c net.Conn)
	}{
		{"closes", func(c net.Conn) {}},
		{"gives up", func(c net.Conn) {
			_ = writeMessage(c, &message{Type: msgAbort, Error: "out of coffee"}, time.Second)
		}},
		{"falls silent", func(c net.Conn) { time.Sleep(time.Second) }},
		{"says stop", func(c net.Conn) {
			_ = writeMessage(c, &message{Type: msgStop, Figures: &Figures{}}, time.Second)
			time.Sleep(100 * time.Millisecond)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			o := localOpts(TCPRR)
			addr, wait := startServer(t, ctx, o, SideConfig{PeerTimeout: 500 * time.Millisecond})
			fakeClient(t, addr, o, tc.act)
			co := clientOf(o, addr)
			co.TestLength, co.Transactions = 0, 300
			_, err := Run(ctx, co, SideConfig{PeerTimeout: 500 * time.Millisecond})
			assert.NilError(t, err)
			s, err := wait()
			assert.NilError(t, err)
			assert.Equal(t, s.Transactions, uint64(300), "the server counts the second client's transactions only")
		})
	}
}

// TestIdleControlConnectionsDoNotLockOut: connections that say nothing
// or garbage do not keep a real client waiting for its welcome.
func TestIdleControlConnectionsDoNotLockOut(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	o := localOpts(TCPRR)
	addr, wait := startServer(t, ctx, o, SideConfig{})
	for _, junk := range []string{"", "", "\x00\x00\x00\x10{\"type\":"} {
		c, err := net.Dial("tcp", addr.String())
		assert.NilError(t, err)
		t.Cleanup(func() { c.Close() })
		if junk != "" {
			_, err = c.Write([]byte(junk))
			assert.NilError(t, err)
		}
	}
	// Far less than the 10 s a client waits for its welcome.
	_, err := Run(ctx, clientOf(o, addr), SideConfig{PeerTimeout: 2 * time.Second})
	assert.NilError(t, err)
	_, err = wait()
	assert.NilError(t, err)
}

// TestBusyServerTurnsClientsAway: a client that comes while a test runs
// is told at once that the server is busy.
func TestBusyServerTurnsClientsAway(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	o := localOpts(TCPRR)
	o.TestLength = 2 * time.Second
	addr, wait := startServer(t, ctx, o, SideConfig{})
	first := make(chan error, 1)
	go func() {
		_, err := Run(ctx, clientOf(o, addr), SideConfig{})
		first <- err
	}()
	time.Sleep(time.Second)
	_, err := Run(ctx, clientOf(o, addr), SideConfig{})
	assert.ErrorContains(t, err, "busy")
	assert.NilError(t, <-first)
	_, err = wait()
	assert.NilError(t, err)
}

func TestClientEndsWhenServerNeverAnswers(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	assert.NilError(t, err)
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		_, _ = readMessage(c) // hello, then silence
		time.Sleep(3 * time.Second)
	}()
	o := clientOf(localOpts(TCPRR), ln.Addr().(*net.TCPAddr).AddrPort())
	start := time.Now()
	_, err = Run(context.Background(), o, SideConfig{PeerTimeout: 500 * time.Millisecond})
	assert.ErrorContains(t, err, "no welcome from the server")
	assert.Assert(t, time.Since(start) < 3*time.Second, "took %v", time.Since(start))
}

func TestClientEndsWhenServerDiesMidRun(t *testing.T) {
	sctx, scancel := context.WithCancel(context.Background())
	o := localOpts(TCPRR)
	o.TestLength = time.Minute
	addr, wait := startServer(t, sctx, o, SideConfig{})
	time.AfterFunc(500*time.Millisecond, scancel)
	start := time.Now()
	_, err := Run(context.Background(), clientOf(o, addr), SideConfig{PeerTimeout: time.Second})
	assert.Assert(t, err != nil)
	assert.Assert(t, strings.Contains(err.Error(), "peer") || strings.Contains(err.Error(), "server"), err.Error())
	assert.Assert(t, time.Since(start) < 5*time.Second, "took %v", time.Since(start))
	_, serr := wait()
	assert.ErrorIs(t, serr, context.Canceled)
}

func TestClientRetriesUntilServerListens(t *testing.T) {
	o := localOpts(TCPRR)
	// Find a free control port, then start the server on it a little later.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	assert.NilError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	so := o
	so.ControlPort, so.DataPort = port, 0
	errc := make(chan error, 1)
	time.AfterFunc(700*time.Millisecond, func() {
		_, err := Run(context.Background(), so, SideConfig{})
		errc <- err
	})
	co := o
	co.Client, co.Host, co.ControlPort = true, "127.0.0.1", port
	_, err = Run(context.Background(), co, SideConfig{})
	assert.NilError(t, err)
	assert.NilError(t, <-errc)
}

func TestClientGivesUpWithoutServer(t *testing.T) {
	// A port bound and never listened on: connections to it are refused,
	// and no server of a test running beside this one can take it.
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	assert.NilError(t, err)
	t.Cleanup(func() { unix.Close(fd) })
	assert.NilError(t, unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}))
	sa, err := unix.Getsockname(fd)
	assert.NilError(t, err)
	port := sa.(*unix.SockaddrInet4).Port
	o := localOpts(TCPRR)
	o.Client, o.Host, o.ControlPort = true, "127.0.0.1", port
	start := time.Now()
	_, err = Run(context.Background(), o, SideConfig{})
	assert.ErrorContains(t, err, "cannot reach the server")
	assert.Assert(t, time.Since(start) < dialRetryFor+2*time.Second)
}

func TestServerServesSeveralClients(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	o := localOpts(TCPRR)
	o.NumClients = 2
	addr, wait := startServer(t, ctx, o, SideConfig{})
	co := clientOf(o, addr)
	co.NumClients = 1
	co.TestLength, co.Transactions = 0, 300
	results := make(chan *Result, 2)
	for i := 0; i < 2; i++ {
		go func() {
			r, err := Run(ctx, co, SideConfig{})
			if err != nil {
				t.Error(err)
			}
			results <- r
		}()
	}
	a, b := <-results, <-results
	s, err := wait()
	assert.NilError(t, err)
	assert.Equal(t, a.Transactions+b.Transactions, uint64(600))
	assert.Equal(t, s.Transactions, uint64(600))
	assert.Equal(t, s.Connections, uint64(2))
}

func TestHelloWithUnusableOptionsIsRefused(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	o := localOpts(TCPRR)
	addr, wait := startServer(t, ctx, o, SideConfig{})
	c, err := net.Dial("tcp", addr.String())
	assert.NilError(t, err)
	h := &hello{Workload: TCPRR, NumFlows: 1, NumThreads: 1, TestLength: time.Second,
		BufferSize: 1, RequestSize: 1, ResponseSize: 100000, Interval: time.Second}
	assert.NilError(t, writeMessage(c, &message{Type: msgHello, Magic: o.Magic, Hello: h}, time.Second))
	m, err := readMessage(c)
	assert.NilError(t, err)
	assert.Equal(t, m.Type, msgAbort)
	assert.Assert(t, strings.Contains(m.Error, "-R/--response-size"), m.Error)
	c.Close()
	_, err = Run(ctx, clientOf(o, addr), SideConfig{})
	assert.NilError(t, err)
	_, err = wait()
	assert.NilError(t, err)
}

// TestServerRefusesDataPortInUse: a data port another socket holds is a
// usage error when the server starts, before it waits for a client.
func TestServerRefusesDataPortInUse(t *testing.T) {
	tests := []struct {
		name    string
		w       Workload
		threads int
		offset  int // the held port, past the data port
		reuse   bool
	}{
		{"tcp", TCPRR, 1, 0, false},
		{"udp worker 1's port", UDPRR, 2, 1, false},
		{"udp reuseport", UDPStream, 2, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			network := "tcp4"
			if tc.w.IsUDP() {
				network = "udp4"
			}
			port := 0
			var held interface{ Close() error }
			for try := 0; try < 20 && held == nil; try++ {
				ln, err := net.Listen("tcp4", "0.0.0.0:0")
				assert.NilError(t, err)
				port = ln.Addr().(*net.TCPAddr).Port
				ln.Close()
				if port+tc.offset > 65535 {
					continue
				}
				addr := net.JoinHostPort("0.0.0.0", strconv.Itoa(port+tc.offset))
				if tc.w.IsUDP() {
					held, _ = net.ListenPacket(network, addr)
				} else {
					held, _ = net.Listen(network, addr)
				}
			}
			assert.Assert(t, held != nil)
			t.Cleanup(func() { held.Close() })
			o := localOpts(tc.w)
			o.ControlPort, o.DataPort, o.NumThreads, o.ReusePort = 0, port, tc.threads, tc.reuse
			_, err := Run(context.Background(), o, SideConfig{})
			var usage *UsageError
			assert.Assert(t, errors.As(err, &usage), "%v", err)
			want := fmt.Sprintf("-P/--port: bind 0.0.0.0:%d: address already in use", port+tc.offset)
			assert.Equal(t, err.Error(), want)
		})
	}
}
