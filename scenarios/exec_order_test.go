package scenarios

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hookperf/hookperf/hooktest"
	"github.com/hookperf/hookperf/kit"
	"github.com/hookperf/hookperf/netns/nstest"
)

// execOrderWant is one worker's expected record: the top level's two
// entries, the hooks, and the entry the code after run() added (it counts
// the entries it found, and the top level's own log, which stays at 2).
func execOrderWant(hooks ...string) []any {
	want := []any{"top level", "before run()"}
	for _, h := range hooks {
		want = append(want, h)
	}
	return append(want, fmt.Sprintf("after run(): %d entries, top level's log has 2", len(want)))
}

// execOrderOut is what the script prints after run(): a line per worker.
func execOrderOut(side string, workers []any) string {
	var b strings.Builder
	for i, w := range workers {
		var words []string
		for _, e := range w.([]any) {
			words = append(words, e.(string))
		}
		fmt.Fprintf(&b, "%s worker %d: %s\n", side, i+1, strings.Join(words, ", "))
	}
	return b.String()
}

// execOrderRepeat is pattern repeated n times.
func execOrderRepeat(n int, pattern ...string) []string {
	var out []string
	for range n {
		out = append(out, pattern...)
	}
	return out
}

// TestExecOrder: per worker, the top level runs before any hook, the
// socket hook comes first, the packet hooks in the side's order, the close
// hook last, and the code after run() sees the final collected values.
func TestExecOrder(t *testing.T) {
	topo := nstest.Pair(t, nstest.PairConfig{})

	check := func(t *testing.T, res *hooktest.Result, client, server []any) {
		t.Helper()
		if diff := cmp.Diff(client, res.Client.Collected["order"]); diff != "" {
			t.Errorf("client workers' execution order (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(server, res.Server.Collected["order"]); diff != "" {
			t.Errorf("server workers' execution order (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(execOrderOut("client", client), res.ClientOut); diff != "" {
			t.Errorf("what the client's code after run() printed (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(execOrderOut("server", server), res.ServerOut); diff != "" {
			t.Errorf("what the server's code after run() printed (-want +got):\n%s", diff)
		}
	}

	t.Run("tcp_rr", func(t *testing.T) {
		// One flow, three transactions: every packet hook call is seen.
		const n = 3
		res := hooktest.Run(t, topo, hooktest.Config{
			Script:   "testdata/exec-order.lua",
			Workload: kit.TCPRR,
			Options:  func(o *kit.Options) { o.TestLength, o.Transactions = 0, n },
		})
		client := execOrderWant(append(append([]string{"socket"}, execOrderRepeat(n, "sendmsg", "recvmsg")...), "close")...)
		// The server reads each request, answers it, reads the client's
		// EOF, and closes the connection and its listener (one run).
		server := execOrderWant(append(append([]string{"socket"}, execOrderRepeat(n, "recvmsg", "sendmsg")...), "recvmsg", "close")...)
		check(t, res, []any{client}, []any{server})
	})

	t.Run("dummy_test", func(t *testing.T) {
		// rushit's canned events: each worker opens a socket, calls each
		// packet hook once in its side's order, then closes. Two workers
		// a side, each with its own record.
		res, err := hooktest.Try(t, topo, hooktest.Config{
			Script:   "testdata/exec-order.lua",
			Workload: kit.DummyTest,
			Options: func(o *kit.Options) {
				o.TestLength = 300 * time.Millisecond
				o.NumThreads, o.NumFlows = 2, 2
			},
		})
		if err != nil {
			t.Fatalf("dummy_test: %v\nserver printed:\n%s\nclient printed:\n%s", err, res.ServerOut, res.ClientOut)
		}
		client := execOrderWant("socket", "sendmsg", "recvmsg", "recverr", "close")
		server := execOrderWant("socket", "recvmsg", "sendmsg", "recverr", "close")
		check(t, res, []any{client, client}, []any{server, server})
	})
}
