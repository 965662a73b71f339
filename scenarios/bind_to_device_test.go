package scenarios

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gotest.tools/v3/assert"

	"github.com/hookperf/hookperf/hooktest"
	"github.com/hookperf/hookperf/kit"
	"github.com/hookperf/hookperf/netns"
	"github.com/hookperf/hookperf/netns/nstest"
)

// bindRushitExample is rushit's own bind-to-device.lua, run unchanged
// when RUSHIT_EXAMPLES names the examples directory of a copy of rushit
// (as for ./examples); "" when it is not set.
func bindRushitExample() string {
	dir := os.Getenv("RUSHIT_EXAMPLES")
	if dir == "" {
		return ""
	}
	return filepath.Join(dir, "bind-to-device.lua")
}

// bindSameHost is topo with the client moved into the server's namespace:
// it reaches the server's address over lo, not over the veth link.
func bindSameHost(topo *nstest.Topology) *nstest.Topology {
	same := *topo
	same.Client, same.ClientLink = topo.Server, topo.ServerLink
	same.ClientAddr4, same.ClientAddr6 = topo.ServerAddr4, topo.ServerAddr6
	return &same
}

// bindOtherWay is topo with the client moved to a third namespace,
// "other", that reaches the server's address over a second link: other's
// veth0 (10.99.0.3/32) to the server's veth1, with host routes both ways.
// The server's address is the same; the device it arrives on is not.
func bindOtherWay(t *testing.T, topo *nstest.Topology) *nstest.Topology {
	t.Helper()
	other := nstest.NS(t)
	otherAddr := netip.MustParsePrefix("10.99.0.3/32")
	srvEnd, otherEnd, err := netns.Veth(topo.Server, other, netns.VethConfig{
		NameA: "veth1", NameB: "veth0", AddrsB: []netip.Prefix{otherAddr},
	})
	assert.NilError(t, err)
	assert.NilError(t, other.AddRoute(netip.PrefixFrom(topo.ServerAddr4, 32), netip.Addr{}, otherEnd.Name))
	assert.NilError(t, topo.Server.AddRoute(otherAddr, netip.Addr{}, srvEnd.Name))
	return &nstest.Topology{
		Server: topo.Server, Client: other,
		ServerLink: srvEnd, ClientLink: otherEnd,
		ServerAddr4: topo.ServerAddr4, ClientAddr4: otherAddr.Addr(),
	}
}

// TestBindToDevice: a server whose data sockets are bound to its end of
// the veth link (SO_BINDTODEVICE) serves the client in the peer
// namespace, and not a client whose packets come in on another device.
func TestBindToDevice(t *testing.T) {
	topo := nstest.Pair(t, nstest.PairConfig{})
	dev := topo.ServerLink.Name
	args := map[string]string{"dev": dev}
	const threads = 2
	short := func(o *kit.Options) {
		o.TestLength = 500 * time.Millisecond
		o.NumThreads, o.NumFlows = threads, threads
		// UDP: datagrams that fit the link's MTU. The default 16 KiB are
		// sent in fragments, and the few that fail reassembly under load
		// would be missing from the count below.
		o.BufferSize = 1400
	}
	wantBound := []any{dev, dev}
	other := bindOtherWay(t, topo)

	t.Run("peer over veth0 is served", func(t *testing.T) {
		res := hooktest.Run(t, topo, hooktest.Config{
			Script: "testdata/bind-to-device.lua", Workload: kit.TCPRR, Args: args, Options: short,
		})
		if diff := cmp.Diff(wantBound, res.Server.Collected["bound"]); diff != "" {
			t.Errorf("devices the server's sockets read back (-want +got):\n%s", diff)
		}
		assert.Assert(t, res.Client.Kit.Transactions > 0, "the client in the peer namespace completed no transaction through %s", dev)
		assert.Equal(t, res.ServerOut, fmt.Sprintf("server worker 1: bound to %q\nserver worker 2: bound to %q\n", dev, dev))
	})

	t.Run("tcp over another link is refused", func(t *testing.T) {
		start := time.Now()
		res, err := hooktest.Try(t, other, hooktest.Config{
			Script: "testdata/bind-to-device.lua", Workload: kit.TCPRR, Args: args, Options: short,
			Timeout: 15 * time.Second,
		})
		took := time.Since(start)
		t.Logf("the run ended after %v: %v", took, err)
		// The control connection (not bound) gets through; the flows'
		// SYNs come in on veth1, the listening socket ignores them, the
		// kernel resets: connection refused before any transaction.
		assert.Assert(t, errors.Is(err, syscall.ECONNREFUSED),
			"a TCP client coming in on veth1 to a server bound to %s: want connection refused, got %v", dev, err)
		if res.Client != nil {
			assert.Equal(t, res.Client.Kit.Transactions, uint64(0), "transactions through veth1")
		}
		assert.Assert(t, took < 5*time.Second, "the refused run took %v", took)
	})

	t.Run("udp over another link reaches nobody", func(t *testing.T) {
		noPorts0, link0 := dropsUDPCounters(t, topo)["NoPorts"], dropsLinkDrops(t, other)
		res := hooktest.Run(t, other, hooktest.Config{
			Script: "testdata/bind-to-device.lua", Workload: kit.UDPStream, Args: args, Options: short,
		})
		if diff := cmp.Diff(wantBound, res.Server.Collected["bound"]); diff != "" {
			t.Errorf("devices the server's sockets read back (-want +got):\n%s", diff)
		}
		// The client writes (the port unreachable answers are no failure
		// of udp_stream), and not one datagram reaches the server.
		assert.Assert(t, res.Client.Kit.PacketsWritten > 0, "the client on veth1 sent nothing")
		assert.Equal(t, res.Server.Kit.PacketsRead, uint64(0),
			"datagrams read that came in on veth1 to a server bound to %s (the client wrote %d)", dev, res.Client.Kit.PacketsWritten)
		// Every one of them arrived in the server's namespace and found no
		// socket (the kernel's UDP NoPorts), unless the link dropped it.
		noPorts := dropsUDPCounters(t, topo)["NoPorts"] - noPorts0
		link := dropsLinkDrops(t, other) - link0
		assert.Equal(t, noPorts+link, res.Client.Kit.PacketsWritten,
			"datagrams the server's namespace found no socket for (%d) + dropped by the link (%d) vs written by the client", noPorts, link)
	})

	t.Run("control: bound to veth1, the other link is served", func(t *testing.T) {
		// The same paths, the server bound to the device they come in on:
		// what kept them out above was the binding, not the routes.
		res := hooktest.Run(t, other, hooktest.Config{
			Script: "testdata/bind-to-device.lua", Workload: kit.TCPRR, Args: map[string]string{"dev": "veth1"}, Options: short,
		})
		if diff := cmp.Diff([]any{"veth1", "veth1"}, res.Server.Collected["bound"]); diff != "" {
			t.Errorf("devices the server's sockets read back (-want +got):\n%s", diff)
		}
		assert.Assert(t, res.Client.Kit.Transactions > 0, "the client on the other link completed no transaction with a server bound to veth1")
	})

	t.Run("same host over lo is served", func(t *testing.T) {
		// Not another way in, for the kernel: traffic from the server's
		// own namespace to veth0's address travels over lo, but the
		// kernel attributes it to the device that owns the address
		// (ip_route_output_key_hash_rcu sets orig_oif to the FIB
		// result's device for local routes, since Linux 4.14), so a
		// socket bound to veth0 takes it.
		res := hooktest.Run(t, bindSameHost(topo), hooktest.Config{
			Script: "testdata/bind-to-device.lua", Workload: kit.TCPRR, Args: args, Options: short,
		})
		assert.Assert(t, res.Client.Kit.Transactions > 0, "a client in the server's namespace, to %s's address over lo: no transaction", dev)
	})

	t.Run("rushit's example unchanged", func(t *testing.T) {
		script := bindRushitExample()
		if script == "" {
			t.Skip("RUSHIT_EXAMPLES is not set: set it to the examples directory of a copy of rushit to run its bind-to-device.lua unchanged")
		}
		if _, err := os.Stat(script); err != nil {
			t.Fatalf("RUSHIT_EXAMPLES has no bind-to-device.lua: %v", err)
		}
		// It hard-codes "veth0", nstest's default link name.
		assert.Equal(t, dev, "veth0")
		res := hooktest.Run(t, topo, hooktest.Config{Script: script, Workload: kit.UDPStream, Options: short})
		assert.Assert(t, res.Server.Kit.PacketsRead > 0, "the server bound by rushit's script read nothing from the peer namespace (the client wrote %d)", res.Client.Kit.PacketsWritten)
		res = hooktest.Run(t, other, hooktest.Config{Script: script, Workload: kit.UDPStream, Options: short})
		assert.Assert(t, res.Client.Kit.PacketsWritten > 0, "the client on veth1 sent nothing")
		assert.Equal(t, res.Server.Kit.PacketsRead, uint64(0), "datagrams read that came in on veth1 to a server rushit's script bound to veth0")
	})
}
