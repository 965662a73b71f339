package netns

import (
	"encoding/binary"
	"fmt"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
)

// nftTable names the table AddNftCost installs.
const nftTable = "hookperf_cost"

// AddNftCost installs in ns an nftables output chain of n rules that
// match no packet (each compares the packet's mark with a value no packet
// carries), so that every packet ns sends pays for n rule evaluations: a
// kernel-side cost of known size, to inject a regression. It returns a
// function that removes the table again. n = 0 installs nothing.
func (ns *NS) AddNftCost(n int) (remove func() error, err error) {
	if n <= 0 {
		return func() error { return nil }, nil
	}
	ns.mu.Lock()
	fd := ns.fd
	ns.mu.Unlock()
	if fd < 0 {
		return nil, ErrClosed
	}
	conn, err := nftables.New(nftables.WithNetNSFd(fd))
	if err != nil {
		return nil, fmt.Errorf("netns: nftables: %w", err)
	}
	table := conn.AddTable(&nftables.Table{Name: nftTable, Family: nftables.TableFamilyINet})
	chain := conn.AddChain(&nftables.Chain{
		Name: "output", Table: table, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookOutput, Priority: nftables.ChainPriorityFilter,
	})
	mark := make([]byte, 4)
	binary.NativeEndian.PutUint32(mark, 0x7e57c057) // a mark nothing sets
	for i := 0; i < n; i++ {
		conn.AddRule(&nftables.Rule{Table: table, Chain: chain, Exprs: []expr.Any{
			&expr.Meta{Key: expr.MetaKeyMARK, Register: 1},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: mark},
			&expr.Verdict{Kind: expr.VerdictDrop},
		}})
		if (i+1)%100 == 0 { // keep each netlink batch small
			if err := conn.Flush(); err != nil {
				return nil, fmt.Errorf("netns: nftables: add rules: %w", err)
			}
		}
	}
	if err := conn.Flush(); err != nil {
		return nil, fmt.Errorf("netns: nftables: add %d rules: %w", n, err)
	}
	return func() error {
		conn.DelTable(table)
		if err := conn.Flush(); err != nil {
			return fmt.Errorf("netns: nftables: remove the cost table: %w", err)
		}
		return nil
	}, nil
}
