package kit

import (
	"bytes"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"gotest.tools/v3/assert"
)

// TestWriteLatencyHistogram: a row a log-spaced range, shares that add
// up, the percentiles marked where they fall, and nothing without
// latencies.
func TestWriteLatencyHistogram(t *testing.T) {
	r := &Result{Latency: &Latency{
		Min: 10 * time.Microsecond, Max: 1000 * time.Microsecond,
		Percentiles: []Percentile{{P: 50, Value: 11 * time.Microsecond}, {P: 99.9, Value: 990 * time.Microsecond}},
		Histogram: []LatencyBucket{
			{Low: 10 * time.Microsecond, High: 11 * time.Microsecond, Count: 900},
			{Low: 100 * time.Microsecond, High: 101 * time.Microsecond, Count: 99},
			{Low: 990 * time.Microsecond, High: 1000 * time.Microsecond, Count: 1},
		},
	}}
	var out bytes.Buffer
	assert.NilError(t, WriteLatencyHistogram(&out, r))
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	assert.Equal(t, lines[0], "latency histogram: 1000 transactions, 10µs to 1ms")
	rows := lines[1:]
	assert.Equal(t, len(rows), histogramRows)
	assert.Assert(t, strings.HasPrefix(strings.TrimSpace(rows[0]), "10µs |"+strings.Repeat("█", 30)+"|  90.0%  90.00% ◀ p50"), "%q", rows[0])
	assert.Assert(t, strings.HasSuffix(rows[len(rows)-1], "100.00% ◀ p99.9"), "%q", rows[len(rows)-1])
	// 100 µs is two thirds of the way along the log scale.
	assert.Assert(t, strings.Contains(rows[8], "9.9%"), "%q", rows[8])
	for _, row := range rows {
		assert.Assert(t, utf8.RuneCountInString(row) <= 80, "%q is wider than a terminal", row)
	}

	out.Reset()
	assert.NilError(t, WriteLatencyHistogram(&out, &Result{}))
	assert.Equal(t, out.String(), "")
}

func TestBar(t *testing.T) {
	for _, tt := range []struct {
		frac float64
		want string
	}{
		{0, "|    |"},
		{1, "|████|"},
		{0.5, "|██  |"},
		{0.01, "|▏   |"},
		{0.53, "|██▏ |"},
	} {
		assert.Equal(t, bar(tt.frac, 4), tt.want, "bar(%v)", tt.frac)
	}
}
