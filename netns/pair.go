package netns

import (
	"errors"
	"fmt"
	"net/netip"
)

// PairConfig shapes the topology NewPair builds. The zero value gives the
// defaults in the field comments.
type PairConfig struct {
	// MTU of both ends of the link; 0 keeps the kernel's (1500).
	MTU int
	// LinkName names the device in both namespaces ("veth0").
	LinkName string
	// Server4 and Client4 are the IPv4 addresses (10.99.0.1/24 and
	// 10.99.0.2/24).
	Server4, Client4 netip.Prefix
	// Server6 and Client6 are the IPv6 addresses (fd00:99::1/64 and
	// fd00:99::2/64).
	Server6, Client6 netip.Prefix
}

// DefaultPairPrefixes are NewPair's addresses: private ranges, only ever
// assigned inside the namespaces a pair makes.
func DefaultPairPrefixes() (server4, client4, server6, client6 netip.Prefix) {
	return netip.MustParsePrefix("10.99.0.1/24"), netip.MustParsePrefix("10.99.0.2/24"),
		netip.MustParsePrefix("fd00:99::1/64"), netip.MustParsePrefix("fd00:99::2/64")
}

// Pair is two hosts on one link: two namespaces, "server" and "client",
// joined by a veth pair with an IPv4 and an IPv6 address at each end.
type Pair struct {
	// Server and Client are the two namespaces.
	Server, Client *NS
	// ServerLink and ClientLink are the two ends of the veth link.
	ServerLink, ClientLink *Link
	// The hosts' addresses on the link.
	ServerAddr4, ClientAddr4, ServerAddr6, ClientAddr6 netip.Addr
}

// NewPair builds a Pair. Close it when done; on error nothing is left
// behind. (The namespaces are never named, so they also vanish with the
// process, whatever ends it.)
func NewPair(cfg PairConfig) (*Pair, error) {
	def := func(p *netip.Prefix, d netip.Prefix) {
		if !p.IsValid() {
			*p = d
		}
	}
	s4, c4, s6, c6 := DefaultPairPrefixes()
	def(&cfg.Server4, s4)
	def(&cfg.Client4, c4)
	def(&cfg.Server6, s6)
	def(&cfg.Client6, c6)
	server, err := New()
	if err != nil {
		return nil, err
	}
	client, err := New()
	if err != nil {
		server.Close()
		return nil, err
	}
	sl, cl, err := Veth(server, client, VethConfig{
		NameA:  cfg.LinkName,
		NameB:  cfg.LinkName,
		AddrsA: []netip.Prefix{cfg.Server4, cfg.Server6},
		AddrsB: []netip.Prefix{cfg.Client4, cfg.Client6},
		MTU:    cfg.MTU,
	})
	if err != nil {
		err = fmt.Errorf("pair: %w", err)
		return nil, errors.Join(err, client.Close(), server.Close())
	}
	return &Pair{
		Server: server, Client: client,
		ServerLink: sl, ClientLink: cl,
		ServerAddr4: cfg.Server4.Addr(), ClientAddr4: cfg.Client4.Addr(),
		ServerAddr6: cfg.Server6.Addr(), ClientAddr6: cfg.Client6.Addr(),
	}, nil
}

// Close closes both namespaces, which takes the link with them.
func (p *Pair) Close() error {
	return errors.Join(p.Client.Close(), p.Server.Close())
}
