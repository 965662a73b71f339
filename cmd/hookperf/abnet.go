package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/hookperf/hookperf/netns"
)

// envABUserNS marks hookperf re-executed by ab inside a user namespace.
const envABUserNS = "HOOKPERF_AB_USERNS"

// abNetwork is what one side of ab asks of the network: the settings of
// its own pair of namespaces, and whether it asked for namespaces at all.
type abNetwork struct {
	settings netns.Settings
	netns    bool // --netns, or any setting
	// text is the flags as given, for the report.
	text []string
}

// takeNetFlags takes ab's network flags out of args and returns the rest
// (hookperf's own flags). Each setting may name a host first, "server:"
// or "client:"; without one it applies to both, except --nft-cost, which
// costs the client's output path.
func takeNetFlags(args []string) (rest []string, n abNetwork, errs []error) {
	sc := &argScanner{args: args}
	for sc.next() {
		switch sc.name {
		case "--netns":
			if sc.hasAttached {
				sc.errs = append(sc.errs, errors.New("--netns takes no value"))
			}
		case "--mtu":
			v := sc.value()
			mtu, err := strconv.Atoi(v)
			if err != nil || mtu < 68 || mtu > 65535 {
				sc.errs = append(sc.errs, fmt.Errorf("--mtu: want an MTU in 68..65535, got %q", v))
			}
			n.settings.MTU = mtu
		case "--sysctl":
			host, v := cutHost(sc.value(), netns.BothHosts)
			name, value, ok := strings.Cut(v, "=")
			if !ok || !strings.HasPrefix(name, "net.") || strings.ContainsAny(name, "/ ") {
				sc.errs = append(sc.errs, fmt.Errorf("--sysctl %q: want [server:|client:]net.NAME=VALUE, e.g. net.ipv4.tcp_congestion_control=bbr", v))
				continue
			}
			n.settings.Sysctls = append(n.settings.Sysctls, netns.HostSysctl{Host: host, Name: name, Value: value})
		case "--qdisc":
			host, v := cutHost(sc.value(), netns.BothHosts)
			q, err := netns.ParseQdisc(v)
			if err != nil {
				sc.errs = append(sc.errs, fmt.Errorf("--qdisc: %w", err))
				continue
			}
			n.settings.Qdiscs = append(n.settings.Qdiscs, netns.HostQdisc{Host: host, Qdisc: q})
		case "--nft-cost":
			host, v := cutHost(sc.value(), netns.ClientHost)
			rules, err := strconv.Atoi(v)
			if err != nil || rules < 1 || rules > 1_000_000 {
				sc.errs = append(sc.errs, fmt.Errorf("--nft-cost: want a count of rules in 1..1000000, got %q", v))
				continue
			}
			n.settings.NftCosts = append(n.settings.NftCosts, netns.HostNftCost{Host: host, Rules: rules})
		case "--nft":
			host, v := cutHost(sc.value(), netns.BothHosts)
			path, err := filepath.Abs(v)
			if err == nil {
				_, err = os.Stat(path)
			}
			if err != nil {
				sc.errs = append(sc.errs, fmt.Errorf("--nft: the ruleset: %w", err))
				continue
			}
			n.settings.Commands = append(n.settings.Commands, netns.HostCommand{Host: host, Line: "nft -f " + shellQuote(path)})
		case "--setup":
			host, v := cutHost(sc.value(), netns.BothHosts)
			if strings.TrimSpace(v) == "" {
				sc.errs = append(sc.errs, errors.New("--setup: want a command line"))
				continue
			}
			n.settings.Commands = append(n.settings.Commands, netns.HostCommand{Host: host, Line: v})
		default:
			rest = append(rest, sc.arg)
			continue
		}
		n.netns = true
		n.text = append(n.text, quoteWords(args[sc.start:sc.i]))
	}
	return rest, n, sc.errs
}

// cutHost splits an optional "server:" or "client:" off v.
func cutHost(v string, def netns.Host) (netns.Host, string) {
	for _, h := range []netns.Host{netns.ServerHost, netns.ClientHost, netns.BothHosts} {
		if rest, ok := strings.CutPrefix(v, h.String()+":"); ok {
			return h, rest
		}
	}
	return def, v
}

// quoteWords joins words as a shell would read them back.
func quoteWords(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = w
		if w == "" || strings.ContainsAny(w, " \t\n'\"\\$`*?;&|<>()") {
			q[i] = shellQuote(w)
		}
	}
	return strings.Join(q, " ")
}

// shellQuote quotes s for sh.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// rerunInUserNS runs this ab again inside a user namespace when
// namespaces need privileges this user lacks, as the scenarios do; rerun
// says whether it did (code is then its exit status).
func (ab *abConfig) rerunInUserNS(stderr io.Writer) (code int, rerun bool) {
	if os.Getenv(envABUserNS) != "" {
		if err := netns.LoopbackUp(); err != nil {
			printError(stderr, fmt.Errorf("ab: %w", err))
			return exitRun, true
		}
		return 0, false
	}
	if os.Geteuid() == 0 || netns.Available() == nil {
		return 0, false
	}
	code, err := netns.RerunInUserNS(envABUserNS + "=1")
	if err != nil {
		printError(stderr, fmt.Errorf("ab: network settings need namespaces: %w", err))
		return exitRun, true
	}
	return code, true
}

// makePairs builds A's and B's namespaces and applies their settings.
func (ab *abConfig) makePairs(stderr io.Writer) error {
	for _, side := range []struct {
		name string
		net  abNetwork
		pair **netns.Pair
	}{{"A", ab.netA, &ab.pairA}, {"B", ab.netB, &ab.pairB}} {
		p, err := netns.NewPair(netns.PairConfig{})
		if err != nil {
			ab.closePairs()
			return fmt.Errorf("%s's namespaces: %w", side.name, err)
		}
		*side.pair = p
		if err := p.Apply(side.net.settings); err != nil {
			ab.closePairs()
			return fmt.Errorf("%s's network: %w", side.name, err)
		}
		what := "no network settings"
		if len(side.net.text) > 0 {
			what = strings.Join(side.net.text, " ")
		}
		fmt.Fprintf(stderr, "hookperf: ab: %s runs between namespaces of its own (server %s, client %s): %s\n",
			side.name, p.ServerAddr4, p.ClientAddr4, what)
	}
	return nil
}

// closePairs closes the namespaces made so far.
func (ab *abConfig) closePairs() {
	for _, p := range []**netns.Pair{&ab.pairA, &ab.pairB} {
		if *p != nil {
			(*p).Close()
			*p = nil
		}
	}
}
