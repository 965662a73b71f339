package hooktest_test

import (
	"errors"
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
		assert.Equal(t, hooktest.Sum(res.Client.Collected["calls"], ""), 200.0)
		// The server reads each request, and the client's EOF at the end.
		assert.Equal(t, hooktest.Sum(res.Server.Collected["calls"], ""), 201.0)
	}
}

func TestTryReportsTheScriptsExit(t *testing.T) {
	topo := nstest.Pair(t, nstest.PairConfig{})
	_, err := hooktest.Try(t, topo, hooktest.Config{Script: "testdata/does-not-exist.lua"})
	var se *luahooks.ScriptError
	assert.Assert(t, errors.As(err, &se), "%v", err)
}

func TestSum(t *testing.T) {
	per := []any{map[string]any{"n": 2.0}, map[string]any{"n": 3.0}, map[string]any{}}
	assert.Equal(t, hooktest.Sum(per, "n"), 5.0)
	assert.Equal(t, hooktest.Sum([]any{1.0, 2.5, "x"}, ""), 3.5)
}
