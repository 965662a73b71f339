package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/hookperf/hookperf/gating"
	"github.com/hookperf/hookperf/kit"
	"github.com/hookperf/hookperf/luahooks"
	"github.com/hookperf/hookperf/netns"
)

const abUsage = `usage: hookperf ab WORKLOAD [flags] [--a "FLAGS"] --b "FLAGS"
runs two configurations of one workload, A and B, in interleaved rounds
(each run as --local) and says whether B is a regression against A.
The workload's flags are common to both; --a and --b add each side's own
(any hookperf flag: --congestion-control reno, -m 1G, --script f.lua …),
split as a shell would: --b "--qdisc 'tbf rate 1gbit'".
flags:
  --a FLAGS         A's own flags (default: none)
  --b FLAGS         B's own flags
  --rounds N        rounds of one A run and one B run (default 20; ABBA order)
  --early-stop      stop before --rounds once every metric is settled at
                    p < 0.001, or within a 99.9 % interval (looks at round
                    12, 16, …)
  -l SECONDS        each run's length (default 1 here)
  --threshold PCT   the smallest change that counts, in % (default 5)
  --alpha A         the significance level (default 0.05)
  --metrics LIST    gate only on these metrics, e.g. trans/s,lat-p99-ns
  --json, --ktap    the report as JSON or KTAP
  --report FILE     the verdict as an HTML file too: each round's A and B,
                    the rounds' ratios and each metric's verdict, drawn
network settings (common, or in --a/--b): with any of them, A and B each
run between two namespaces of their own, a server and a client on a veth
link (10.99.0.1 and 10.99.0.2), instead of over loopback. Each applies to
both hosts unless it starts with server: or client:.
  --netns           namespaces, even with no setting (an A/A baseline)
  --sysctl [H:]net.NAME=VALUE   a per-namespace sysctl
  --qdisc [H:]SPEC  the link's root qdisc, as tc writes it: fq, fq maxrate
                    1gbit, tbf rate 1gbit, htb rate 1gbit, netem delay 1ms,
                    none
  --mtu N           the link's MTU (both ends)
  --nft [H:]FILE    an nftables ruleset (nft -f FILE in the namespace)
  --nft-cost [H:]N  N nftables rules that match nothing, on the output
                    path (the client's unless H says): a known cost
  --setup [H:]CMD   a command (sh -c) run in the namespace: tc, ethtool …;
                    it sees HOOKPERF_HOST, HOOKPERF_DEV and the addresses
                    in HOOKPERF_SERVER_ADDR4/6 and HOOKPERF_CLIENT_ADDR4/6
  Not root: ab runs itself again in a user namespace, as the tests do.
exit status: 0 no regression, 3 regression, 4 inconclusive, 1 a run failed
(or a network setting was refused), 2 usage error, 130/143 interrupted
(the rounds run so far are reported)`

// abConfig is a parsed `hookperf ab` command line.
type abConfig struct {
	common      []string // the workload and its shared flags
	a, b        []string // each side's own flags
	rounds      int
	earlyStop   bool
	gate        gateFlags
	lengthGiven bool // -l is among the flags (else runs are 1 s)
	// runA and runB are each side's parsed command line, scriptA and
	// scriptB their scripts (nil for none).
	runA, runB       *config
	scriptA, scriptB *luahooks.Script
	// netA and netB are each side's network settings (the common ones
	// merged in); with any, or --netns, each side runs between two
	// namespaces of its own, pairA and pairB.
	netA, netB   abNetwork
	useNS        bool
	pairA, pairB *netns.Pair
}

// parseAB reads `hookperf ab`'s flags; the rest are the workload's.
func parseAB(args []string) (*abConfig, bool, error) {
	ab := &abConfig{rounds: 20, gate: newGateFlags()}
	sc := &argScanner{args: args}
	for sc.next() {
		switch sc.name {
		case "-h", "--help":
			return ab, true, nil
		case "--a", "--b":
			words, err := splitWords(sc.value())
			if err != nil {
				sc.errs = append(sc.errs, fmt.Errorf("%s: %w", sc.name, err))
			}
			if sc.name == "--a" {
				ab.a = words
			} else {
				ab.b = words
			}
		case "--early-stop":
			if sc.hasAttached {
				sc.errs = append(sc.errs, errors.New("--early-stop takes no value"))
			}
			ab.earlyStop = true
		case "--rounds":
			v := sc.value()
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 10000 {
				sc.errs = append(sc.errs, fmt.Errorf("--rounds: want a count in 1..10000, got %q", v))
			}
			ab.rounds = n
		default:
			if ok, err := ab.gate.parse(sc.name, sc.value); ok {
				if err != nil {
					sc.errs = append(sc.errs, err)
				}
				continue
			}
			if strings.HasPrefix(sc.arg, "-l") || strings.HasPrefix(sc.arg, "--test-length") {
				ab.lengthGiven = true
			}
			ab.common = append(ab.common, sc.arg)
		}
	}
	errs := sc.errs
	var common abNetwork
	var nerrs []error
	ab.common, common, nerrs = takeNetFlags(ab.common)
	errs = append(errs, nerrs...)
	for _, side := range []struct {
		name  string
		flags *[]string
		net   *abNetwork
	}{{"--a", &ab.a, &ab.netA}, {"--b", &ab.b, &ab.netB}} {
		var own abNetwork
		*side.flags, own, nerrs = takeNetFlags(*side.flags)
		for _, err := range nerrs {
			errs = append(errs, fmt.Errorf("%s: %w", side.name, err))
		}
		*side.net = abNetwork{
			settings: common.settings.Merge(own.settings),
			netns:    common.netns || own.netns,
			text:     slices.Concat(common.text, own.text),
		}
	}
	ab.useNS = ab.netA.netns || ab.netB.netns
	if len(ab.b) == 0 && len(ab.netB.text) == len(common.text) {
		errs = append(errs, errors.New("--b: B's flags are what A/B compares (e.g. --b '--congestion-control reno')"))
	}
	if len(errs) > 0 {
		return ab, false, errors.Join(errs...)
	}
	for _, side := range []struct {
		name  string
		extra []string
		c     **config
	}{{"A", ab.a, &ab.runA}, {"B", ab.b, &ab.runB}} {
		args := slices.Concat(ab.common, side.extra, []string{"--local"})
		if !ab.lengthGiven {
			args = append(args, "-l", "1")
		}
		c, err := parseArgs(args)
		if err == nil {
			err = c.opts.ValidateLocal()
		}
		if err == nil && (c.opts.JSON || c.opts.GoBench || c.opts.AllSamples != "" || c.opts.DryRun || c.opts.Client) {
			err = errors.New("-c, -n, -A, --json and --gobench mean nothing to a run of ab")
		}
		if err == nil && c.opts.Report != "" {
			err = errors.New("--report belongs to ab itself (its verdict as HTML), not to A's or B's runs")
		}
		if err != nil {
			return ab, false, fmt.Errorf("%s: %w", side.name, err)
		}
		*side.c = c
	}
	if ab.runA.opts.Workload != ab.runB.opts.Workload {
		return ab, false, errors.New("A and B run different workloads: give the workload once, before --a and --b")
	}
	return ab, false, nil
}

// runAB is `hookperf ab`.
func runAB(args []string, stdout, stderr io.Writer) int {
	ab, help, err := parseAB(args)
	if help {
		fmt.Fprintln(stdout, abUsage)
		return exitOK
	}
	if err == nil {
		err = ab.loadScripts()
	}
	if err != nil {
		printError(stderr, fmt.Errorf("ab: %w", err))
		fmt.Fprintln(stderr, "hookperf: try 'hookperf ab --help'")
		return exitUsage
	}
	if ab.useNS {
		if code, rerun := ab.rerunInUserNS(stderr); rerun {
			return code
		}
		if err := ab.makePairs(stderr); err != nil {
			printError(stderr, fmt.Errorf("ab: %w", err))
			return exitRun
		}
		defer ab.closePairs()
	}
	ctx, stop := interruptible()
	defer stop()
	runs := &gating.AB{
		Rounds: ab.rounds, Config: ab.gate.cfg, Units: ab.gate.units, EarlyStop: ab.earlyStop,
		Run: func(ctx context.Context, side string) (*kit.Result, error) { return ab.run(ctx, side, stderr) },
		Progress: func(round int, a, b map[string]float64) {
			// In the order the round ran them: ABBA.
			first, second := "A "+headline(a), "B "+headline(b)
			if round%2 == 0 {
				first, second = second, first
			}
			fmt.Fprintf(stderr, "hookperf: ab: round %d/%d: %s, %s\n", round, ab.rounds, first, second)
		},
	}
	report, runErr := runs.Do(ctx)
	var in *kit.Interrupted
	interrupted := errors.As(runErr, &in)
	if runErr != nil && (!interrupted || report == nil) {
		printError(stderr, fmt.Errorf("ab: %w", runErr))
		return exitStatus(runErr)
	}
	if err := ab.gate.write(stdout, report, ab.title()); err != nil {
		printError(stderr, err)
		return exitRun
	}
	if interrupted {
		// The rounds run before the interrupt are reported.
		printError(stderr, fmt.Errorf("ab: %w; the report covers the rounds run before", runErr))
		return exitStatus(runErr)
	}
	return gateStatus(report.Verdict)
}

// title names an A/B comparison: the workload, its common flags and
// each side's own.
func (ab *abConfig) title() string {
	side := func(flags []string) string {
		if len(flags) == 0 {
			return "(no flags of its own)"
		}
		return strings.Join(flags, " ")
	}
	return fmt.Sprintf("hookperf ab %s — A: %s; B: %s", strings.Join(ab.common, " "), side(ab.a), side(ab.b))
}

// headline is a run's main figure, for the progress line.
func headline(m map[string]float64) string {
	for _, unit := range []string{"trans/s", "Mbit/s"} {
		if v, ok := m[unit]; ok {
			return strconv.FormatFloat(v, 'f', 0, 64) + " " + unit
		}
	}
	return ""
}

func (ab *abConfig) loadScripts() error {
	for _, s := range []struct {
		c      *config
		script **luahooks.Script
	}{{ab.runA, &ab.scriptA}, {ab.runB, &ab.scriptB}} {
		if s.c.script == "" {
			continue
		}
		sc, err := luahooks.LoadFile(s.c.script)
		if err != nil {
			return err
		}
		*s.script = sc
	}
	return nil
}

// run runs side once over loopback and returns its result. A script's
// output goes to stderr: stdout holds the report.
func (ab *abConfig) run(ctx context.Context, side string, stderr io.Writer) (*kit.Result, error) {
	c, script, pair := ab.runA, ab.scriptA, ab.pairA
	if side == "B" {
		c, script, pair = ab.runB, ab.scriptB, ab.pairB
	}
	o := c.opts
	var server, client kit.SideConfig
	if pair != nil {
		server.ThreadInit, client.ThreadInit = pair.Server.Enter, pair.Client.Enter
		o.Host = pair.ServerAddr4.String()
		if o.Family == kit.IPv6 {
			o.Host = pair.ServerAddr6.String()
		}
	}
	var res *kit.Result
	var err error
	if script != nil {
		env := luahooks.Env{Args: scriptArgs(c), Out: stderr, Err: stderr}
		var lr *luahooks.LocalResult
		lr, err = luahooks.RunLocal(ctx, script, o, server, client, env, env)
		if lr != nil && lr.Client != nil {
			res = lr.Client.Kit
		}
	} else {
		var lr *kit.LocalResult
		lr, err = kit.RunLocal(ctx, o, server, client)
		if lr != nil {
			res = lr.Client
		}
	}
	return res, err
}
