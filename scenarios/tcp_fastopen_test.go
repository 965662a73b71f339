package scenarios

import (
	"fmt"
	"testing"
	"time"

	"gotest.tools/v3/assert"

	"github.com/hookperf/hookperf/hooktest"
	"github.com/hookperf/hookperf/kit"
	"github.com/hookperf/hookperf/netns"
	"github.com/hookperf/hookperf/netns/nstest"
)

// TestTCPFastOpen: with -X (kit.Options.TCPFastOpen) a tcp_crr client's
// connections carry their request on the SYN once the first has fetched
// a cookie, as the kernel counts them (TcpExtTCPFastOpenActive in the
// client's namespace, TcpExtTCPFastOpenPassive in the server's); without
// it no connection does. Both namespaces allow TFO
// (net.ipv4.tcp_fastopen=3).
func TestTCPFastOpen(t *testing.T) {
	for _, tfo := range []bool{false, true} {
		t.Run(fmt.Sprintf("tfo=%v", tfo), func(t *testing.T) {
			topo := nstest.Pair(t, nstest.PairConfig{})
			assert.NilError(t, topo.Apply(netns.Settings{Sysctls: []netns.HostSysctl{
				{Host: netns.BothHosts, Name: "net.ipv4.tcp_fastopen", Value: "3"},
			}}))
			active := func() uint64 { return netstat(t, topo.Client, "TcpExt", "TCPFastOpenActive") }
			passive := func() uint64 { return netstat(t, topo.Server, "TcpExt", "TCPFastOpenPassive") }
			a0, p0 := active(), passive()
			res := hooktest.Run(t, topo, hooktest.Config{Workload: kit.TCPCRR, Options: func(o *kit.Options) {
				o.TestLength = 500 * time.Millisecond
				o.TCPFastOpen = tfo
			}})
			conns := res.Client.Kit.Connections
			a, p := active()-a0, passive()-p0
			if !tfo {
				assert.Equal(t, a, uint64(0))
				assert.Equal(t, p, uint64(0))
				return
			}
			// Every connection but the first (which fetched the cookie).
			assert.Assert(t, conns > 10 && a >= conns-1 && a <= conns, "%d TFO connections of %d", a, conns)
			assert.Assert(t, p >= conns-1 && p <= conns, "%d TFO connections accepted of %d", p, conns)
		})
	}
}

// netstat reads one counter of /proc/net/netstat in ns, e.g. TcpExt's
// TCPFastOpenActive.
func netstat(t *testing.T, ns *netns.NS, prefix, name string) uint64 {
	t.Helper()
	v, ok := procCounters(t, ns, "netstat", prefix)[name]
	assert.Assert(t, ok, "%s: no %s", prefix, name)
	return v
}
