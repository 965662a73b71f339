package scenarios

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"gotest.tools/v3/assert"

	"github.com/hookperf/hookperf/hooktest"
	"github.com/hookperf/hookperf/kit"
	"github.com/hookperf/hookperf/luahooks"
	"github.com/hookperf/hookperf/netns/nstest"
)

// TestSourceAddress: the server checks each datagram's source address in
// a recvmsg hook. From the client namespace's address every datagram
// passes, and the hook saw every datagram the kit counted; told to expect
// another address, the server ends the run with os.exit(1) at the first
// datagram, naming both addresses.
func TestSourceAddress(t *testing.T) {
	topo := nstest.Pair(t, nstest.PairConfig{})
	cfg := func(src string, threads int) hooktest.Config {
		return hooktest.Config{
			Script:   "testdata/source-address.lua",
			Workload: kit.UDPStream,
			Args:     map[string]string{"src": src},
			Options: func(o *kit.Options) {
				o.TestLength = time.Second
				o.NumThreads, o.NumFlows = threads, 2*threads
				o.BufferSize = 1400 // one datagram, one packet: no fragments
			},
		}
	}

	t.Run("the client's address passes", func(t *testing.T) {
		const threads = 2
		res := hooktest.Run(t, topo, cfg(topo.ClientAddr4.String(), threads))
		checked := res.Server.Collected["checked"]
		assert.Equal(t, len(checked), threads, "one count per server worker: %v", checked)
		for i, v := range checked {
			n, ok := v.(float64)
			assert.Assert(t, ok, "server worker %d's count is a %T: %v", i+1, v, v)
			assert.Assert(t, n > 0, "server worker %d checked no datagram (counts %v; the server read %d datagrams, the client wrote %d)",
				i+1, checked, res.Server.Kit.PacketsRead, res.Client.Kit.PacketsWritten)
		}
		// Every datagram the server read went through the check.
		sum := hooktest.Sum(t, checked, "")
		assert.Equal(t, sum, float64(res.Server.Kit.PacketsRead),
			"datagrams checked by the hook vs read by the server's kit")
		assert.Equal(t, res.ServerOut, fmt.Sprintf("source address check: %d datagrams from %s\n", int(sum), topo.ClientAddr4))
	})

	t.Run("a wrong address ends the run", func(t *testing.T) {
		const wrong = "10.99.0.99"
		res, err := hooktest.Try(t, topo, cfg(wrong, 1))
		var exit *luahooks.ExitError
		assert.Assert(t, errors.As(err, &exit), "expecting source %s (the client is %s): want the script's os.exit(1), got %v",
			wrong, topo.ClientAddr4, err)
		assert.Equal(t, exit.Code, 1)
		// One worker: the first datagram ends it, one line.
		assert.Equal(t, res.ServerOut, fmt.Sprintf("source address check: expected %s, got %s\n", wrong, topo.ClientAddr4))
	})
}
