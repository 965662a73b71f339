// Package netns builds small networks out of Linux network namespaces for
// tests and benchmarks: namespaces with loopback up, veth pairs carrying
// IPv4 and IPv6 addresses, routes, MTUs, per-namespace sysctls and root
// qdiscs.
//
// Start with [NS]. A namespace is held by a file descriptor and has no name
// in /run/netns, so nothing outlives the process: when the last NS is
// closed (or the process dies) the kernel destroys the namespace and the
// links in it.
//
// A network namespace belongs to an OS thread, not to a goroutine. This
// package never switches the calling goroutine's thread:
//
//   - [New] creates the namespace on a throwaway locked thread that exits
//     afterwards;
//   - [NS.Do] runs a function on a fresh locked thread inside the
//     namespace, and discards that thread when the function returns;
//   - [NS.Handle] and everything built on it ([Veth], [NS.AddRoute],
//     [NS.SetQdisc], [Link.SetMTU]) configure the namespace over netlink
//     sockets that were opened inside it, from any thread;
//   - [NS.Enter] is the one exception, meant for kit.SideConfig.ThreadInit:
//     it moves the calling thread, which must be locked and must never be
//     unlocked again, so that it dies with its goroutine.
//
// Importing this package locks the main goroutine to the main thread (in
// init), because the runtime cannot retire the main thread: a goroutine
// that entered a namespace there would leave it wedged in that namespace.
// [NS.Enter] refuses to run on the main thread.
//
// A test usually wants two hosts on one link; package nstest gives it one,
// cleaned up with t.Cleanup, and runs unprivileged tests in a user
// namespace:
//
//	func TestMain(m *testing.M) { nstest.Main(m) }
//
//	func TestEcho(t *testing.T) {
//		topo := nstest.Pair(t, nstest.PairConfig{MTU: 1500})
//		err := topo.Server.Do(func() error {
//			ln, err := net.Listen("tcp", netip.AddrPortFrom(topo.ServerAddr4, 5001).String())
//			...
//		})
//	}
//
// Without nstest, the building blocks are:
//
//	a, err := netns.New()
//	...
//	defer a.Close()
//	la, lb, err := netns.Veth(a, b, netns.VethConfig{
//		AddrsA: []netip.Prefix{netip.MustParsePrefix("10.99.0.1/24")},
//		AddrsB: []netip.Prefix{netip.MustParsePrefix("10.99.0.2/24")},
//	})
//	err = a.SetQdisc(la.Name, netns.TBF{Rate: 100 * netns.Mbit})
//	err = b.SetSysctl("net.ipv4.tcp_congestion_control", "reno")
//	res, err := kit.Run(ctx, opts, kit.SideConfig{ThreadInit: b.Enter})
//
// Sysctls that the kernel keeps global (net.core.rmem_max, for one) are
// refused with [ErrGlobalSysctl] instead of changing the host; qdiscs the
// kernel lacks are refused with [ErrUnsupported].
package netns
