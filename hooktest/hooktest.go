// Package hooktest runs a scripted hookperf workload between two network
// namespaces from a Go test and hands back what the script collected, so
// a scenario is a few lines:
//
//	func TestDrops(t *testing.T) {
//		topo := nstest.Pair(t, nstest.PairConfig{})
//		res := hooktest.Run(t, topo, hooktest.Config{
//			Script:   "testdata/drops.lua",
//			Workload: kit.UDPStream,
//			Options:  func(o *kit.Options) { o.TestLength = time.Second },
//		})
//		assert.Assert(t, hooktest.Sum(t, res.Server.Collected["stats"], "drops") > 0)
//	}
//
// The server runs in topo.Server and the client in topo.Client (each of
// their worker threads enters its namespace before it opens a socket);
// the client reaches the server at the server's address on the link.
package hooktest

import (
	"bytes"
	"context"
	"errors"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/hookperf/hookperf/kit"
	"github.com/hookperf/hookperf/luahooks"
	"github.com/hookperf/hookperf/netns/nstest"
)

// Config describes one scripted run.
type Config struct {
	// Script is the Lua script's path (run by both sides, as the CLI
	// does); empty for none.
	Script string
	// Workload is what to run (default tcp_rr).
	Workload kit.Workload
	// Options, if set, adjusts the options after the defaults: one second,
	// one flow, one thread, sampling every 100ms.
	Options func(o *kit.Options)
	// Args is the script's args table (--script-arg).
	Args map[string]string
	// IPv6 makes the client reach the server over IPv6.
	IPv6 bool
	// ServerThreads, if set, is the server's worker threads (-T) where
	// they differ from the client's (a server takes them from its own
	// command line, never from its client): 2 for a client's 1 flow
	// leaves one server worker with nothing to serve.
	ServerThreads int
	// Timeout bounds the whole run (default: the test length plus 30s).
	Timeout time.Duration
}

// Result is what both sides measured and collected, and what each printed.
type Result struct {
	Server, Client *luahooks.Result
	// ServerOut and ClientOut are what each side's script printed (print,
	// io.write, io.stdout and io.stderr, in the order written).
	ServerOut, ClientOut string
}

// Run runs cfg between the namespaces of topo and fails the test if the
// run fails. Use Try to look at a failure instead.
func Run(t testing.TB, topo *nstest.Topology, cfg Config) *Result {
	t.Helper()
	res, err := Try(t, topo, cfg)
	if err != nil {
		t.Fatalf("hooktest: %s: %v\nserver printed:\n%s\nclient printed:\n%s", cfg.Script, err, res.ServerOut, res.ClientOut)
	}
	return res
}

// Try runs cfg between the namespaces of topo and returns the result and
// the run's error (e.g. a *luahooks.ExitError for os.exit in the script).
func Try(t testing.TB, topo *nstest.Topology, cfg Config) (*Result, error) {
	t.Helper()
	res := &Result{}
	s, err := loadScript(cfg.Script)
	if err != nil {
		return res, err
	}
	server, family := topo.ServerAddr4, kit.IPv4
	if cfg.IPv6 {
		server, family = topo.ServerAddr6, kit.IPv6
	}
	// The server's address first, so that cfg.Options may change it.
	o := Options(cfg.Workload, func(o *kit.Options) {
		o.Host, o.Family = server.String(), family
		if cfg.Options != nil {
			cfg.Options(o)
		}
	})
	timeout := cfg.Timeout
	if timeout == 0 {
		timeout = o.TestLength + 30*time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var sout, cout syncBuffer
	scfg := kit.SideConfig{ThreadInit: topo.Server.Enter, Threads: cfg.ServerThreads}
	ccfg := kit.SideConfig{ThreadInit: topo.Client.Enter}
	senv, cenv := luahooks.Env{Args: cfg.Args, Out: &sout, Err: &sout}, luahooks.Env{Args: cfg.Args, Out: &cout, Err: &cout}
	lr, err := luahooks.RunLocal(ctx, s, o, scfg, ccfg, senv, cenv)
	res.ServerOut, res.ClientOut = sout.String(), cout.String()
	if lr != nil {
		res.Server, res.Client = lr.Server, lr.Client
	}
	if err == nil && (res.Server == nil || res.Client == nil) {
		err = errors.New("hooktest: a side returned no result")
	}
	return res, err
}

// loadScript loads the script at path; no path is a script without hooks
// (the plain data path).
func loadScript(path string) (*luahooks.Script, error) {
	if path == "" {
		return luahooks.LoadString("(no script)", "")
	}
	return luahooks.LoadFile(path)
}

// Options returns the options hooktest starts from for workload w (tcp_rr
// when empty), adjusted by adjust if set.
func Options(w kit.Workload, adjust func(*kit.Options)) kit.Options {
	if w == "" {
		w = kit.TCPRR
	}
	o := kit.DefaultOptions(w)
	o.TestLength = time.Second
	o.Interval = 100 * time.Millisecond
	if adjust != nil {
		adjust(&o)
	}
	return o
}

// Sum adds up one collect() variable over the workers: perWorker is its
// entry in Collected, one value per worker. With field "" each value is a
// plain number (local n = collect(0)) and Sum adds the values; otherwise
// each is a table (local stats = collect({drops = 0})) and Sum adds its
// field:
//
//	hooktest.Sum(t, res.Server.Collected["n"], "")         // n = collect(0)
//	hooktest.Sum(t, res.Server.Collected["stats"], "drops") // stats = collect({drops = 0})
//
// A worker whose hooks never ran adds its starting value (Workers[i] tells
// such a worker from one that served). A worker's table may lack the
// field (say, a count per peer for a peer that worker never heard from),
// but the test fails (Errorf; Sum goes on) when no table has it, when
// nothing was collected, when an entry is not a table, or when a value is
// not a number: a renamed field must not read as 0.
func Sum(t testing.TB, perWorker []any, field string) float64 {
	t.Helper()
	if len(perWorker) == 0 {
		t.Errorf("hooktest.Sum(%q): nothing was collected", field)
		return 0
	}
	var sum float64
	found := false
	for i, v := range perWorker {
		if field != "" {
			m, ok := v.(map[string]any)
			if !ok {
				t.Errorf("hooktest.Sum(%q): worker %d collected a %T (%v), not a table", field, i+1, v, v)
				continue
			}
			if v, ok = m[field]; !ok {
				continue
			}
		}
		f, ok := v.(float64)
		if !ok {
			t.Errorf("hooktest.Sum(%q): worker %d's value is a %T (%v), not a number", field, i+1, v, v)
			continue
		}
		sum += f
		found = true
	}
	if !found && field != "" {
		t.Errorf("hooktest.Sum(%q): no worker's table has it (collected: %v)", field, perWorker)
	}
	return sum
}

// Addr formats an address and port for a script argument.
func Addr(a netip.Addr, port int) string { return netip.AddrPortFrom(a, uint16(port)).String() }

// syncBuffer is a bytes.Buffer safe for the two sides' workers printing
// at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
