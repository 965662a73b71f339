package gating

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
)

// Report is a comparison's rows, its verdict and how it was made.
type Report struct {
	Rows    []Row
	Verdict Verdict
	Config  Config
	// Note is said with the table, e.g. that sets taken apart in time
	// cannot cancel drift.
	Note string
}

// NewReport gates rows under cfg.
func NewReport(rows []Row, cfg Config, note string) *Report {
	return &Report{Rows: rows, Verdict: Gate(rows), Config: cfg.withDefaults(), Note: note}
}

// DriftNote is the note of a comparison of sets taken apart in time.
const DriftNote = "the two sets were taken apart in time: a change of the machine between them (load, drift, a reboot) reads as a change of B; interleave A and B (hookperf ab) to cancel it"

// WriteTable writes the report as a table for people.
func (r *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "benchmark\tmetric\truns\tA median [95% CI]\tB median [95% CI]\tchange [95% CI]\tp\tverdict")
	for _, row := range r.Rows {
		runs := fmt.Sprintf("%d/%d", row.A.N, row.B.N)
		if row.Paired {
			runs = fmt.Sprintf("%d rounds", row.A.N)
		}
		verdict := row.Verdict.String()
		if row.Why != "" {
			verdict += " (" + row.Why + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%.3g\t%s\n", shortName(row.Bench), row.Metric, runs,
			sideString(row.A), sideString(row.B), changeString(row), row.P, verdict)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nverdict: %s (a regression is a significant change, p < %g, of at least %g %% for the worse)\n",
		r.Verdict, r.Config.Alpha, 100*r.Config.Threshold)
	if r.Note != "" {
		fmt.Fprintf(w, "note: %s\n", r.Note)
	}
	return nil
}

func shortName(b string) string { return strings.TrimPrefix(b, "Benchmark") }

func sideString(s Side) string {
	return fmt.Sprintf("%s [%s, %s]", number(s.Median), number(s.Lo), number(s.Hi))
}

// number writes a figure to four significant digits, whole numbers of
// four digits or more in full.
func number(x float64) string {
	switch {
	case math.IsInf(x, -1):
		return "-∞"
	case math.IsInf(x, 1):
		return "∞"
	case math.Abs(x) >= 1000:
		return fmt.Sprintf("%.0f", x)
	}
	return fmt.Sprintf("%.4g", x)
}

func pct(x float64) string {
	switch {
	case math.IsInf(x, -1):
		return "-∞"
	case math.IsInf(x, 1):
		return "+∞"
	case math.IsNaN(x):
		return "?"
	}
	return fmt.Sprintf("%+.1f%%", 100*x)
}

func changeString(r Row) string {
	return fmt.Sprintf("%s [%s, %s]", pct(r.Change), pct(r.Lo), pct(r.Hi))
}

// jsonNumber is a float that JSON can hold: null for ±Inf or NaN.
func jsonNumber(x float64) any {
	if math.IsInf(x, 0) || math.IsNaN(x) {
		return nil
	}
	return x
}

// WriteJSON writes the report as one JSON document.
func (r *Report) WriteJSON(w io.Writer) error {
	side := func(s Side) map[string]any {
		return map[string]any{"runs": s.N, "median": jsonNumber(s.Median), "ci_low": jsonNumber(s.Lo), "ci_high": jsonNumber(s.Hi)}
	}
	rows := make([]map[string]any, 0, len(r.Rows))
	for _, row := range r.Rows {
		rows = append(rows, map[string]any{
			"benchmark": row.Bench, "metric": row.Metric, "higher_is_better": row.HigherIsBetter,
			"paired": row.Paired, "a": side(row.A), "b": side(row.B),
			"change": jsonNumber(row.Change), "change_ci_low": jsonNumber(row.Lo), "change_ci_high": jsonNumber(row.Hi),
			"p": jsonNumber(row.P), "verdict": row.Verdict, "why": row.Why,
			"a_values": row.AValues, "b_values": row.BValues,
		})
	}
	doc := map[string]any{
		"verdict": r.Verdict, "alpha": r.Config.Alpha, "threshold": r.Config.Threshold,
		"rows": rows, "note": r.Note,
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

// ReadJSON reads a report WriteJSON wrote (an interval bound it wrote as
// null is infinite again).
func ReadJSON(r io.Reader) (*Report, error) {
	var doc struct {
		Verdict   *Verdict
		Alpha     float64
		Threshold float64
		Note      string
		Rows      []struct {
			Benchmark, Metric, Why string
			HigherIsBetter         bool `json:"higher_is_better"`
			Paired                 bool
			A, B                   struct {
				Runs   int
				Median *float64
				CILow  *float64 `json:"ci_low"`
				CIHigh *float64 `json:"ci_high"`
			}
			Change       *float64
			ChangeCILow  *float64 `json:"change_ci_low"`
			ChangeCIHigh *float64 `json:"change_ci_high"`
			P            *float64
			Verdict      Verdict
			AValues      []float64 `json:"a_values"`
			BValues      []float64 `json:"b_values"`
		}
	}
	if err := json.NewDecoder(r).Decode(&doc); err != nil {
		return nil, fmt.Errorf("not a hookperf verdict: %w", err)
	}
	if doc.Verdict == nil || doc.Rows == nil {
		return nil, fmt.Errorf("not a hookperf verdict: no verdict or rows")
	}
	or := func(p *float64, inf float64) float64 {
		if p == nil {
			return inf
		}
		return *p
	}
	rep := &Report{Verdict: *doc.Verdict, Config: Config{Alpha: doc.Alpha, Threshold: doc.Threshold}.withDefaults(), Note: doc.Note}
	for _, r := range doc.Rows {
		rep.Rows = append(rep.Rows, Row{
			Bench: r.Benchmark, Metric: r.Metric, HigherIsBetter: r.HigherIsBetter, Paired: r.Paired,
			A:      Side{N: r.A.Runs, Median: or(r.A.Median, math.NaN()), Lo: or(r.A.CILow, math.Inf(-1)), Hi: or(r.A.CIHigh, math.Inf(1))},
			B:      Side{N: r.B.Runs, Median: or(r.B.Median, math.NaN()), Lo: or(r.B.CILow, math.Inf(-1)), Hi: or(r.B.CIHigh, math.Inf(1))},
			Change: or(r.Change, math.NaN()), Lo: or(r.ChangeCILow, math.Inf(-1)), Hi: or(r.ChangeCIHigh, math.Inf(1)),
			P: or(r.P, math.NaN()), Verdict: r.Verdict, Why: r.Why, AValues: r.AValues, BValues: r.BValues,
		})
	}
	return rep, nil
}

// WriteKTAP writes the report as KTAP, as kernel CI systems parse
// kselftest results: one test a metric, "not ok" for a regression, a SKIP
// for an inconclusive one, the figures as diagnostic lines.
func (r *Report) WriteKTAP(w io.Writer) error {
	fmt.Fprintln(w, "KTAP version 1")
	fmt.Fprintf(w, "1..%d\n", len(r.Rows))
	for i, row := range r.Rows {
		fmt.Fprintf(w, "# A %s; B %s; change %s; p=%.3g\n", sideString(row.A), sideString(row.B), changeString(row), row.P)
		name := ktapName(shortName(row.Bench) + " " + row.Metric)
		switch row.Verdict {
		case Regression:
			fmt.Fprintf(w, "not ok %d %s # regression\n", i+1, name)
		case Inconclusive:
			fmt.Fprintf(w, "ok %d %s # SKIP inconclusive: %s\n", i+1, name, row.Why)
		default:
			fmt.Fprintf(w, "ok %d %s # %s\n", i+1, name, row.Verdict)
		}
	}
	_, err := fmt.Fprintf(w, "# verdict: %s\n", r.Verdict)
	return err
}

// ktapName keeps a test name to one line without the directive mark.
func ktapName(s string) string {
	return strings.NewReplacer("#", "_", "\n", " ").Replace(s)
}
