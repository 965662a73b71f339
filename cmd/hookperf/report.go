package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/hookperf/hookperf/gating"
	"github.com/hookperf/hookperf/htmlreport"
	"github.com/hookperf/hookperf/kit"
)

const reportUsage = `usage: hookperf report [-o FILE.html] RESULT.json...
draws saved runs (hookperf --json documents) as one HTML file: a section a
run, in the order given, with an overview table when there are several;
or one saved verdict (hookperf ab --json, hookperf compare --json) as
ab --report draws it.
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
	var verdict *gating.Report
	for _, name := range files {
		data, err := readInput(name)
		var r *htmlreport.Run
		switch {
		case err != nil:
		case isVerdict(data) && len(files) > 1:
			err = errors.New("a verdict (ab or compare --json) is drawn alone: give it as the only file")
		case isVerdict(data):
			verdict, err = gating.ReadJSON(bytes.NewReader(data))
		default:
			r, err = htmlreport.Decode(bytes.NewReader(data))
		}
		if err != nil {
			printError(stderr, fmt.Errorf("report: %s: %w", name, err))
			return exitUsage
		}
		if r != nil {
			r.Name = strings.TrimSuffix(filepath.Base(name), ".json")
			runs = append(runs, r)
		}
	}
	var err error
	if verdict != nil {
		err = writeFileWhole(out, func(w io.Writer) error {
			return htmlreport.WriteAB(w, verdict, "hookperf verdict: "+filepath.Base(files[0]))
		})
	} else {
		err = writeReportFile(out, runs...)
	}
	if err != nil {
		printError(stderr, fmt.Errorf("report: %w", err))
		return exitUsage
	}
	return exitOK
}

// readInput reads a saved document ("-": standard input).
func readInput(name string) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(os.Stdin)
	}
	return os.ReadFile(name)
}

// isVerdict reports whether a JSON document is a verdict (rows and a
// verdict) rather than a run (options and results).
func isVerdict(data []byte) bool {
	var keys map[string]json.RawMessage
	if json.Unmarshal(data, &keys) != nil {
		return false
	}
	_, rows := keys["rows"]
	_, verdict := keys["verdict"]
	return rows && verdict
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
