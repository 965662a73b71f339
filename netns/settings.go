package netns

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// Host names which of a Pair's hosts a setting applies to.
type Host int

// The hosts of a Pair.
const (
	BothHosts  Host = iota // the server and the client
	ServerHost             // the server only
	ClientHost             // the client only
)

func (h Host) String() string {
	switch h {
	case ServerHost:
		return "server"
	case ClientHost:
		return "client"
	}
	return "both"
}

// Settings are network settings for a Pair: what two configurations of
// an A/B run may differ by beyond hookperf's own options. The zero value
// changes nothing. They are applied in the order of the fields.
type Settings struct {
	// MTU of both ends of the link; 0 leaves it.
	MTU int
	// Sysctls are net.* sysctls (SetSysctl).
	Sysctls []HostSysctl
	// Qdiscs replace the link device's root qdisc (SetQdisc).
	Qdiscs []HostQdisc
	// NftCosts install chains of rules that match nothing (AddNftCost).
	NftCosts []HostNftCost
	// Commands are shell command lines (sh -c) run inside a host's
	// namespace, for anything the fields above do not cover: an nftables
	// ruleset (nft -f rules.nft), tc filters, ethtool. They see
	// HOOKPERF_HOST (server or client), HOOKPERF_DEV (the link's device)
	// and HOOKPERF_SERVER_ADDR4/6, HOOKPERF_CLIENT_ADDR4/6 in their
	// environment.
	Commands []HostCommand
}

// HostSysctl is a sysctl for some of a Pair's hosts.
type HostSysctl struct {
	Host        Host
	Name, Value string
}

// HostQdisc is a root qdisc for the link's device on some hosts.
type HostQdisc struct {
	Host  Host
	Qdisc Qdisc
}

// HostNftCost is an nftables cost of Rules rules on some hosts.
type HostNftCost struct {
	Host  Host
	Rules int
}

// HostCommand is a command line to run in some hosts' namespaces.
type HostCommand struct {
	Host Host
	Line string
}

// IsZero reports whether s changes nothing.
func (s Settings) IsZero() bool {
	return s.MTU == 0 && len(s.Sysctls) == 0 && len(s.Qdiscs) == 0 && len(s.NftCosts) == 0 && len(s.Commands) == 0
}

// Merge returns s with t's settings added after its own (t's MTU wins
// when set).
func (s Settings) Merge(t Settings) Settings {
	if t.MTU != 0 {
		s.MTU = t.MTU
	}
	s.Sysctls = append(s.Sysctls[:len(s.Sysctls):len(s.Sysctls)], t.Sysctls...)
	s.Qdiscs = append(s.Qdiscs[:len(s.Qdiscs):len(s.Qdiscs)], t.Qdiscs...)
	s.NftCosts = append(s.NftCosts[:len(s.NftCosts):len(s.NftCosts)], t.NftCosts...)
	s.Commands = append(s.Commands[:len(s.Commands):len(s.Commands)], t.Commands...)
	return s
}

// hosts are the pair's hosts h names, with their names and links.
func (p *Pair) hosts(h Host) []pairHost {
	all := []pairHost{{"server", p.Server, p.ServerLink}, {"client", p.Client, p.ClientLink}}
	switch h {
	case ServerHost:
		return all[:1]
	case ClientHost:
		return all[1:]
	}
	return all
}

type pairHost struct {
	name string
	ns   *NS
	link *Link
}

// Apply applies s to the pair. It stops at the first setting that fails
// and says which; what it applied before stays (close the pair to undo
// it all).
func (p *Pair) Apply(s Settings) error {
	if s.MTU != 0 {
		for _, l := range []*Link{p.ServerLink, p.ClientLink} {
			if err := l.SetMTU(s.MTU); err != nil {
				return err
			}
		}
	}
	for _, sc := range s.Sysctls {
		for _, h := range p.hosts(sc.Host) {
			if err := h.ns.SetSysctl(sc.Name, sc.Value); err != nil {
				return fmt.Errorf("%s: %w", h.name, err)
			}
		}
	}
	for _, q := range s.Qdiscs {
		for _, h := range p.hosts(q.Host) {
			if err := h.ns.SetQdisc(h.link.Name, q.Qdisc); err != nil {
				return fmt.Errorf("%s: %w", h.name, err)
			}
		}
	}
	for _, c := range s.NftCosts {
		for _, h := range p.hosts(c.Host) {
			// Removed with the namespace when the pair closes.
			if _, err := h.ns.AddNftCost(c.Rules); err != nil {
				return fmt.Errorf("%s: %w", h.name, err)
			}
		}
	}
	for _, c := range s.Commands {
		for _, h := range p.hosts(c.Host) {
			if err := p.runCommand(h, c.Line); err != nil {
				return err
			}
		}
	}
	return nil
}

// runCommand runs line with sh -c inside h's namespace. The child inherits
// the namespace of the thread that forks it, which Do has moved there.
func (p *Pair) runCommand(h pairHost, line string) error {
	var out bytes.Buffer
	err := h.ns.Do(func() error {
		cmd := exec.Command("sh", "-c", line)
		cmd.Stdout, cmd.Stderr = &out, &out
		cmd.Env = append(os.Environ(),
			"HOOKPERF_HOST="+h.name,
			"HOOKPERF_DEV="+h.link.Name,
			"HOOKPERF_SERVER_ADDR4="+p.ServerAddr4.String(),
			"HOOKPERF_SERVER_ADDR6="+p.ServerAddr6.String(),
			"HOOKPERF_CLIENT_ADDR4="+p.ClientAddr4.String(),
			"HOOKPERF_CLIENT_ADDR6="+p.ClientAddr6.String(),
		)
		return cmd.Run()
	})
	if err != nil {
		msg := strings.TrimSpace(out.String())
		if i := strings.LastIndexByte(msg, '\n'); i >= 0 {
			msg = msg[i+1:] // the last line says why, as a rule
		}
		var exit *exec.ExitError
		if errors.As(err, &exit) && msg != "" {
			return fmt.Errorf("%s: command %q failed (%v): %s", h.name, line, err, msg)
		}
		return fmt.Errorf("%s: command %q: %w", h.name, line, err)
	}
	return nil
}
