package kit_test

import (
	"context"
	"fmt"

	"github.com/hookperf/hookperf/kit"
)

// Run a tcp_rr test of exactly 1000 transactions over loopback, both sides
// in this process, and read the figures as values.
func ExampleRunLocal() {
	o := kit.DefaultOptions(kit.TCPRR)
	o.TestLength, o.Transactions = 0, 1000 // as -l -1000
	o.NumFlows = 4
	o.Percentiles = []float64{50, 99}
	res, err := kit.RunLocal(context.Background(), o, kit.SideConfig{}, kit.SideConfig{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("client transactions:", res.Client.Transactions)
	fmt.Println("server transactions:", res.Server.Transactions)
	fmt.Println("latencies measured:", res.Client.Latency.Count)
	fmt.Println("p99 >= p50:", res.Client.Latency.Percentiles[1].Value >= res.Client.Latency.Percentiles[0].Value)
	// Output:
	// client transactions: 1000
	// server transactions: 1000
	// latencies measured: 1000
	// p99 >= p50: true
}

// Count the bytes a client sends through a hook written in Go.
func ExampleHookProviderFunc() {
	sent := make([]int, 2) // one counter per worker: hooks never share state across workers
	hooks := kit.HookProviderFunc(func(w kit.WorkerInfo) (*kit.Hooks, error) {
		return &kit.Hooks{SendMsg: func(fd int, m *kit.Msg, flags int) (int, error) {
			n, err := kit.SendMsg(fd, m, flags)
			if n > 0 {
				sent[w.Index] += n
			}
			return n, err
		}}, nil
	})
	o := kit.DefaultOptions(kit.TCPRR)
	o.TestLength, o.Transactions = 0, 100
	o.NumFlows, o.NumThreads, o.RequestSize = 2, 2, 64
	if _, err := kit.RunLocal(context.Background(), o, kit.SideConfig{}, kit.SideConfig{Hooks: hooks}); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(sent[0]+sent[1], "bytes sent in", o.Transactions, "requests")
	// Output: 6400 bytes sent in 100 requests
}
