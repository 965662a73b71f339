package netns_test

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
	"gotest.tools/v3/assert"

	"github.com/hookperf/hookperf/netns"
	"github.com/hookperf/hookperf/netns/nstest"
)

var (
	server4 = netip.MustParsePrefix("10.99.0.1/24")
	client4 = netip.MustParsePrefix("10.99.0.2/24")
	server6 = netip.MustParsePrefix("fd00:99::1/64")
	client6 = netip.MustParsePrefix("fd00:99::2/64")
)

// equateNet lets cmp compare netip values.
var equateNet = cmpopts.EquateComparable(netip.Addr{}, netip.Prefix{})

// vethPair joins two new namespaces with a veth pair carrying IPv4 and
// IPv6 addresses.
func vethPair(t *testing.T, cfg netns.VethConfig) (a, b *netns.NS, la, lb *netns.Link) {
	t.Helper()
	a, b = nstest.NS(t), nstest.NS(t)
	if cfg.AddrsA == nil && cfg.AddrsB == nil {
		cfg.AddrsA = []netip.Prefix{server4, server6}
		cfg.AddrsB = []netip.Prefix{client4, client6}
	}
	la, lb, err := netns.Veth(a, b, cfg)
	assert.NilError(t, err)
	return a, b, la, lb
}

// exchange sends a message from a socket made in client to a server
// socket made in server, listening on serverAddr, and returns the source
// address the server saw. The reply must come back.
func exchange(t *testing.T, network string, server, client *netns.NS, serverAddr netip.Addr) netip.Addr {
	t.Helper()
	listen := netip.AddrPortFrom(serverAddr, 0).String()
	var peer netip.Addr
	switch network {
	case "tcp":
		var ln net.Listener
		assert.NilError(t, server.Do(func() (err error) {
			if err := inNS(server); err != nil {
				return err
			}
			ln, err = net.Listen("tcp", listen)
			return err
		}))
		defer ln.Close()
		seen := make(chan netip.Addr, 1)
		go func() {
			defer close(seen)
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
			buf := make([]byte, 64)
			n, _ := c.Read(buf)
			c.Write(append([]byte("echo:"), buf[:n]...))
			seen <- c.RemoteAddr().(*net.TCPAddr).AddrPort().Addr()
		}()
		var c net.Conn
		assert.NilError(t, client.Do(func() (err error) {
			if err := inNS(client); err != nil {
				return err
			}
			c, err = net.DialTimeout("tcp", ln.Addr().String(), 10*time.Second)
			return err
		}))
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		_, err := c.Write([]byte("hello"))
		assert.NilError(t, err)
		buf := make([]byte, 64)
		n, err := c.Read(buf)
		assert.NilError(t, err)
		assert.Equal(t, string(buf[:n]), "echo:hello")
		peer = <-seen
	case "udp":
		var sc *net.UDPConn
		assert.NilError(t, server.Do(func() (err error) {
			if err := inNS(server); err != nil {
				return err
			}
			sc, err = net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort(listen)))
			return err
		}))
		defer sc.Close()
		var cc *net.UDPConn
		assert.NilError(t, client.Do(func() (err error) {
			if err := inNS(client); err != nil {
				return err
			}
			cc, err = net.DialUDP("udp", nil, sc.LocalAddr().(*net.UDPAddr))
			return err
		}))
		defer cc.Close()
		sc.SetDeadline(time.Now().Add(10 * time.Second))
		cc.SetDeadline(time.Now().Add(10 * time.Second))
		_, err := cc.Write([]byte("hello"))
		assert.NilError(t, err)
		buf := make([]byte, 64)
		n, from, err := sc.ReadFromUDPAddrPort(buf)
		assert.NilError(t, err)
		assert.Equal(t, string(buf[:n]), "hello")
		_, err = sc.WriteToUDPAddrPort([]byte("echo:hello"), from)
		assert.NilError(t, err)
		n, err = cc.Read(buf)
		assert.NilError(t, err)
		assert.Equal(t, string(buf[:n]), "echo:hello")
		peer = from.Addr()
	}
	return peer.Unmap()
}

// TestVethTraffic sends real traffic across the veth pair, both ways, in
// both families and over TCP and UDP.
func TestVethTraffic(t *testing.T) {
	a, b, _, _ := vethPair(t, netns.VethConfig{})
	for _, tc := range []struct {
		name, network    string
		server, client   *netns.NS
		serverAddr, from netip.Addr
	}{
		{"tcp4 b to a", "tcp", a, b, server4.Addr(), client4.Addr()},
		{"udp4 b to a", "udp", a, b, server4.Addr(), client4.Addr()},
		{"tcp6 b to a", "tcp", a, b, server6.Addr(), client6.Addr()},
		{"udp6 b to a", "udp", a, b, server6.Addr(), client6.Addr()},
		{"tcp4 a to b", "tcp", b, a, client4.Addr(), server4.Addr()},
		{"udp6 a to b", "udp", b, a, client6.Addr(), server6.Addr()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := exchange(t, tc.network, tc.server, tc.client, tc.serverAddr)
			assert.Equal(t, got, tc.from, "the server saw the peer's address on the link")
		})
	}
}

// TestVethIsolated checks that only the pair reaches it: a third
// namespace has no route to it, and the addresses are not the host's
// (checked with bind, which sends nothing: the host's own routes would
// lead out of the machine).
func TestVethIsolated(t *testing.T) {
	_, _, _, _ = vethPair(t, netns.VethConfig{})
	third := nstest.NS(t)
	for _, addr := range []netip.Addr{server4.Addr(), server6.Addr()} {
		t.Run(addr.String(), func(t *testing.T) {
			err := third.Do(func() error {
				if err := inNS(third); err != nil {
					return err
				}
				c, err := net.DialTimeout("tcp", netip.AddrPortFrom(addr, 9).String(), 5*time.Second)
				if err == nil {
					c.Close()
				}
				return err
			})
			assert.ErrorIs(t, err, unix.ENETUNREACH, "from a third namespace")

			ln, err := net.Listen("tcp", netip.AddrPortFrom(addr, 0).String())
			if err == nil {
				ln.Close()
			}
			assert.ErrorIs(t, err, unix.EADDRNOTAVAIL, "the address must not be the host's")
		})
	}
}

func TestVethConfig(t *testing.T) {
	for _, tc := range []struct {
		name         string
		cfg          netns.VethConfig
		nameA, nameB string
		mtu          int
	}{
		{"defaults", netns.VethConfig{}, "veth0", "veth0", 1500},
		{"names and MTU", netns.VethConfig{NameA: "srv", NameB: "cli", MTU: 9000}, "srv", "cli", 9000},
		{"small MTU", netns.VethConfig{MTU: 1280}, "veth0", "veth0", 1280},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b, la, lb := vethPair(t, tc.cfg)
			for _, end := range []struct {
				ns   *netns.NS
				link *netns.Link
				name string
			}{{a, la, tc.nameA}, {b, lb, tc.nameB}} {
				assert.Equal(t, end.link.Name, end.name)
				assert.Equal(t, end.link.NS, end.ns)
				h, err := end.ns.Handle()
				assert.NilError(t, err)
				l, err := h.LinkByName(end.name)
				assert.NilError(t, err)
				assert.Equal(t, l.Type(), "veth")
				assert.Equal(t, l.Attrs().Index, end.link.Index)
				assert.Equal(t, l.Attrs().MTU, tc.mtu)
				assert.Assert(t, l.Attrs().Flags&net.FlagUp != 0, "%s is up", end.name)
			}
			if diff := cmp.Diff([]netip.Prefix{server4, server6}, la.Addrs, equateNet); diff != "" {
				t.Errorf("Link.Addrs (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]netip.Prefix{server4, server6}, kernelAddrs(t, la), equateNet); diff != "" {
				t.Errorf("addresses in the kernel (-want +got):\n%s", diff)
			}
		})
	}
}

// kernelAddrs reads a link's global addresses back over netlink.
func kernelAddrs(t *testing.T, l *netns.Link) []netip.Prefix {
	t.Helper()
	h, err := l.NS.Handle()
	assert.NilError(t, err)
	nl, err := h.LinkByIndex(l.Index)
	assert.NilError(t, err)
	addrs, err := h.AddrList(nl, netlink.FAMILY_ALL)
	assert.NilError(t, err)
	var got []netip.Prefix
	for _, a := range addrs {
		ip, _ := netip.AddrFromSlice(a.IP)
		if ip.IsLinkLocalUnicast() {
			continue
		}
		bits, _ := a.Mask.Size()
		got = append(got, netip.PrefixFrom(ip.Unmap(), bits))
		if ip.Is6() && !ip.Is4In6() {
			assert.Assert(t, a.Flags&unix.IFA_F_TENTATIVE == 0, "%s must be usable at once (nodad)", ip)
		}
	}
	slices.SortFunc(got, func(x, y netip.Prefix) int { return x.Addr().Compare(y.Addr()) })
	return got
}

func TestVethErrors(t *testing.T) {
	a := nstest.NS(t)
	_, _, err := netns.Veth(a, a, netns.VethConfig{})
	assert.ErrorContains(t, err, "different names")
	_, _, err = netns.Veth(a, a, netns.VethConfig{NameA: "x0", NameB: "x1", MTU: -1})
	assert.ErrorContains(t, err, "negative MTU")
	// Same namespace, different names: allowed.
	la, lb, err := netns.Veth(a, a, netns.VethConfig{NameA: "x0", NameB: "x1"})
	assert.NilError(t, err)
	assert.Equal(t, la.NS, lb.NS)
	// A name taken: error, and nothing half-made left.
	b := nstest.NS(t)
	_, _, err = netns.Veth(a, b, netns.VethConfig{NameA: "x0"})
	assert.ErrorIs(t, err, unix.EEXIST)
	// A bad address: the pair is removed again.
	_, _, err = netns.Veth(a, b, netns.VethConfig{NameA: "y0", AddrsA: []netip.Prefix{{}}})
	assert.ErrorContains(t, err, "invalid prefix")
	for _, ns := range []*netns.NS{a, b} {
		h, err := ns.Handle()
		assert.NilError(t, err)
		links, err := h.LinkList()
		assert.NilError(t, err)
		var names []string
		for _, l := range links {
			names = append(names, l.Attrs().Name)
		}
		want := []string{"lo"}
		if ns == a {
			want = []string{"lo", "x1", "x0"}
		}
		slices.Sort(want)
		slices.Sort(names)
		if diff := cmp.Diff(want, names); diff != "" {
			t.Errorf("links in %s after the failures (-want +got):\n%s", ns, diff)
		}
	}
}

func TestLinkSetMTUAndAddAddr(t *testing.T) {
	_, _, la, lb := vethPair(t, netns.VethConfig{})
	for _, mtu := range []int{1280, 9000, 1500} {
		t.Run(fmt.Sprint(mtu), func(t *testing.T) {
			assert.NilError(t, la.SetMTU(mtu))
			assert.NilError(t, lb.SetMTU(mtu))
			for _, l := range []*netns.Link{la, lb} {
				got, err := l.MTU()
				assert.NilError(t, err)
				assert.Equal(t, got, mtu)
				h, _ := l.NS.Handle()
				nl, err := h.LinkByIndex(l.Index)
				assert.NilError(t, err)
				assert.Equal(t, nl.Attrs().MTU, mtu, "read back over netlink")
			}
		})
	}
	assert.Assert(t, la.SetMTU(10) != nil, "an MTU below the minimum must fail")

	extra := []netip.Prefix{netip.MustParsePrefix("10.99.1.1/24"), netip.MustParsePrefix("fd00:99:1::1/64")}
	for _, p := range extra {
		assert.NilError(t, la.AddAddr(p))
	}
	want := []netip.Prefix{server4, server6, extra[0], extra[1]}
	if diff := cmp.Diff(want, la.Addrs, equateNet); diff != "" {
		t.Errorf("Link.Addrs (-want +got):\n%s", diff)
	}
	slices.SortFunc(want, func(x, y netip.Prefix) int { return x.Addr().Compare(y.Addr()) })
	if diff := cmp.Diff(want, kernelAddrs(t, la), equateNet); diff != "" {
		t.Errorf("addresses in the kernel (-want +got):\n%s", diff)
	}
	// The same address twice is an error, and Addrs does not grow.
	assert.ErrorIs(t, la.AddAddr(extra[0]), unix.EEXIST)
	assert.Equal(t, len(la.Addrs), 4)
}

// TestAddRoute reaches an address behind the peer (on its lo) only once a
// route through the peer exists.
func TestAddRoute(t *testing.T) {
	a, b, _, _ := vethPair(t, netns.VethConfig{})
	// b forwards nothing: the far address is b's own, on lo.
	blo := &netns.Link{NS: b, Name: "lo", Index: 1}
	for _, tc := range []struct {
		name       string
		far        netip.Prefix
		dst        netip.Prefix
		via        netip.Addr
		dev        string
		wantSource netip.Addr
	}{
		{"ipv4 via gateway", netip.MustParsePrefix("10.98.0.1/32"), netip.MustParsePrefix("10.98.0.0/24"), client4.Addr(), "", server4.Addr()},
		{"ipv6 via gateway and dev", netip.MustParsePrefix("fd00:98::1/128"), netip.MustParsePrefix("fd00:98::/64"), client6.Addr(), "veth0", server6.Addr()},
		{"ipv4 on link", netip.MustParsePrefix("10.97.0.1/32"), netip.MustParsePrefix("10.97.0.0/24"), netip.Addr{}, "veth0", server4.Addr()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.NilError(t, blo.AddAddr(tc.far))
			// Before: a has no route there.
			err := a.Do(func() error {
				if err := inNS(a); err != nil {
					return err
				}
				c, err := net.DialTimeout("tcp", netip.AddrPortFrom(tc.far.Addr(), 9).String(), 5*time.Second)
				if err == nil {
					c.Close()
				}
				return err
			})
			assert.ErrorIs(t, err, unix.ENETUNREACH)
			assert.NilError(t, a.AddRoute(tc.dst, tc.via, tc.dev))

			h, err := a.Handle()
			assert.NilError(t, err)
			routes, err := h.RouteGet(net.IP(tc.far.Addr().AsSlice()))
			assert.NilError(t, err)
			assert.Equal(t, len(routes), 1)
			gw, _ := netip.AddrFromSlice(routes[0].Gw)
			assert.Equal(t, gw.Unmap(), tc.via, "the kernel's route uses the gateway")
			// After: real traffic, answered by b, from a's link address.
			got := exchange(t, "tcp", b, a, tc.far.Addr())
			assert.Equal(t, got, tc.wantSource)
		})
	}
}

func TestAddRouteErrors(t *testing.T) {
	a, _, _, _ := vethPair(t, netns.VethConfig{})
	for _, tc := range []struct {
		name string
		dst  netip.Prefix
		via  netip.Addr
		dev  string
		want string
	}{
		{"no destination", netip.Prefix{}, client4.Addr(), "", "invalid destination"},
		{"neither gateway nor device", netip.MustParsePrefix("10.98.0.0/24"), netip.Addr{}, "", "needs a gateway or a device"},
		{"mixed families", netip.MustParsePrefix("10.98.0.0/24"), client6.Addr(), "", "different families"},
		{"no such device", netip.MustParsePrefix("10.98.0.0/24"), netip.Addr{}, "nope0", "Link not found"},
		{"gateway off link", netip.MustParsePrefix("10.98.0.0/24"), netip.MustParseAddr("10.55.0.1"), "", "not on a connected network"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := a.AddRoute(tc.dst, tc.via, tc.dev)
			assert.ErrorContains(t, err, tc.want)
			assert.ErrorContains(t, err, "add route")
		})
	}
	// A default route works and shows up.
	assert.NilError(t, a.AddRoute(netip.MustParsePrefix("0.0.0.0/0"), client4.Addr(), ""))
	h, _ := a.Handle()
	routes, err := h.RouteList(nil, netlink.FAMILY_V4)
	assert.NilError(t, err)
	assert.Assert(t, slices.ContainsFunc(routes, func(r netlink.Route) bool {
		return (r.Dst == nil || r.Dst.IP.IsUnspecified()) && r.Gw.Equal(net.IP(client4.Addr().AsSlice()))
	}), "default route in %v", routes)
	assert.Assert(t, !errors.Is(err, netns.ErrClosed))
}
