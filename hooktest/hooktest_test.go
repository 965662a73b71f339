package hooktest_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"gotest.tools/v3/assert"

	"github.com/hookperf/hookperf/hooktest"
	"github.com/hookperf/hookperf/kit"
	"github.com/hookperf/hookperf/luahooks"
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
