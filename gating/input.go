package gating

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// Set is a set of runs: for each benchmark (a configuration, named as a
// Go benchmark), the values of each metric (by unit) over the runs, in
// the order read.
type Set struct {
	// Benches are the benchmark names in the order first seen.
	Benches []string
	// Runs maps a benchmark and a metric to its values.
	Runs map[string]map[string][]float64
}

// Add records one run of bench: a value per metric.
func (s *Set) Add(bench string, metrics map[string]float64) {
	if s.Runs == nil {
		s.Runs = map[string]map[string][]float64{}
	}
	m, ok := s.Runs[bench]
	if !ok {
		m = map[string][]float64{}
		s.Runs[bench] = m
		s.Benches = append(s.Benches, bench)
	}
	derived(metrics)
	for unit, v := range metrics {
		m[unit] = append(m[unit], v)
	}
}

// Read reads a set of runs in any of the forms hookperf and Go write:
// lines in Go's benchmark format (hookperf --gobench, or the output of
// `go test -bench`, whose other lines are skipped), or a stream of
// hookperf --json documents (each carries its run's benchmark line).
func Read(r io.Reader) (*Set, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	set := &Set{}
	if t := bytes.TrimSpace(data); len(t) > 0 && t[0] == '{' {
		err = readJSON(set, data)
	} else {
		err = readLines(set, data)
	}
	if err != nil {
		return nil, err
	}
	if len(set.Benches) == 0 {
		return nil, errors.New("no runs in it: want hookperf --json documents, --gobench lines or go test -bench output")
	}
	return set, nil
}

func readJSON(set *Set, data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	for n := 1; ; n++ {
		var doc struct {
			GoBench string `json:"gobench"`
		}
		if err := dec.Decode(&doc); err == io.EOF {
			return nil
		} else if err != nil {
			return fmt.Errorf("JSON document %d: %w", n, err)
		}
		if doc.GoBench == "" {
			return fmt.Errorf("JSON document %d has no \"gobench\" line (a hookperf --json result has)", n)
		}
		if err := readLine(set, doc.GoBench); err != nil {
			return fmt.Errorf("JSON document %d: %w", n, err)
		}
	}
}

func readLines(set *Set, data []byte) error {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if !strings.HasPrefix(line, "Benchmark") {
			continue // go test's other lines: goos, PASS, ok …
		}
		if err := readLine(set, line); err != nil {
			return fmt.Errorf("line %d: %w", n, err)
		}
	}
	return sc.Err()
}

// readLine adds the run of one benchmark line to set.
func readLine(set *Set, line string) error {
	bench, metrics, err := ParseLine(line)
	if err != nil {
		return err
	}
	set.Add(bench, metrics)
	return nil
}

// ParseLine reads one line of Go's benchmark format: the name, the
// iterations, then value-unit pairs (hookperf's --gobench line).
func ParseLine(line string) (bench string, metrics map[string]float64, err error) {
	f := strings.Fields(line)
	if len(f) < 4 || len(f)%2 != 0 {
		return "", nil, fmt.Errorf("%q is not a benchmark line (name, iterations, then value and unit pairs)", line)
	}
	if _, err := strconv.ParseUint(f[1], 10, 64); err != nil {
		return "", nil, fmt.Errorf("%q: iterations %q is not a count", line, f[1])
	}
	metrics = map[string]float64{}
	for i := 2; i < len(f); i += 2 {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return "", nil, fmt.Errorf("%q: %q is not a number", line, f[i])
		}
		metrics[f[i+1]] = v
	}
	return f[0], metrics, nil
}

// CompareSets compares every metric two sets share, benchmark by
// benchmark (unpaired: the sets were taken apart in time). units, if
// given, limits the metrics. It fails when the sets share no metric.
func CompareSets(old, new *Set, units []string, cfg Config) ([]Row, error) {
	var rows []Row
	for _, bench := range old.Benches {
		nm, ok := new.Runs[bench]
		if !ok {
			continue
		}
		om := old.Runs[bench]
		for _, unit := range sortedUnits(om) {
			if len(units) > 0 && !slices.Contains(units, unit) {
				continue
			}
			if nv, ok := nm[unit]; ok {
				rows = append(rows, Compare(bench, unit, om[unit], nv, cfg))
			}
		}
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("the two sets share no benchmark and metric (old: %s; new: %s)", describe(old), describe(new))
	}
	return rows, nil
}

func describe(s *Set) string {
	var parts []string
	for _, b := range s.Benches {
		parts = append(parts, b+" ["+strings.Join(sortedUnits(s.Runs[b]), " ")+"]")
	}
	return strings.Join(parts, ", ")
}

// Rounds are the runs of an A/B comparison in one sitting: round i ran A
// and B back to back, in alternating order.
type Rounds struct {
	A, B *Set
}

// CompareRounds compares A and B round by round (paired), every metric
// both have; units, if given, limits the metrics. A and B may be named
// differently (they differ in options): the first benchmark of each is
// compared.
func CompareRounds(r Rounds, units []string, cfg Config) ([]Row, error) {
	return compareRoundsAt(r, units, cfg, confidence)
}

// compareRoundsAt is CompareRounds with intervals at the given level.
func compareRoundsAt(r Rounds, units []string, cfg Config, level float64) ([]Row, error) {
	if r.A == nil || r.B == nil || len(r.A.Benches) == 0 || len(r.B.Benches) == 0 {
		return nil, errors.New("no rounds to compare")
	}
	an, bn := r.A.Benches[0], r.B.Benches[0]
	name := an
	if an != bn {
		name = an + " vs " + strings.TrimPrefix(bn, "Benchmark")
	}
	am, bm := r.A.Runs[an], r.B.Runs[bn]
	var rows []Row
	for _, unit := range sortedUnits(am) {
		if len(units) > 0 && !slices.Contains(units, unit) {
			continue
		}
		bv, ok := bm[unit]
		if !ok {
			continue
		}
		row, err := comparePairedAt(name, unit, am[unit], bv, cfg, level)
		if err != nil {
			return nil, err
		}
		rows = append(rows, row)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("A and B share no metric (A: %s; B: %s)", describe(r.A), describe(r.B))
	}
	return rows, nil
}
