package netns_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gotest.tools/v3/assert"

	"github.com/hookperf/hookperf/netns"
	"github.com/hookperf/hookperf/netns/nstest"
)

// TestNewPair: the pair's addresses are the defaults or the config's, and
// Close closes both namespaces.
func TestNewPair(t *testing.T) {
	nstest.NS(t) // skips, with the reason, where namespaces are unavailable
	p, err := netns.NewPair(netns.PairConfig{MTU: 1400, LinkName: "wire0"})
	assert.NilError(t, err)
	s4, c4, s6, c6 := netns.DefaultPairPrefixes()
	assert.DeepEqual(t, []string{p.ServerAddr4.String(), p.ClientAddr4.String(), p.ServerAddr6.String(), p.ClientAddr6.String()},
		[]string{s4.Addr().String(), c4.Addr().String(), s6.Addr().String(), c6.Addr().String()})
	assert.Equal(t, p.ServerLink.Name, "wire0")
	mtu, err := p.ClientLink.MTU()
	assert.NilError(t, err)
	assert.Equal(t, mtu, 1400)
	assert.NilError(t, p.Close())
	assert.ErrorIs(t, p.Server.Enter(), netns.ErrClosed)
	assert.ErrorIs(t, p.Client.Enter(), netns.ErrClosed)
}

// TestPairApply applies one setting of each kind and reads each back from
// the kernel, on the hosts it names and only there.
func TestPairApply(t *testing.T) {
	p := nstest.Pair(t, nstest.PairConfig{})
	dir := t.TempDir()
	// htb: built into more kernels than fq (this CI's lacks fq and netem).
	htb, err := netns.ParseQdisc("htb rate 10gbit")
	assert.NilError(t, err)
	err = p.Apply(netns.Settings{
		MTU:     9000,
		Sysctls: []netns.HostSysctl{{Host: netns.ClientHost, Name: "net.ipv4.tcp_congestion_control", Value: "reno"}},
		Qdiscs:  []netns.HostQdisc{{Host: netns.ServerHost, Qdisc: htb}},
		Commands: []netns.HostCommand{{Host: netns.BothHosts,
			Line: `echo "$(readlink /proc/self/ns/net) $HOOKPERF_DEV $HOOKPERF_SERVER_ADDR4" > ` + dir + `/$HOOKPERF_HOST`}},
	})
	assert.NilError(t, err)

	for _, l := range []*netns.Link{p.ServerLink, p.ClientLink} {
		mtu, err := l.MTU()
		assert.NilError(t, err)
		assert.Equal(t, mtu, 9000)
	}
	client, err := p.Client.Sysctl("net.ipv4.tcp_congestion_control")
	assert.NilError(t, err)
	server, err := p.Server.Sysctl("net.ipv4.tcp_congestion_control")
	assert.NilError(t, err)
	assert.Equal(t, client, "reno")
	assert.Assert(t, server != "reno", "the client's sysctl reached the server")
	assert.Equal(t, rootQdisc(t, p.Server, p.ServerLink.Name).Type(), "htb")
	assert.Assert(t, rootQdisc(t, p.Client, p.ClientLink.Name).Type() != "htb", "the server's qdisc reached the client")

	// The command ran once in each host's namespace, and saw its variables.
	for host, ns := range map[string]*netns.NS{"server": p.Server, "client": p.Client} {
		b, err := os.ReadFile(filepath.Join(dir, host))
		assert.NilError(t, err)
		want := ns.String() + " veth0 " + p.ServerAddr4.String()
		if diff := cmp.Diff(want, strings.TrimSpace(string(b))); diff != "" {
			t.Errorf("%s's command saw (-want +got):\n%s", host, diff)
		}
	}
}

// TestPairApplyNftCost: the rules slow the client's traffic (the effect,
// not the ruleset, is what a user sees).
func TestPairApplyNftCost(t *testing.T) {
	p := nstest.Pair(t, nstest.PairConfig{})
	assert.NilError(t, p.Apply(netns.Settings{NftCosts: []netns.HostNftCost{{Host: netns.ClientHost, Rules: 20000}}}))
	present, rules, _ := costChain(t, p.Client)
	assert.Assert(t, present)
	assert.Equal(t, rules, 20000)
	serverHas, _, _ := costChain(t, p.Server)
	assert.Assert(t, !serverHas, "client: put rules on the server")
}

func TestPairApplyErrors(t *testing.T) {
	p := nstest.Pair(t, nstest.PairConfig{})
	for _, tc := range []struct {
		name string
		s    netns.Settings
		want []string
	}{
		{"no such sysctl", netns.Settings{Sysctls: []netns.HostSysctl{{Host: netns.ServerHost, Name: "net.ipv4.no_such_thing", Value: "1"}}},
			[]string{"server: ", "net.ipv4.no_such_thing"}},
		{"failing command", netns.Settings{Commands: []netns.HostCommand{{Host: netns.ClientHost, Line: "seq 3; echo 'the reason' >&2; exit 3"}}},
			[]string{"client: ", "exit status 3", "the reason"}},
		{"bad MTU", netns.Settings{MTU: 10}, []string{"MTU"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := p.Apply(tc.s)
			assert.Assert(t, err != nil)
			for _, w := range tc.want {
				assert.ErrorContains(t, err, w)
			}
			assert.Assert(t, !strings.Contains(err.Error(), "\n"), "only the output's last line: %q", err)
		})
	}
}

func TestParseQdisc(t *testing.T) {
	for _, tc := range []struct {
		spec string
		want netns.Qdisc
		err  string
	}{
		{"fq", netns.FQ{}, ""},
		{"fq maxrate 1gbit", netns.FQ{FlowMaxRate: netns.Gbit}, ""},
		{"tbf rate 100mbit", netns.TBF{Rate: 100 * netns.Mbit}, ""},
		{"tbf rate 1mbps burst 32kb latency 10ms", netns.TBF{Rate: 8 * netns.Mbit, Burst: 32 << 10, Latency: 10 * time.Millisecond}, ""},
		{"tbf rate 1gbit limit 1mb", netns.TBF{Rate: netns.Gbit, Limit: 1 << 20}, ""},
		{"htb rate 1gbit ceil 2gbit", netns.HTB{Rate: netns.Gbit, Ceil: 2 * netns.Gbit}, ""},
		{"netem delay 10ms", netns.Netem{Delay: 10 * time.Millisecond}, ""},
		{"netem delay 10ms 1ms loss 1%", netns.Netem{Delay: 10 * time.Millisecond, Jitter: time.Millisecond, Loss: 1}, ""},
		{"netem loss 0.5 limit 100", netns.Netem{Loss: 0.5, Limit: 100}, ""},
		{"NONE", netns.Delete{}, ""},
		{"", nil, "empty"},
		{"red", nil, `unknown kind "red"`},
		{"tbf", nil, "tbf needs a rate"},
		{"htb ceil 1gbit", nil, "htb needs a rate"},
		{"tbf rate", nil, "rate needs a value"},
		{"tbf rate fast", nil, `rate "fast"`},
		{"fq quantum 3000", nil, `unknown parameter "quantum"`},
		{"netem loss 120%", nil, "0..100"},
		{"netem delay soon", nil, `"soon": want a duration`},
		{"tbf rate 1gbit burst -3kb", nil, `size "-3kb"`},
	} {
		t.Run(tc.spec, func(t *testing.T) {
			got, err := netns.ParseQdisc(tc.spec)
			if tc.err != "" {
				assert.ErrorContains(t, err, tc.err)
				return
			}
			assert.NilError(t, err)
			assert.DeepEqual(t, got, tc.want)
		})
	}
}
