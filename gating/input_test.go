package gating

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gotest.tools/v3/assert"
)

func TestRead(t *testing.T) {
	const line1 = "BenchmarkTCPRR/flows=1/threads=1/req=1/resp=1\t100\t1000 trans/s\t50000 lat-mean-ns\t20 cpu-%"
	const line2 = "BenchmarkTCPRR/flows=1/threads=1/req=1/resp=1\t100\t1100 trans/s\t45000 lat-mean-ns\t22 cpu-%"
	tests := []struct {
		name, in string
	}{
		{"gobench lines", line1 + "\n" + line2 + "\n"},
		{"go test -bench output", "goos: linux\ngoarch: amd64\npkg: x\n" + line1 + "\n" + line2 + "\nPASS\nok  \tx\t3.1s\n"},
		{"hookperf --json documents", jsonDoc(t, line1) + "\n" + jsonDoc(t, line2)},
	}
	want := map[string][]float64{
		"trans/s":      {1000, 1100},
		"lat-mean-ns":  {50000, 45000},
		"cpu-%":        {20, 22},
		"cpu-us/trans": {200, 200}, // 20 % of a second over 1000 transactions
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			set, err := Read(strings.NewReader(tc.in))
			assert.NilError(t, err)
			assert.DeepEqual(t, set.Benches, []string{"BenchmarkTCPRR/flows=1/threads=1/req=1/resp=1"})
			got := set.Runs[set.Benches[0]]
			if diff := cmp.Diff(want, got, cmp.Comparer(func(x, y float64) bool { return x-y < 1e-9 && y-x < 1e-9 })); diff != "" {
				t.Errorf("runs (-want +got):\n%s", diff)
			}
		})
	}
}

// jsonDoc is a --json result carrying line.
func jsonDoc(t *testing.T, line string) string {
	t.Helper()
	b, err := json.Marshal(map[string]any{"options": map[string]any{}, "gobench": line})
	assert.NilError(t, err)
	return string(b)
}

func TestReadRefuses(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"empty", "", "no runs in it"},
		{"no benchmark lines", "PASS\nok x 1s\n", "no runs in it"},
		{"odd fields", "BenchmarkX 1 2\n", "is not a benchmark line"},
		{"not a number", "BenchmarkX 1 fast trans/s\n", `"fast" is not a number`},
		{"JSON without gobench", `{"results": {}}`, `has no "gobench" line`},
		{"broken JSON", `{"gobench": `, "JSON document 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Read(strings.NewReader(tc.in))
			assert.ErrorContains(t, err, tc.want)
		})
	}
}

func TestCompareSetsNeedsSharedMetrics(t *testing.T) {
	old, err := Read(strings.NewReader("BenchmarkA 1 10 trans/s\n"))
	assert.NilError(t, err)
	new, err := Read(strings.NewReader("BenchmarkB 1 10 trans/s\n"))
	assert.NilError(t, err)
	_, err = CompareSets(old, new, nil, DefaultConfig)
	assert.ErrorContains(t, err, "share no benchmark and metric")
}
