package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/hookperf/hookperf/htmlreport"
	"github.com/hookperf/hookperf/kit"
)

const reportUsage = `usage: hookperf report [-o FILE.html] RESULT.json...
draws saved runs (hookperf --json documents) as one HTML file: a section a
run, in the order given, with an overview table when there are several.
flags:
  -o, --output FILE   the HTML file to write (default report.html)
exit status: 0 written, 2 usage error or a file that is not a result`

// runReport is `hookperf report`.
func runReport(args []string, stdout, stderr io.Writer) int {
	out := "report.html"
	var files []string
	sc := &argScanner{args: args}
	for sc.next() {
		switch {
		case sc.name == "-h" || sc.name == "--help":
			fmt.Fprintln(stdout, reportUsage)
			return exitOK
		case sc.name == "-o" || sc.name == "--output":
			out = sc.value()
			if out == "" {
				sc.errs = append(sc.errs, errors.New("-o/--output: want a file name"))
			}
		case strings.HasPrefix(sc.arg, "-") && sc.arg != "-":
			sc.errs = append(sc.errs, fmt.Errorf("unknown flag %s", sc.arg))
		default:
			files = append(files, sc.arg)
		}
	}
	if len(files) == 0 {
		sc.errs = append(sc.errs, errors.New("want at least one RESULT.json"))
	}
	if err := errors.Join(sc.errs...); err != nil {
		printError(stderr, fmt.Errorf("report: %w", err))
		fmt.Fprintln(stderr, "hookperf: try 'hookperf report --help'")
		return exitUsage
	}
	var runs []*htmlreport.Run
	for _, name := range files {
		r, err := readRun(name)
		if err != nil {
			printError(stderr, fmt.Errorf("report: %s: %w", name, err))
			return exitUsage
		}
		runs = append(runs, r)
	}
	if err := writeReportFile(out, runs...); err != nil {
		printError(stderr, fmt.Errorf("report: %w", err))
		return exitUsage
	}
	return exitOK
}

// readRun reads one saved result ("-": standard input).
func readRun(name string) (*htmlreport.Run, error) {
	var in io.Reader = os.Stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		in = f
	}
	r, err := htmlreport.Decode(in)
	if err != nil {
		return nil, err
	}
	r.Name = strings.TrimSuffix(filepath.Base(name), ".json")
	return r, nil
}

// writeReportFile writes the report of runs to path, replacing it only
// once it is whole.
func writeReportFile(path string, runs ...*htmlreport.Run) error {
	return writeFileWhole(path, func(w io.Writer) error { return htmlreport.Write(w, runs...) })
}

// checkWritable fails if path cannot be written, before any run: a file
// that did not exist is made and removed again.
func checkWritable(path string) error {
	_, statErr := os.Stat(path)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	f.Close()
	if errors.Is(statErr, fs.ErrNotExist) {
		return os.Remove(path)
	}
	return nil
}

// writeFileWhole writes path with write, replacing it only once the
// whole file is written.
func writeFileWhole(path string, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".hookperf-report-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := write(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// writeRunReport is --report's writer: the run's result as HTML.
func writeRunReport(w io.Writer, res *kit.Result) error {
	r, err := htmlreport.FromResult(res)
	if err != nil {
		return err
	}
	return htmlreport.Write(w, r)
}
