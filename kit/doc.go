// Package kit is hookperf's benchmark engine: TCP and UDP workloads
// (tcp_rr, tcp_crr, tcp_stream, udp_rr, udp_stream) driven by one epoll
// loop per worker thread, a control connection that keeps client and
// server in step, and the statistics and reports of a run.
//
// Start with Options (DefaultOptions, then change what you need) and
// RunLocal, which runs a server and a client in this process and returns
// both sides' Result as values:
//
//	o := kit.DefaultOptions(kit.TCPRR)
//	o.TestLength = 2 * time.Second
//	o.Percentiles = []float64{50, 99}
//	res, err := kit.RunLocal(ctx, o, kit.SideConfig{}, kit.SideConfig{})
//	// res.Client.Throughput is transactions/s; res.Client.Latency the percentiles.
//
// Run runs one side (a server, or a client with Options.Client set), as
// the hookperf command does between two hosts.
//
// Each side takes a SideConfig: ThreadInit runs on every thread the side
// uses before it opens a socket (a test enters a network namespace there),
// and Hooks gives each worker a hook set (Hooks) that replaces the socket
// hooks and the read/write calls of the data path. With no hooks the data
// path makes the plain system calls and allocates nothing per packet.
package kit
