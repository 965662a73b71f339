package netns_test

import (
	"testing"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"gotest.tools/v3/assert"

	"github.com/hookperf/hookperf/hooktest"
	"github.com/hookperf/hookperf/kit"
	"github.com/hookperf/hookperf/netns"
	"github.com/hookperf/hookperf/netns/nstest"
)

// costChain reads the cost table AddNftCost installs in ns: whether it is
// there, its output chain's rules, and the packets a counter rule at its
// end has counted (0 without one).
func costChain(t *testing.T, ns *netns.NS) (present bool, rules int, counted uint64) {
	t.Helper()
	assert.NilError(t, ns.Do(func() error {
		conn, err := nftables.New()
		if err != nil {
			return err
		}
		tables, err := conn.ListTablesOfFamily(nftables.TableFamilyINet)
		if err != nil {
			return err
		}
		for _, tb := range tables {
			if tb.Name != "hookperf_cost" {
				continue
			}
			present = true
			chain, err := conn.ListChain(tb, "output")
			if err != nil {
				return err
			}
			if chain.Hooknum == nil || *chain.Hooknum != *nftables.ChainHookOutput {
				t.Errorf("the cost chain hooks %v, not output", chain.Hooknum)
			}
			rs, err := conn.GetRules(tb, chain)
			if err != nil {
				return err
			}
			rules = len(rs)
			for _, r := range rs {
				for _, e := range r.Exprs {
					if c, ok := e.(*expr.Counter); ok {
						counted += c.Packets
					}
				}
			}
		}
		return nil
	}))
	return present, rules, counted
}

// addCounter appends a rule that counts every packet to the cost chain:
// a packet it counts went through every rule before it.
func addCounter(t *testing.T, ns *netns.NS) {
	t.Helper()
	assert.NilError(t, ns.Do(func() error {
		conn, err := nftables.New()
		if err != nil {
			return err
		}
		table := &nftables.Table{Name: "hookperf_cost", Family: nftables.TableFamilyINet}
		conn.AddRule(&nftables.Rule{Table: table, Chain: &nftables.Chain{Name: "output", Table: table}, Exprs: []expr.Any{&expr.Counter{}}})
		return conn.Flush()
	}))
}

// TestNftCost: AddNftCost puts n rules on the client's output path, every
// packet the client sends goes through them (a counter after them counts
// the run's packets), and removing them leaves nothing. (What they cost
// is measured by make gate-power, not asserted here.)
func TestNftCost(t *testing.T) {
	topo := nstest.Pair(t, nstest.PairConfig{})
	remove, err := topo.Client.AddNftCost(20000)
	assert.NilError(t, err)
	present, rules, _ := costChain(t, topo.Client)
	assert.Assert(t, present)
	assert.Equal(t, rules, 20000)
	addCounter(t, topo.Client)
	rr := hooktest.Config{Workload: kit.TCPRR, Options: func(o *kit.Options) { o.TestLength, o.Transactions = 0, 200 }}
	hooktest.Run(t, topo, rr)
	_, rules, counted := costChain(t, topo.Client)
	assert.Equal(t, rules, 20001)
	// 200 requests, the handshake and the control connection's messages.
	assert.Assert(t, counted >= 200, "the counter after the rules saw %d packets", counted)
	serverHas, _, _ := costChain(t, topo.Server)
	assert.Assert(t, !serverHas, "the server has the client's rules")

	assert.NilError(t, remove())
	present, _, _ = costChain(t, topo.Client)
	assert.Assert(t, !present, "the table outlived its removal")
	zero, err := topo.Client.AddNftCost(0)
	assert.NilError(t, err)
	assert.NilError(t, zero())
	present, _, _ = costChain(t, topo.Client)
	assert.Assert(t, !present, "0 rules installed a table")
}
