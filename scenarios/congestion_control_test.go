package scenarios

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gotest.tools/v3/assert"

	"github.com/hookperf/hookperf/hooktest"
	"github.com/hookperf/hookperf/kit"
	"github.com/hookperf/hookperf/netns"
	"github.com/hookperf/hookperf/netns/nstest"
)

// congestionControlList reads one of the kernel's lists of congestion
// control algorithms (net.ipv4.tcp_available_congestion_control, ...).
// Both are the kernel's, not a namespace's: reading them from the host is
// reading them for every namespace.
func congestionControlList(t *testing.T, name string) []string {
	t.Helper()
	b, err := os.ReadFile("/proc/sys/net/ipv4/" + name)
	assert.NilError(t, err)
	return strings.Fields(string(b))
}

// congestionControlRun runs testdata/congestion-control.lua with
// TCP_CONGESTION = cc: tcp_rr, two flows.
func congestionControlRun(t *testing.T, topo *nstest.Topology, cc string) (*hooktest.Result, error) {
	t.Helper()
	return hooktest.Try(t, topo, hooktest.Config{
		Script:   "testdata/congestion-control.lua",
		Workload: kit.TCPRR,
		Args:     map[string]string{"cc": cc},
		Options: func(o *kit.Options) {
			o.TestLength = 500 * time.Millisecond
			o.NumFlows = 2
		},
	})
}

// TestCongestionControl: the socket hooks of both sides set
// TCP_CONGESTION on every data socket, and getsockopt reads back the same
// name on the server's listener and on both sides' connection sockets
// (the accepted ones inherit the listener's), for reno, cubic and bbr and
// whatever else the kernel offers. Each namespace's default
// (net.ipv4.tcp_congestion_control) is set to another algorithm first,
// which the new sockets must show before the hook changes it. An algorithm
// the kernel lacks fails the run with a message naming it.
//
// Not every available algorithm is allowed to everyone: an unprivileged
// socket may only choose those in net.ipv4.tcp_allowed_congestion_control
// (on this kernel "reno bbr", not cubic); the others need CAP_NET_ADMIN in
// the user namespace that owns the socket's network namespace. The suite
// has it, as root or as root of the user namespace nstest.Main runs it in,
// so every available algorithm must work here.
func TestCongestionControl(t *testing.T) {
	available := congestionControlList(t, "tcp_available_congestion_control")
	allowed := congestionControlList(t, "tcp_allowed_congestion_control")
	algorithms := []string{"reno", "cubic", "bbr"}
	for _, cc := range available {
		if !slices.Contains(algorithms, cc) {
			algorithms = append(algorithms, cc)
		}
	}
	topo := nstest.Pair(t, nstest.PairConfig{})
	for _, cc := range algorithms {
		t.Run(cc, func(t *testing.T) {
			if !slices.Contains(available, cc) {
				t.Skipf("this kernel has no %s (tcp_available_congestion_control: %v)", cc, available)
			}
			if !slices.Contains(allowed, cc) {
				t.Logf("%s is not in tcp_allowed_congestion_control %v: setting it takes CAP_NET_ADMIN in the namespace", cc, allowed)
			}
			// The namespaces' default: another algorithm, if the
			// kernel has another.
			def := "reno"
			if cc == def {
				if i := slices.IndexFunc(available, func(a string) bool { return a != cc }); i >= 0 {
					def = available[i]
				}
			}
			for _, ns := range []*netns.NS{topo.Server, topo.Client} {
				assert.NilError(t, ns.SetSysctl("net.ipv4.tcp_congestion_control", def))
			}
			res, err := congestionControlRun(t, topo, cc)
			assert.NilError(t, err, "server printed:\n%s", res.ServerOut)
			// One worker a side: its listener (server) or its two
			// connections (client) start with def; the two connections
			// of each side have cc.
			want := map[string][]any{
				"server default":     {map[string]any{def: 1.0}},
				"client default":     {map[string]any{def: 2.0}},
				"server listener":    {cc},
				"server connections": {map[string]any{cc: 2.0}},
				"client connections": {map[string]any{cc: 2.0}},
			}
			got := map[string][]any{
				"server default":     res.Server.Collected["defaults"],
				"client default":     res.Client.Collected["defaults"],
				"server listener":    res.Server.Collected["listener"],
				"server connections": res.Server.Collected["conns"],
				"client connections": res.Client.Collected["conns"],
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("TCP_CONGESTION read back, namespace default %q, set %q (-want +got):\n%s", def, cc, diff)
			}
			assert.Assert(t, res.Client.Kit.Transactions > 0, "no transaction with %s", cc)
		})
	}

	t.Run("unknown algorithm", func(t *testing.T) {
		const cc = "no-such-cc"
		res, err := congestionControlRun(t, topo, cc)
		assert.ErrorContains(t, err, "setsockopt TCP_CONGESTION "+cc+": no such file or directory",
			"setting %q must fail the run; the server printed:\n%s", cc, res.ServerOut)
	})
}
