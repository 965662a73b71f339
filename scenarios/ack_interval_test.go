package scenarios

import (
	"fmt"
	"math/bits"
	"strconv"
	"strings"
	"testing"
	"time"

	"gotest.tools/v3/assert"

	"github.com/hookperf/hookperf/hooktest"
	"github.com/hookperf/hookperf/kit"
	"github.com/hookperf/hookperf/netns/nstest"
)

// ackHist reads a collected histogram: a Lua table keyed by numbers,
// which arrives as a map with the numbers as strings, or as a list when
// its keys happen to be 1..n.
func ackHist(t *testing.T, v any) map[string]float64 {
	t.Helper()
	h := map[string]float64{}
	switch v := v.(type) {
	case map[string]any:
		for k, c := range v {
			h[k] = ackCount(t, k, c)
		}
	case []any:
		for i, c := range v {
			h[strconv.Itoa(i+1)] = ackCount(t, strconv.Itoa(i+1), c)
		}
	default:
		t.Fatalf("the histogram is a %T: %v", v, v)
	}
	return h
}

func ackCount(t *testing.T, key string, v any) float64 {
	t.Helper()
	c, ok := v.(float64)
	assert.Assert(t, ok, "histogram bucket %s holds a %T: %v", key, v, v)
	return c
}

// ackNum reads a number field of a worker's collected table.
func ackNum(t *testing.T, m map[string]any, name string) float64 {
	t.Helper()
	v, ok := m[name].(float64)
	assert.Assert(t, ok, "no number %q in %v", name, m)
	return v
}

// TestAckInterval: the client's ACK intervals from SO_TIMESTAMPING TX_ACK
// stamps on the error queue (client_recverr), over tcp_stream, as a log2
// histogram per worker. Each worker has samples, every bucket is a power
// of two, every stamp after a socket's first is one interval, and the
// buckets' bounds bracket the time the stamps span.
func TestAckInterval(t *testing.T) {
	topo := nstest.Pair(t, nstest.PairConfig{})
	const threads = 2
	res := hooktest.Run(t, topo, hooktest.Config{
		Script:   "testdata/ack-interval.lua",
		Workload: kit.TCPStream,
		Options: func(o *kit.Options) {
			o.TestLength = time.Second
			o.NumThreads, o.NumFlows = threads, threads
		},
	})
	acks := res.Client.Collected["acks"]
	assert.Equal(t, len(acks), threads, "one histogram per client worker: %v", acks)
	var total float64
	for i, a := range acks {
		w, ok := a.(map[string]any)
		assert.Assert(t, ok, "client worker %d's acks are a %T: %v", i+1, a, a)
		stamps, sockets, span := ackNum(t, w, "stamps"), ackNum(t, w, "sockets"), ackNum(t, w, "span_us")
		hist := ackHist(t, w["hist"])
		var samples, lower, upper float64
		for k, c := range hist {
			key, err := strconv.ParseFloat(k, 64)
			assert.NilError(t, err, "client worker %d: bucket key %q", i+1, k)
			assert.Assert(t, key >= 1 && key == float64(uint64(key)) && bits.OnesCount64(uint64(key)) == 1,
				"client worker %d: bucket key %s is not a power of two (histogram %v)", i+1, k, hist)
			assert.Assert(t, c > 0, "client worker %d: bucket %s holds %v", i+1, k, c)
			samples += c
			if key > 1 {
				lower += c * key / 2
			}
			upper += c * key
		}
		assert.Assert(t, samples > 0, "client worker %d measured no ACK interval (%d stamps)", i+1, int(stamps))
		// One socket per worker (-F = -T); each socket's first stamp
		// starts its series.
		assert.Equal(t, sockets, 1.0, "client worker %d: sockets that sent stamps", i+1)
		assert.Equal(t, samples, stamps-sockets, "client worker %d: intervals in the histogram vs stamps read (%v) minus one per socket (%v)", i+1, stamps, sockets)
		// Each interval lies in its bucket, so the buckets bound their sum.
		assert.Assert(t, lower <= span && span < upper, "client worker %d: the intervals add up to %v us, outside their buckets' bounds [%v, %v)", i+1, span, lower, upper)
		assert.Assert(t, span < float64((res.Client.Kit.TotalRunTime+time.Second)/time.Microsecond),
			"client worker %d: stamps span %v us, the run took %v", i+1, span, res.Client.Kit.TotalRunTime)
		total += samples
	}
	assert.Assert(t, strings.HasSuffix(res.ClientOut, fmt.Sprintf("%d intervals by %d workers\n", int(total), threads)), "the script's summary:\n%s", res.ClientOut)
	assert.Equal(t, res.ServerOut, "")
}
