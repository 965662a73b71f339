package luahooks

import (
	"bytes"
	"context"
	"errors"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
	"gotest.tools/v3/assert"

	"github.com/hookperf/hookperf/kit"
)

func loadScript(t *testing.T, name string) *Script {
	t.Helper()
	s, err := LoadFile(filepath.Join("testdata", name))
	assert.NilError(t, err)
	return s
}

// runLocal runs script over loopback tcp_rr and returns both sides and
// what each printed.
func runLocal(t *testing.T, s *Script, o kit.Options, args map[string]string) (*LocalResult, string, string, error) {
	t.Helper()
	var sout, cout bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := RunLocal(ctx, s, o, kit.SideConfig{}, kit.SideConfig{}, Env{Args: args, Out: &sout}, Env{Args: args, Out: &cout})
	return r, sout.String(), cout.String(), err
}

func rrOpts(transactions int64, flows, threads int) kit.Options {
	o := kit.DefaultOptions(kit.TCPRR)
	o.TestLength, o.Transactions = 0, transactions
	o.NumFlows, o.NumThreads = flows, threads
	o.Interval = 100 * time.Millisecond
	return o
}

func TestExecutionOrder(t *testing.T) {
	r, sout, cout, err := runLocal(t, loadScript(t, "order.lua"), rrOpts(20, 1, 1), nil)
	assert.NilError(t, err)
	want := []any{"socket", "sendmsg", "recvmsg"}
	got := r.Client.Collected["seen"][0].([]any)
	if diff := cmp.Diff(want, got[:3]); diff != "" {
		t.Errorf("client order (-want +got):\n%s", diff)
	}
	assert.Equal(t, got[len(got)-1], "close")
	assert.Equal(t, len(got), 2+2*20, "socket, 20 request/response pairs, close")
	sgot := r.Server.Collected["seen"][0].([]any)
	assert.DeepEqual(t, sgot[:3], []any{"socket", "recvmsg", "sendmsg"})
	assert.Equal(t, sgot[len(sgot)-1], "close")
	for _, out := range []string{sout, cout} {
		assert.Equal(t, out, "1 top level\n2 after run: 1 workers\n")
	}
}

func TestCollectBothForms(t *testing.T) {
	for _, threads := range []int{1, 3} {
		t.Run(strings.Repeat("w", threads), func(t *testing.T) {
			const per = 40
			r, _, cout, err := runLocal(t, loadScript(t, "collect.lua"), rrOpts(per*int64(threads), threads, threads), nil)
			assert.NilError(t, err)
			c := r.Client.Collected
			assert.Equal(t, len(c["stats"]), threads)
			assert.Equal(t, len(c["last_fd"]), threads)
			fds := map[float64]bool{}
			for i := 0; i < threads; i++ {
				s := c["stats"][i].(map[string]any)
				assert.DeepEqual(t, s, map[string]any{"sent": float64(per), "received": float64(per)})
				// sends is shared by sendmsg and recvmsg within a worker, and
				// not across workers.
				assert.Equal(t, c["seen_by_recv"][i], float64(per))
				fd := c["last_fd"][i].(float64)
				assert.Assert(t, fd > 2, "worker %d: fd %v", i, fd)
				fds[fd] = true
			}
			assert.Equal(t, cout, "total sent "+strconv.Itoa(per*threads)+" by "+strconv.Itoa(threads)+" workers\n")
			// The server registered no hooks: each worker keeps its starting value.
			assert.DeepEqual(t, r.Server.Collected["last_fd"], repeat(float64(-1), threads))
		})
	}
}

func repeat(v any, n int) []any {
	s := make([]any, n)
	for i := range s {
		s[i] = v
	}
	return s
}

func TestHooksSeeStateAsAtRun(t *testing.T) {
	r, _, cout, err := runLocal(t, loadScript(t, "globals.lua"), rrOpts(5, 1, 1), nil)
	assert.NilError(t, err)
	assert.DeepEqual(t, r.Client.Collected["seen"], []any{map[string]any{"size": 7.0, "name": "before", "limit": 3.0, "family": true}})
	// The worker's change to its copy of config never reaches the main state.
	assert.Equal(t, cout, "7\t7\tbefore\t3\ttrue\n")
}

func TestHookErrors(t *testing.T) {
	tests := []struct {
		mode string
		want string
		exit int
	}{
		{"runtime", "client_sendmsg: testdata/errors.lua:7: attempt to index a non-table object(nil) with key 'field'", 0},
		{"nothing", "client_sendmsg: returned nothing", 0},
		{"string", "client_sendmsg: returned a string (lots)", 0},
		{"exit", "the script called os.exit(3)", 3},
		{"loop", "client_sendmsg: the hook was still running when the run had been over for 1s; stopped at testdata/errors.lua:16", 0},
		{"sleep", "client_sendmsg: the hook was still running when the run had been over for 1s; stopped at testdata/errors.lua:18", 0},
		{"blocking-read", "client_sendmsg: the hook was still running when the run had been over for 1s; stopped at testdata/errors.lua:21", 0},
		{"blocking-recvmsg", "client_sendmsg: the hook was still running when the run had been over for 1s; stopped at testdata/errors.lua:32", 0},
		{"pcall-loop", "client_sendmsg: the hook was still running when the run had been over for 1s; stopped at testdata/errors.lua:24", 0},
		{"errno", "client worker 0: flow 0: client_sendmsg returned EBADF (bad file descriptor)", 0},
		{"minus-one", "client worker 0: flow 0: client_sendmsg returned -1", 0},
	}
	for _, tc := range tests {
		t.Run(tc.mode, func(t *testing.T) {
			o := rrOpts(0, 1, 1)
			o.TestLength = 300 * time.Millisecond
			args := map[string]string{"mode": tc.mode}
			if strings.HasPrefix(tc.mode, "blocking-") {
				fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
				assert.NilError(t, err)
				t.Cleanup(func() { unix.Close(fds[0]); unix.Close(fds[1]) })
				args["fd"] = strconv.Itoa(fds[0])
			}
			start := time.Now()
			_, _, _, err := runLocal(t, loadScript(t, "errors.lua"), o, args)
			assert.ErrorContains(t, err, tc.want)
			var exit *ExitError
			if tc.exit != 0 {
				assert.Assert(t, errors.As(err, &exit), "%v", err)
				assert.Equal(t, exit.Code, tc.exit)
			} else {
				assert.Assert(t, !errors.As(err, &exit))
			}
			// A stuck hook is stopped kit.StopGrace after the end.
			assert.Assert(t, time.Since(start) < o.TestLength+kit.StopGrace+2*time.Second, "took %v", time.Since(start))
		})
	}
}

func TestScriptErrorsBeforeTraffic(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"syntax", "local x = \nclient_socket(", "bad.lua:"},
		{"double registration", "client_socket(function() end)\nclient_socket(function() end)", "client_socket: registered twice"},
		{"not a function", "server_recvmsg(42)", "server_recvmsg: takes a function, got number"},
		{"runtime at top level", "local t = nil\nprint(t.x)", "bad.lua:2:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := LoadString("bad.lua", tc.src)
			if err == nil {
				_, err = RunSide(context.Background(), s, rrOpts(10, 1, 1), kit.SideConfig{}, Env{})
			}
			var se *ScriptError
			assert.Assert(t, errors.As(err, &se), "%T %v", err, err)
			assert.ErrorContains(t, err, tc.want)
		})
	}
}

func TestExitBeforeRun(t *testing.T) {
	s, err := LoadString("exit.lua", "print('bye')\nos.exit(4)\nrun()")
	assert.NilError(t, err)
	var out bytes.Buffer
	_, err = RunSide(context.Background(), s, rrOpts(10, 1, 1), kit.SideConfig{}, Env{Out: &out})
	var exit *ExitError
	assert.Assert(t, errors.As(err, &exit), "%v", err)
	assert.Equal(t, exit.Code, 4)
	assert.Equal(t, out.String(), "bye\n")
}

func TestSidesAndArgs(t *testing.T) {
	s, err := LoadString("sides.lua", `
local who = collect("")
local function mark(fd) who = (is_client() and "client" or "server") .. ":" .. args.tag end
client_socket(mark)
server_socket(mark)
`)
	assert.NilError(t, err)
	r, _, _, err := runLocal(t, s, rrOpts(5, 1, 1), map[string]string{"tag": "x"})
	assert.NilError(t, err)
	assert.DeepEqual(t, r.Client.Collected["who"], []any{"client:x"})
	assert.DeepEqual(t, r.Server.Collected["who"], []any{"server:x"})
}

// TestStandardStreams: print, io.write, io.stdout and io.stderr go to the
// run's writers, from the top level and from hooks (the worker states),
// and behave as Lua's files do.
func TestStandardStreams(t *testing.T) {
	s, err := LoadString("streams.lua", `
local err = io.stderr
client_socket(function(fd)
	io.stdout:write("hook out ", 1, "\n")
	err:write("hook err\n")
end)
io.write("a", 2):write("b\n")
print(tostring(io.stderr), io.stderr:flush() == io.stderr, io.stderr:setvbuf("no"))
local ok, msg = io.stdout:close()
print(ok, msg)
run()
io.stderr:write("after run\n")
`)
	assert.NilError(t, err)
	var sout, serr, cout, cerr bytes.Buffer
	_, err = RunLocal(context.Background(), s, rrOpts(10, 1, 1), kit.SideConfig{}, kit.SideConfig{},
		Env{Out: &sout, Err: &serr}, Env{Out: &cout, Err: &cerr})
	assert.NilError(t, err)
	top := "a2b\nfile (stderr)\ttrue\ttrue\nnil\tcannot close standard file\n"
	assert.Equal(t, cout.String(), top+"hook out 1\n")
	assert.Equal(t, cerr.String(), "hook err\nafter run\n")
	assert.Equal(t, sout.String(), top)
	assert.Equal(t, serr.String(), "after run\n")

	// A write of something else is an error that names the argument.
	s, err = LoadString("bad-write.lua", `io.stderr:write({})`)
	assert.NilError(t, err)
	_, err = RunSide(context.Background(), s, rrOpts(10, 1, 1), kit.SideConfig{}, Env{})
	assert.ErrorContains(t, err, "bad argument #1 to write (string expected, got table)")
}

// syncBuffer is a bytes.Buffer safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// TestLineWriter: two sides writing lines in pieces at once, each
// through its own lineWriter onto one stream, never mix within a line;
// a last line without a newline waits for flush.
func TestLineWriter(t *testing.T) {
	var out syncBuffer
	var wg sync.WaitGroup
	for _, side := range []string{"client", "server"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := &lineWriter{w: &out}
			for i := 0; i < 200; i++ {
				io.WriteString(w, side)
				io.WriteString(w, " fds:")
				io.WriteString(w, " 13\n")
			}
		}()
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSuffix(out.b.String(), "\n"), "\n")
	for _, l := range lines {
		if l != "client fds: 13" && l != "server fds: 13" {
			t.Fatalf("a mixed line: %q", l)
		}
	}
	if len(lines) != 400 {
		t.Errorf("%d lines, want 400", len(lines))
	}

	var tail bytes.Buffer
	w := &lineWriter{w: &tail}
	io.WriteString(w, "a\nb")
	if tail.String() != "a\n" {
		t.Errorf("before flush: %q, want the whole line only", tail.String())
	}
	w.flush()
	if tail.String() != "a\nb" {
		t.Errorf("after flush: %q", tail.String())
	}
}
