package netns

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// DefaultVethName is the name both ends of a veth pair get by default:
// they live in different namespaces, so they do not clash.
const DefaultVethName = "veth0"

// VethConfig describes a veth pair for Veth. The zero value makes a pair
// named "veth0" on both sides, with no addresses and the kernel's MTU.
type VethConfig struct {
	// NameA and NameB name the ends in namespace a and b
	// (DefaultVethName if empty).
	NameA, NameB string
	// AddrsA and AddrsB are the addresses of each end, IPv4 or IPv6.
	// IPv6 addresses skip duplicate address detection, so they are
	// usable at once.
	AddrsA, AddrsB []netip.Prefix
	// MTU of both ends; 0 keeps the kernel's default (1500).
	MTU int
}

// Link is a network device in a namespace, as this package configured it.
// Its methods may not be called concurrently with each other.
type Link struct {
	// NS is the namespace the device lives in.
	NS *NS
	// Name is the device's name inside NS.
	Name string
	// Index is the device's interface index inside NS.
	Index int
	// Addrs are the addresses this package gave the device.
	Addrs []netip.Prefix
}

// Veth creates a veth pair with one end in a and the other in b, gives
// each end its addresses and MTU, brings both up, and returns once both
// carry traffic. a and b may be the same namespace if the names differ.
// On error nothing is left behind.
func Veth(a, b *NS, cfg VethConfig) (*Link, *Link, error) {
	nameA, nameB := cfg.NameA, cfg.NameB
	if nameA == "" {
		nameA = DefaultVethName
	}
	if nameB == "" {
		nameB = DefaultVethName
	}
	op := fmt.Sprintf("netns: veth %s@%s - %s@%s", nameA, a, nameB, b)
	if a == b && nameA == nameB {
		return nil, nil, fmt.Errorf("%s: both ends in one namespace need different names", op)
	}
	if cfg.MTU < 0 {
		return nil, nil, fmt.Errorf("%s: negative MTU %d", op, cfg.MTU)
	}
	ha, err := a.Handle()
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", op, err)
	}
	hb, err := b.Handle()
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", op, err)
	}
	b.mu.Lock()
	fdB := b.fd
	veth := &netlink.Veth{
		LinkAttrs:     netlink.LinkAttrs{Name: nameA, MTU: cfg.MTU},
		PeerName:      nameB,
		PeerNamespace: netlink.NsFd(fdB),
	}
	if fdB < 0 {
		err = ErrClosed
	} else {
		err = ha.LinkAdd(veth)
	}
	b.mu.Unlock()
	if err != nil {
		return nil, nil, fmt.Errorf("%s: create: %w", op, err)
	}
	la, lb, err := setUpVeth(a, b, ha, hb, nameA, nameB, cfg)
	if err != nil {
		// Deleting one end deletes the pair.
		if l, lerr := ha.LinkByName(nameA); lerr == nil {
			ha.LinkDel(l)
		}
		return nil, nil, fmt.Errorf("%s: %w", op, err)
	}
	return la, lb, nil
}

func setUpVeth(a, b *NS, ha, hb *netlink.Handle, nameA, nameB string, cfg VethConfig) (*Link, *Link, error) {
	ends := []struct {
		ns    *NS
		h     *netlink.Handle
		name  string
		addrs []netip.Prefix
	}{
		{a, ha, nameA, cfg.AddrsA},
		{b, hb, nameB, cfg.AddrsB},
	}
	var links [2]*Link
	for i, e := range ends {
		nl, err := e.h.LinkByName(e.name)
		if err != nil {
			return nil, nil, fmt.Errorf("find %s: %w", e.name, err)
		}
		l := &Link{NS: e.ns, Name: e.name, Index: nl.Attrs().Index}
		for _, p := range e.addrs {
			if err := l.AddAddr(p); err != nil {
				return nil, nil, err
			}
		}
		if err := e.h.LinkSetUp(nl); err != nil {
			return nil, nil, fmt.Errorf("bring %s up: %w", e.name, err)
		}
		links[i] = l
	}
	for _, e := range ends {
		if err := waitOperUp(e.h, e.name); err != nil {
			return nil, nil, err
		}
	}
	return links[0], links[1], nil
}

// vethUpTimeout bounds the wait for a veth end to carry traffic.
const vethUpTimeout = 10 * time.Second

// waitOperUp waits until the device is operationally up and has its
// qdisc. The kernel attaches the qdisc of the end that came up first
// only when it handles the carrier event, and it may hold such events
// back for up to a second (two veth ends in fresh namespaces often share
// an ifindex, which makes the event non-urgent); until then the device
// drops what it sends (measured: without this wait the first connection
// over a new pair often stalled for one or two SYN retransmissions).
func waitOperUp(h *netlink.Handle, name string) error {
	deadline := time.Now().Add(vethUpTimeout)
	for pause := 100 * time.Microsecond; ; pause = min(2*pause, 20*time.Millisecond) {
		l, err := h.LinkByName(name)
		if err != nil {
			return fmt.Errorf("find %s: %w", name, err)
		}
		if l.Attrs().OperState == netlink.OperUp {
			qs, err := h.QdiscList(l)
			if err != nil {
				return fmt.Errorf("%s: list qdiscs: %w", name, err)
			}
			if !slices.ContainsFunc(qs, func(q netlink.Qdisc) bool { return q.Type() == "noop" }) {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not come up within %v (operstate %s)", name, vethUpTimeout, l.Attrs().OperState)
		}
		time.Sleep(pause)
	}
}

// AddAddr adds an address to the device and records it in Addrs. An IPv6
// address skips duplicate address detection (IFA_F_NODAD), so it is
// usable at once.
func (l *Link) AddAddr(p netip.Prefix) error {
	if !p.IsValid() {
		return fmt.Errorf("netns: %s: add address: invalid prefix %v", l.Name, p)
	}
	h, err := l.NS.Handle()
	if err != nil {
		return fmt.Errorf("netns: %s: add address %s: %w", l.Name, p, err)
	}
	addr := &netlink.Addr{IPNet: prefixToIPNet(p)}
	if p.Addr().Is6() && !p.Addr().Is4In6() {
		addr.Flags = unix.IFA_F_NODAD
	}
	link, err := h.LinkByIndex(l.Index)
	if err == nil {
		err = h.AddrAdd(link, addr)
	}
	if err != nil {
		return fmt.Errorf("netns: %s: add address %s: %w", l.Name, p, err)
	}
	l.Addrs = append(l.Addrs, p)
	return nil
}

// SetMTU sets the device's MTU. For a veth pair set it on both ends.
func (l *Link) SetMTU(mtu int) error {
	h, err := l.NS.Handle()
	if err != nil {
		return fmt.Errorf("netns: %s: set MTU %d: %w", l.Name, mtu, err)
	}
	link, err := h.LinkByIndex(l.Index)
	if err == nil {
		err = h.LinkSetMTU(link, mtu)
	}
	if err != nil {
		return fmt.Errorf("netns: %s: set MTU %d: %w", l.Name, mtu, err)
	}
	return nil
}

// MTU reads the device's MTU back from the kernel.
func (l *Link) MTU() (int, error) {
	h, err := l.NS.Handle()
	if err != nil {
		return 0, fmt.Errorf("netns: %s: read MTU: %w", l.Name, err)
	}
	link, err := h.LinkByIndex(l.Index)
	if err != nil {
		return 0, fmt.Errorf("netns: %s: read MTU: %w", l.Name, err)
	}
	return link.Attrs().MTU, nil
}

// AddRoute adds a route to dst inside the namespace: through the gateway
// via if it is valid, out of device dev if it is not empty (at least one
// of the two). A zero-length dst (0.0.0.0/0, ::/0) is a default route.
func (ns *NS) AddRoute(dst netip.Prefix, via netip.Addr, dev string) error {
	op := fmt.Sprintf("netns: %s: add route %s", ns, dst)
	if via.IsValid() {
		op += " via " + via.String()
	}
	if dev != "" {
		op += " dev " + dev
	}
	if !dst.IsValid() {
		return fmt.Errorf("%s: invalid destination", op)
	}
	if !via.IsValid() && dev == "" {
		return fmt.Errorf("%s: needs a gateway or a device", op)
	}
	if via.IsValid() && via.Unmap().Is4() != dst.Addr().Unmap().Is4() {
		return fmt.Errorf("%s: gateway and destination are of different families", op)
	}
	h, err := ns.Handle()
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	r := &netlink.Route{Dst: prefixToIPNet(dst.Masked())}
	if via.IsValid() {
		r.Gw = net.IP(via.Unmap().AsSlice())
	} else {
		r.Scope = netlink.SCOPE_LINK
	}
	if dev != "" {
		link, err := h.LinkByName(dev)
		if err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		r.LinkIndex = link.Attrs().Index
	}
	if err := h.RouteAdd(r); err != nil {
		if errors.Is(err, unix.ENETUNREACH) {
			return fmt.Errorf("%s: gateway not on a connected network: %w", op, err)
		}
		return fmt.Errorf("%s: %w", op, err)
	}
	return nil
}

func prefixToIPNet(p netip.Prefix) *net.IPNet {
	a := p.Addr()
	bits := p.Bits()
	if a.Is4In6() {
		a = a.Unmap()
		bits = max(bits-96, 0)
	}
	return &net.IPNet{IP: net.IP(a.AsSlice()), Mask: net.CIDRMask(bits, a.BitLen())}
}
