package hooktest_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gotest.tools/v3/assert"

	"github.com/hookperf/hookperf/gating"
	"github.com/hookperf/hookperf/hooktest"
	"github.com/hookperf/hookperf/kit"
	"github.com/hookperf/hookperf/luahooks"
	"github.com/hookperf/hookperf/netns"
	"github.com/hookperf/hookperf/netns/nstest"
)

func TestMain(m *testing.M) { nstest.Main(m) }

func TestRunBetweenNamespaces(t *testing.T) {
	topo := nstest.Pair(t, nstest.PairConfig{})
	for _, v6 := range []bool{false, true} {
		res := hooktest.Run(t, topo, hooktest.Config{
			Script: "testdata/count.lua",
			IPv6:   v6,
			Options: func(o *kit.Options) {
				o.TestLength, o.Transactions = 0, 200
			},
		})
		assert.Equal(t, res.Client.Kit.Transactions, uint64(200))
		assert.Equal(t, hooktest.Sum(t, res.Client.Collected["calls"], ""), 200.0)
		// The server reads each request, and the client's EOF at the end.
		assert.Equal(t, hooktest.Sum(t, res.Server.Collected["calls"], ""), 201.0)
	}
}

// TestWorkersTellIdleFromServing runs one flow against two server
// workers: one has no flow, and its collected count is its starting
// value, 0. Workers[i] tells it from the worker that served.
func TestWorkersTellIdleFromServing(t *testing.T) {
	topo := nstest.Pair(t, nstest.PairConfig{})
	const n, req, resp = 200, 10, 20
	tests := []struct {
		name string
		ipv6 bool
	}{
		{"ipv4", false},
		{"ipv6", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := hooktest.Run(t, topo, hooktest.Config{
				Script:        "testdata/count.lua",
				IPv6:          tc.ipv6,
				ServerThreads: 2,
				Options: func(o *kit.Options) {
					o.TestLength, o.Transactions = 0, n
					o.RequestSize, o.ResponseSize = req, resp
				},
			})
			// One client worker, one flow; count.lua hooks recvmsg, one call
			// per response.
			wantClient := []kit.WorkerFigures{
				{Worker: 0, Transactions: n, BytesRead: n * resp, BytesWritten: n * req, PacketHookCalls: n},
			}
			if diff := cmp.Diff(wantClient, res.Client.Workers); diff != "" {
				t.Errorf("client workers (-want +got):\n%s", diff)
			}
			assert.DeepEqual(t, res.Client.Collected["calls"], []any{float64(n)})

			// The kernel picks the server worker (SO_REUSEPORT): the one that
			// accepted the connection read each request and the EOF.
			served := 0
			if res.Server.Workers[1].Connections > 0 {
				served = 1
			}
			idle := 1 - served
			wantServer := make([]kit.WorkerFigures, 2)
			wantServer[served] = kit.WorkerFigures{Worker: served, Transactions: n, BytesRead: n * req, BytesWritten: n * resp, Connections: 1, PacketHookCalls: n + 1}
			wantServer[idle] = kit.WorkerFigures{Worker: idle}
			if diff := cmp.Diff(wantServer, res.Server.Workers); diff != "" {
				t.Errorf("server workers (-want +got):\n%s", diff)
			}
			calls := res.Server.Collected["calls"]
			assert.Equal(t, calls[served], float64(n+1))
			// 0 here is the starting value of a worker whose hook never ran,
			// which only Workers[idle] says.
			assert.Equal(t, calls[idle], 0.0)
			assert.Equal(t, hooktest.Sum(t, calls, ""), float64(n+1))
		})
	}
}

func TestTryReportsTheScriptsExit(t *testing.T) {
	topo := nstest.Pair(t, nstest.PairConfig{})
	_, err := hooktest.Try(t, topo, hooktest.Config{Script: "testdata/does-not-exist.lua"})
	var se *luahooks.ScriptError
	assert.Assert(t, errors.As(err, &se), "%v", err)
}

func TestSum(t *testing.T) {
	tests := []struct {
		name      string
		perWorker []any
		field     string
		want      float64
		problem   string // "" when Sum must not fail the test
	}{
		{"a field of each table", []any{map[string]any{"n": 2.0}, map[string]any{"n": 3.0}}, "n", 5, ""},
		{"a worker without the field", []any{map[string]any{"n": 2.0}, map[string]any{}}, "n", 2, ""},
		{"plain numbers", []any{1.0, 2.5}, "", 3.5, ""},
		{"no table has the field", []any{map[string]any{"drops": 1.0}, map[string]any{}}, "drop", 0, `no worker's table has it`},
		{"nothing collected", nil, "n", 0, "nothing was collected"},
		{"a value that is not a number", []any{1.0, "x"}, "", 1, "worker 2's value is a string"},
		{"a field that is not a number", []any{map[string]any{"n": true}, map[string]any{"n": 1.0}}, "n", 1, "worker 1's value is a bool"},
		{"an entry that is not a table", []any{map[string]any{"n": 1.0}, 4.0}, "n", 1, "worker 2 collected a float64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &errorRecorder{TB: t}
			got := hooktest.Sum(rec, tt.perWorker, tt.field)
			assert.Equal(t, got, tt.want)
			if tt.problem == "" {
				assert.Equal(t, len(rec.errors), 0, "Sum failed the test: %v", rec.errors)
				return
			}
			assert.Equal(t, len(rec.errors), 1, "Sum's complaints: %v", rec.errors)
			assert.Assert(t, strings.Contains(rec.errors[0], tt.problem), "Sum said %q, want it to say %q", rec.errors[0], tt.problem)
		})
	}
}

// errorRecorder is a testing.TB that records Errorf instead of failing.
type errorRecorder struct {
	testing.TB
	errors []string
}

func (r *errorRecorder) Helper() {}

func (r *errorRecorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

// TestAB: a B that paces its stream at 10 Mbit/s is a regression of
// Mbit/s against an A that does not, between two namespaces.
func TestAB(t *testing.T) {
	topo := nstest.Pair(t, nstest.PairConfig{})
	stream := func(pacing uint64) hooktest.Config {
		return hooktest.Config{Workload: kit.TCPStream, Options: func(o *kit.Options) {
			o.TestLength, o.MaxPacingRate = 500*time.Millisecond, pacing
		}}
	}
	report := hooktest.AB(t, topo, stream(0), stream(10_000_000/8), gating.AB{Rounds: 6, Units: []string{"Mbit/s"}})
	assert.Equal(t, len(report.Rows), 1)
	row := report.Rows[0]
	assert.Equal(t, row.Metric, "Mbit/s")
	assert.Equal(t, row.A.N, 6)
	assert.Equal(t, row.Verdict, gating.Regression, "%+v", row)
	assert.Assert(t, row.B.Median < 20, "B paced at 10 Mbit/s ran at %v", row.B.Median)
	assert.Equal(t, report.Verdict, gating.Regression)
}

// TestABSides: A and B between namespaces of their own, B's client link
// shaped to 20 Mbit/s by a tbf qdisc: a regression of Mbit/s that A's
// namespaces never see.
func TestABSides(t *testing.T) {
	a, b := nstest.Pair(t, nstest.PairConfig{}), nstest.Pair(t, nstest.PairConfig{})
	tbf, err := netns.ParseQdisc("tbf rate 20mbit")
	assert.NilError(t, err)
	assert.NilError(t, b.Apply(netns.Settings{Qdiscs: []netns.HostQdisc{{Host: netns.ClientHost, Qdisc: tbf}}}))
	stream := hooktest.Config{Workload: kit.TCPStream, Options: func(o *kit.Options) { o.TestLength = 500 * time.Millisecond }}
	report := hooktest.ABSides(t, hooktest.Side{Topology: a, Config: stream}, hooktest.Side{Topology: b, Config: stream},
		gating.AB{Rounds: 6, Units: []string{"Mbit/s"}})
	row := report.Rows[0]
	assert.Equal(t, row.Verdict, gating.Regression, "%+v", row)
	assert.Assert(t, row.B.Median < 25 && row.A.Median > 200, "A ran at %v Mbit/s, B through a 20 Mbit/s tbf at %v", row.A.Median, row.B.Median)
}
