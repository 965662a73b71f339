package scenarios

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
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

// netstat reads a counter of /proc/net/netstat (or snmp) in ns: a line of
// names under a prefix ("TcpExt:"), then a line of values.
func netstat(t *testing.T, ns *netns.NS, prefix, name string) uint64 {
	t.Helper()
	var v uint64
	err := ns.Do(func() error {
		f, err := os.Open("/proc/thread-self/net/netstat")
		if err != nil {
			return err
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		var names []string
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) == 0 || fields[0] != prefix+":" {
				continue
			}
			if names == nil {
				names = fields[1:]
				continue
			}
			for i, n := range names {
				if n == name && i+1 < len(fields) {
					v, err = strconv.ParseUint(fields[i+1], 10, 64)
					return err
				}
			}
			return fmt.Errorf("%s: no %s", prefix, name)
		}
		return fmt.Errorf("no %s line", prefix)
	})
	assert.NilError(t, err)
	return v
}
