package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/hookperf/hookperf/gating"
	"github.com/hookperf/hookperf/htmlreport"
)

// Exit statuses of the gating commands, apart from the run's (SPEC.md).
const (
	exitRegression   = 3 // a metric regressed
	exitInconclusive = 4 // no regression found, but a metric could not be decided
)

const compareUsage = `usage: hookperf compare [flags] OLD NEW
compares two sets of runs taken at different times (an old and a new kernel):
each file holds several runs, as hookperf --json documents, --gobench lines
or go test -bench output.
flags:
  --threshold PCT   the smallest change that counts, in % (default 5)
  --alpha A         the significance level (default 0.05)
  --metrics LIST    compare only these metrics (units), e.g. trans/s,lat-p99-ns
  --json            the report as one JSON document
  --ktap            the report as KTAP (one ok / not ok line a metric)
  --report FILE     the verdict as an HTML file too: each metric's runs
                    and its verdict, drawn
exit status: 0 no regression, 3 regression, 4 inconclusive, 2 usage error`

// runCompare is `hookperf compare`.
func runCompare(args []string, stdout, stderr io.Writer) int {
	gate := newGateFlags()
	var files []string
	sc := &argScanner{args: args}
	for sc.next() {
		if sc.name == "-h" || sc.name == "--help" {
			fmt.Fprintln(stdout, compareUsage)
			return exitOK
		}
		if ok, err := gate.parse(sc.name, sc.value); ok {
			if err != nil {
				sc.errs = append(sc.errs, err)
			}
			continue
		}
		if strings.HasPrefix(sc.arg, "-") && sc.arg != "-" {
			sc.errs = append(sc.errs, fmt.Errorf("unknown flag %s", sc.arg))
			continue
		}
		files = append(files, sc.arg)
	}
	if len(files) != 2 {
		sc.errs = append(sc.errs, fmt.Errorf("want two files, OLD and NEW, got %d", len(files)))
	}
	if err := errors.Join(sc.errs...); err != nil {
		printError(stderr, fmt.Errorf("compare: %w", err))
		fmt.Fprintln(stderr, "hookperf: try 'hookperf compare --help'")
		return exitUsage
	}
	var sets [2]*gating.Set
	for i, f := range files {
		set, err := readSet(f)
		if err != nil {
			printError(stderr, fmt.Errorf("compare: %s: %w", f, err))
			return exitUsage
		}
		sets[i] = set
	}
	rows, err := gating.CompareSets(sets[0], sets[1], gate.units, gate.cfg)
	if err != nil {
		printError(stderr, fmt.Errorf("compare: %w", err))
		return exitUsage
	}
	report := gating.NewReport(rows, gate.cfg, gating.DriftNote)
	if err := gate.write(stdout, report, fmt.Sprintf("hookperf compare: A = %s, B = %s", files[0], files[1])); err != nil {
		printError(stderr, err)
		return exitRun
	}
	return gateStatus(report.Verdict)
}

// gateFlags are the flags of a verdict, which hookperf compare and ab
// share: --threshold, --alpha, --metrics, --json, --ktap.
type gateFlags struct {
	cfg    gating.Config
	units  []string
	format string // "table", "json" or "ktap"
	report string // --report: the verdict as an HTML file too
}

func newGateFlags() gateFlags { return gateFlags{cfg: gating.DefaultConfig, format: "table"} }

// parse takes flag name if it is one of them (ok), reading its value with
// value.
func (g *gateFlags) parse(name string, value func() string) (ok bool, err error) {
	switch name {
	case "--threshold":
		v := value()
		f, perr := strconv.ParseFloat(v, 64)
		if perr != nil || f <= 0 || f >= 1000 {
			return true, fmt.Errorf("--threshold: want a percentage in (0, 1000), got %q", v)
		}
		g.cfg.Threshold = f / 100
	case "--alpha":
		v := value()
		f, perr := strconv.ParseFloat(v, 64)
		if perr != nil || f <= 0 || f >= 1 {
			return true, fmt.Errorf("--alpha: want a level in (0, 1), got %q", v)
		}
		g.cfg.Alpha = f
	case "--metrics":
		for _, u := range strings.Split(value(), ",") {
			if u = strings.TrimSpace(u); u != "" {
				g.units = append(g.units, u)
			}
		}
	case "--json":
		g.format = "json"
	case "--ktap":
		g.format = "ktap"
	case "--report":
		g.report = value()
		if err := checkWritable(g.report); err != nil {
			return true, fmt.Errorf("--report: %w", err)
		}
	default:
		return false, nil
	}
	return true, nil
}

// write writes the report in the chosen format, and as HTML to
// --report's file (title names what was compared).
func (g *gateFlags) write(w io.Writer, r *gating.Report, title string) error {
	var err error
	switch g.format {
	case "json":
		err = r.WriteJSON(w)
	case "ktap":
		err = r.WriteKTAP(w)
	default:
		err = r.WriteTable(w)
	}
	if err == nil && g.report != "" {
		err = writeFileWhole(g.report, func(w io.Writer) error { return htmlreport.WriteAB(w, r, title) })
		if err != nil {
			err = fmt.Errorf("--report: %w", err)
		}
	}
	return err
}

// gateStatus is the exit status of a verdict.
func gateStatus(v gating.Verdict) int {
	switch v {
	case gating.Regression:
		return exitRegression
	case gating.Inconclusive:
		return exitInconclusive
	}
	return exitOK
}

// readSet reads a file of runs ("-": standard input).
func readSet(path string) (*gating.Set, error) {
	if path == "-" {
		return gating.Read(os.Stdin)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return gating.Read(f)
}
