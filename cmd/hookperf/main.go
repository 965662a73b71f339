// Command hookperf runs one side of a network micro-benchmark, or both
// with --local, and prints neper-style key=value results (or JSON).
//
//	hookperf tcp_rr                      # a server, serving one test
//	hookperf tcp_rr -c -H 10.0.0.1 -F 4  # its client
//	hookperf tcp_stream --local -l 5     # both, over loopback
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/hookperf/hookperf/kit"
	"github.com/hookperf/hookperf/luahooks"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// Exit statuses of SPEC.md.
const (
	exitOK    = 0
	exitRun   = 1 // the run failed: peer lost, hook error, socket error
	exitUsage = 2 // bad options, unreadable or broken script
	// An interrupted run (SIGINT, SIGTERM) reports what it measured and
	// exits as a shell reports a process the signal ended.
	exitSIGINT  = 130
	exitSIGTERM = 143
)

func main() {
	os.Exit(run(withWorkloadFromName(os.Args), os.Stdout, os.Stderr))
}

// withWorkloadFromName lets the binary run under a workload's name, as
// neper's and rushit's do (a link named tcp_rr runs `hookperf tcp_rr`),
// so their scripts work unchanged.
func withWorkloadFromName(argv []string) []string {
	if _, err := kit.ParseWorkload(filepath.Base(argv[0])); err == nil {
		return append([]string{filepath.Base(argv[0])}, argv[1:]...)
	}
	return argv[1:]
}

// run is the whole CLI, with its streams given, returning the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "compare" {
		return runCompare(args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "ab" {
		return runAB(args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "report" {
		return runReport(args[1:], stdout, stderr)
	}
	c, err := parseArgs(args)
	if c != nil {
		c.args = args
	}
	if err != nil {
		printError(stderr, err)
		fmt.Fprintln(stderr, "hookperf: try 'hookperf --help'")
		return exitUsage
	}
	switch {
	case c.help:
		usage(stdout)
		return exitOK
	case c.version:
		fmt.Fprintf(stdout, "hookperf %s\n", version)
		return exitOK
	}
	var script *luahooks.Script
	if c.script != "" {
		if script, err = luahooks.LoadFile(c.script); err != nil {
			printError(stderr, err)
			return exitUsage
		}
	}
	o := c.opts
	validate := o.Validate
	if c.local {
		validate = o.ValidateLocal
	}
	if err := validate(); err != nil {
		printError(stderr, err)
		return exitUsage
	}
	if o.DryRun {
		for _, kv := range o.OptionPairs() {
			fmt.Fprintf(stdout, "%s=%s\n", kv.Key, kv.Value)
		}
		// What the run would take, as neper's dry run says.
		if o.Transactions > 0 {
			fmt.Fprintf(stdout, "total_transactions=%d\n", o.Transactions)
		} else {
			fmt.Fprintf(stdout, "total_run_time=%s\n", strconv.FormatFloat(o.TestLength.Seconds(), 'f', -1, 64))
		}
		return exitOK
	}
	// -A's and --log-rtt's files are opened before any traffic, so that a
	// path that cannot be written is a usage error; they are written at
	// the end.
	var outputs outputFiles
	if err := openOutputs(&outputs, &o, c.local); err != nil {
		outputs.discardAll()
		printError(stderr, err)
		return exitUsage
	}
	ctx, stop := interruptible()
	defer stop()
	side := kit.SideConfig{Listening: announcer()}
	if o.LogToStderr {
		side.Log = stderr
	}
	client := side
	client.Progress = progressLines(stderr, &o)
	client.IOStat = ioStatLines(stdout, stderr, &o)
	var res *kit.Result
	if script != nil {
		res, err = runScript(ctx, script, c, side, client, stdout, stderr)
	} else if c.local {
		var lr *kit.LocalResult
		lr, err = kit.RunLocal(ctx, o, side, client)
		if lr != nil {
			res = lr.Client
		}
		var fl *kit.FileLimitError
		if errors.As(err, &fl) && fl.FitsOneSide(&o) {
			// Both sides do not fit one process's open files: the server
			// runs in a child process.
			res, err = runLocalSplit(ctx, c.args, o, func(o kit.Options) (*kit.Result, error) { return kit.Run(ctx, o, client) }, stdout, stderr)
		}
	} else {
		if o.Client {
			side = client
		}
		res, err = kit.Run(ctx, o, side)
	}
	var in *kit.Interrupted
	var stopped *luahooks.StoppedError
	measured := errors.As(err, &in) && in.After > 0 && !in.NoFigures ||
		errors.As(err, &stopped) && stopped.MeasuredAll()
	if measured && res != nil && !splitServer() {
		// What was measured before the interrupt, or before the script's
		// code after run() had to be stopped, is reported all the same.
		if rerr := report(stdout, stderr, res, outputs); rerr != nil {
			printError(stderr, rerr)
		}
	}
	if err != nil {
		if !measured {
			outputs.discardAll()
		}
		if !(splitServer() && in != nil && in.Peer) {
			// (The client of a split --local run says it was interrupted.)
			printError(stderr, err)
		}
		return exitStatus(err)
	}
	if splitServer() {
		outputs.discardAll()
		return exitOK
	}
	if err := report(stdout, stderr, res, outputs); err != nil {
		printError(stderr, err)
		return exitRun
	}
	return exitOK
}

// interruptible returns the run's context: SIGINT or SIGTERM ends it
// with a *kit.Interrupted cause, so that the run stops and reports what it
// measured; a second signal ends the process at once. The server of a
// split --local run leaves SIGINT (sent to the whole process group by a
// terminal's Ctrl-C) to its client.
func interruptible() (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 2)
	if splitServer() {
		signal.Ignore(os.Interrupt)
		signal.Notify(sigs, syscall.SIGTERM)
	} else {
		signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	}
	done := make(chan struct{})
	go func() {
		select {
		case sig := <-sigs:
			cancel(&kit.Interrupted{Reason: signalName(sig)})
		case <-done:
			return
		}
		select {
		case sig := <-sigs:
			os.Exit(128 + int(sig.(syscall.Signal)))
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(sigs)
		close(done)
		cancel(context.Canceled)
	}
}

// signalName is SIGINT or SIGTERM.
func signalName(sig os.Signal) string {
	if sig == syscall.SIGTERM {
		return "SIGTERM"
	}
	return "SIGINT"
}

// exitStatus maps a run's error to the exit status of SPEC.md, in one
// place: os.exit(n) in the script is n, a usage or script error 2, any
// other failure 1.
func exitStatus(err error) int {
	var exit *luahooks.ExitError
	var usage *kit.UsageError
	var script *luahooks.ScriptError
	var in *kit.Interrupted
	switch {
	case errors.As(err, &exit):
		return exit.Code
	case errors.As(err, &in) && !in.Peer:
		// As a shell reports a process a signal ended: 130, 143.
		if in.Reason == "SIGTERM" {
			return exitSIGTERM
		}
		return exitSIGINT
	case errors.As(err, &usage), errors.As(err, &script):
		return exitUsage
	}
	return exitRun
}

// scriptArgs is the script's args table from --script-arg.
func scriptArgs(c *config) map[string]string {
	args := map[string]string{}
	for _, kv := range c.scriptArgs {
		k, v, _ := strings.Cut(kv, "=")
		args[k] = v
	}
	return args
}

// runScript runs a scripted side, or both sides with --local (the script
// runs once per side), and returns the result to report.
func runScript(ctx context.Context, s *luahooks.Script, c *config, side, client kit.SideConfig, out, stderr io.Writer) (*kit.Result, error) {
	env := luahooks.Env{Args: scriptArgs(c), Out: out, Err: stderr}
	if c.opts.JSON || c.opts.GoBench {
		// stdout holds the one report a program parses.
		env.Out = stderr
	}
	runSide := func(o kit.Options, cfg kit.SideConfig) (*kit.Result, error) {
		r, err := luahooks.RunSide(ctx, s, o, cfg, env)
		if r == nil {
			return nil, err
		}
		return r.Kit, err
	}
	o := c.opts
	if !c.local {
		if o.Client {
			side = client
		}
		return runSide(o, side)
	}
	lr, err := luahooks.RunLocal(ctx, s, o, side, client, env, env)
	var fl *kit.FileLimitError
	if errors.As(err, &fl) && fl.FitsOneSide(&o) {
		return runLocalSplit(ctx, c.args, o, func(o kit.Options) (*kit.Result, error) { return runSide(o, client) }, out, stderr)
	}
	if lr == nil || lr.Client == nil {
		return nil, err
	}
	return lr.Client.Kit, err
}

// openOutputs opens the files the options name: -A's samples and, on an
// rr client (or --local), --log-rtt's round trips.
func openOutputs(outputs *outputFiles, o *kit.Options, local bool) error {
	if o.AllSamples != "" {
		if err := outputs.open("-A/--all-samples", o.AllSamples, kit.WriteSamplesCSV); err != nil {
			return err
		}
	}
	if o.Report != "" {
		if err := outputs.open("--report", o.Report, writeRunReport); err != nil {
			return err
		}
	}
	if o.LogRTT != "" && (o.Client || local) && o.Workload.IsRR() {
		name := o.LogRTT
		write := func(w io.Writer, r *kit.Result) error { return kit.WriteRTTLog(w, name, r) }
		if err := outputs.open("--log-rtt", name, write); err != nil {
			return err
		}
	}
	return nil
}

// report prints the result as key=value lines or JSON, and --histogram's
// text histogram (to stderr after JSON or a Go benchmark line, which a
// program reads whole), then writes the output files (-A, --log-rtt,
// --report).
func report(stdout, stderr io.Writer, res *kit.Result, outputs outputFiles) error {
	var err error
	hist := stdout
	switch {
	case res.Options.JSON:
		err = kit.WriteJSON(stdout, res)
		hist = stderr
	case res.Options.GoBench:
		err = kit.WriteGoBench(stdout, res)
		hist = stderr
	default:
		err = kit.WriteKeyValues(stdout, res)
	}
	if err == nil && res.Options.Histogram {
		err = kit.WriteLatencyHistogram(hist, res)
	}
	if serr := outputs.writeAll(res); err == nil {
		err = serr
	}
	return err
}

// printError prints each line of err prefixed with the command's name.
func printError(w io.Writer, err error) {
	for _, line := range strings.Split(err.Error(), "\n") {
		fmt.Fprintf(w, "hookperf: %s\n", line)
	}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: hookperf WORKLOAD [flags]")
	fmt.Fprintln(w, "workloads: tcp_rr tcp_crr tcp_stream udp_rr udp_stream")
	fmt.Fprintln(w, "a server runs without -c and serves one test; a client runs with -c -H HOST; --local runs both")
	fmt.Fprintln(w, "       hookperf ab WORKLOAD [flags] --b FLAGS   (A/B in interleaved rounds, a verdict: hookperf ab --help)")
	fmt.Fprintln(w, "       hookperf compare [flags] OLD NEW   (regression gating of two sets of runs: hookperf compare --help)")
	fmt.Fprintln(w, "       hookperf report [-o FILE.html] RESULT.json...   (saved --json runs as one HTML file: hookperf report --help)")
	fmt.Fprintln(w, "\nflags, by where they apply; [neper] flags mean what neper's do, [rushit] rushit's, [hookperf] are hookperf's own:")
	writeFlagHelp(w)
	fmt.Fprintln(w, "\nexit status: 0 done, 1 the run failed, 2 usage or script error, 130/143 interrupted by SIGINT/SIGTERM (the report so far is printed), n from a script's os.exit(n)")
}
