package scenarios

import (
	"fmt"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
	"gotest.tools/v3/assert"

	"github.com/hookperf/hookperf/hooktest"
	"github.com/hookperf/hookperf/kit"
	"github.com/hookperf/hookperf/netns/nstest"
)

// ipv6Run runs workload w for d with testdata/ipv6.lua, the client
// reaching the server over IPv6 (or IPv4 if v4).
func ipv6Run(t testing.TB, topo *nstest.Topology, w kit.Workload, d time.Duration, v4 bool) *hooktest.Result {
	t.Helper()
	return hooktest.Run(t, topo, hooktest.Config{
		Script:   "testdata/ipv6.lua",
		Workload: w,
		IPv6:     !v4,
		Options:  func(o *kit.Options) { o.TestLength = d },
	})
}

// ipv6Keys lists the keys of each worker's collected table, sorted (an
// empty table may arrive as an empty list: no keys).
func ipv6Keys(perWorker []any) [][]string {
	out := [][]string{}
	for _, v := range perWorker {
		keys := []string{}
		if m, ok := v.(map[string]any); ok {
			for k := range m {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		out = append(out, keys)
	}
	return out
}

// TestIPv6: tcp_rr and udp_rr between the namespaces over IPv6. Both
// sides' socket hooks see AF_INET6 sockets; the server hears every
// request from the client's IPv6 address on the link (getpeername over
// TCP, the datagram's source over UDP) and sends every UDP response back
// there. The same runs over IPv4 show AF_INET and the IPv4 address, so
// the script tells the families apart.
func TestIPv6(t *testing.T) {
	topo := nstest.Pair(t, nstest.PairConfig{})
	for _, tc := range []struct {
		w  kit.Workload
		v4 bool
	}{
		{kit.TCPRR, false},
		{kit.UDPRR, false},
		{kit.TCPRR, true},
		{kit.UDPRR, true},
	} {
		family, client := unix.AF_INET6, topo.ClientAddr6
		name := fmt.Sprintf("%s over IPv6", tc.w)
		if tc.v4 {
			family, client = unix.AF_INET, topo.ClientAddr4
			name = fmt.Sprintf("%s over IPv4", tc.w)
		}
		t.Run(name, func(t *testing.T) {
			res := ipv6Run(t, topo, tc.w, 500*time.Millisecond, tc.v4)
			assert.Assert(t, res.Client.Kit.Transactions > 0, "no transaction")
			// One worker a side with one data socket each.
			fam := fmt.Sprint(family)
			peer := []string{fmt.Sprintf("%d %s", family, client)}
			var replies [][]string
			if tc.w.IsUDP() {
				replies = [][]string{peer}
			} else {
				replies = [][]string{{}} // TCP responses have no msg_name
			}
			want := map[string]any{
				"client socket families": []any{map[string]any{fam: 1.0}},
				"server socket families": []any{map[string]any{fam: 1.0}},
				"server read from":       [][]string{peer},
				"server replied to":      replies,
			}
			got := map[string]any{
				"client socket families": res.Client.Collected["families"],
				"server socket families": res.Server.Collected["families"],
				"server read from":       ipv6Keys(res.Server.Collected["peers"]),
				"server replied to":      ipv6Keys(res.Server.Collected["replies"]),
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("client %s, families and addresses seen as \"family address\" (-want +got):\n%s", client, diff)
			}
			if tc.w.IsUDP() {
				// Every datagram the server's kit read went through the hook.
				assert.Equal(t, hooktest.Sum(t, res.Server.Collected["peers"], peer[0]), float64(res.Server.Kit.PacketsRead),
					"requests the hook saw from %s vs datagrams the server's kit read", client)
			}
		})
	}
}

// BenchmarkIPv6 reports the transaction rate of 1 s of tcp_rr and of
// udp_rr between the namespaces over IPv6, through the script's hooks
// (trans/s, as the client counted them).
func BenchmarkIPv6(b *testing.B) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0)) // a run raises it
	topo := nstest.Pair(b, nstest.PairConfig{})
	for _, w := range []kit.Workload{kit.TCPRR, kit.UDPRR} {
		b.Run(string(w), func(b *testing.B) {
			var rate float64
			n := 0
			for b.Loop() {
				rate += ipv6Run(b, topo, w, time.Second, false).Client.Kit.Throughput
				n++
			}
			b.ReportMetric(rate/float64(n), "trans/s")
			b.ReportMetric(0, "ns/op") // a run lasts its test length
		})
	}
}
