package kit

import (
	"fmt"
	"io"
	"math"
	"strings"
	"time"
)

// histogramRows is how many rows the text histogram has at most.
const histogramRows = 16

// WriteLatencyHistogram writes an rr client's latencies as a compact text
// histogram (--histogram): rows of log-spaced latency ranges from the
// fastest to the slowest transaction, each with a bar, its share of the
// transactions and the share done by its end; the requested percentiles
// are marked on the rows that hold them. Nothing is written without
// latencies.
func WriteLatencyHistogram(w io.Writer, r *Result) error {
	if r.Latency == nil || len(r.Latency.Histogram) == 0 {
		return nil
	}
	l := r.Latency
	lo, hi := float64(max(l.Min, 1)), float64(max(l.Max, l.Min+1))
	n := histogramRows
	step := math.Pow(hi/lo, 1/float64(n))
	if step < 1.05 {
		// A narrow spread: fewer, wider rows.
		n = max(1, int(math.Log(hi/lo)/math.Log(1.05))+1)
		step = math.Pow(hi/lo, 1/float64(n))
	}
	counts := make([]uint64, n)
	for _, b := range l.Histogram {
		mid := math.Max(float64(b.Low+b.High)/2, lo)
		i := int(math.Log(mid/lo) / math.Log(step))
		counts[min(max(i, 0), n-1)] += b.Count
	}
	var total, most uint64
	for _, c := range counts {
		total += c
		most = max(most, c)
	}
	if total == 0 {
		return nil
	}
	if _, err := fmt.Fprintf(w, "latency histogram: %d transactions, %v to %v\n", total, l.Min, l.Max); err != nil {
		return err
	}
	const barWidth = 30
	var done uint64
	for i, c := range counts {
		from := time.Duration(lo * math.Pow(step, float64(i)))
		to := time.Duration(lo * math.Pow(step, float64(i+1)))
		done += c
		var marks []string
		for _, p := range l.Percentiles {
			if v := float64(p.Value); v >= float64(from) && (v < float64(to) || i == n-1) {
				marks = append(marks, "p"+trimFloat(p.P))
			}
		}
		mark := ""
		if len(marks) > 0 {
			mark = " ◀ " + strings.Join(marks, " ")
		}
		_, err := fmt.Fprintf(w, "%10s %s %5.1f%% %6.2f%%%s\n",
			shortDuration(from), bar(float64(c)/float64(most), barWidth), 100*float64(c)/float64(total), 100*float64(done)/float64(total), mark)
		if err != nil {
			return err
		}
	}
	return nil
}

// bar draws a fraction of width cells with eighth-cell blocks.
func bar(frac float64, width int) string {
	eighths := int(math.Round(frac * float64(width*8)))
	if frac > 0 && eighths == 0 {
		eighths = 1 // something is there
	}
	full, part := eighths/8, eighths%8
	s := strings.Repeat("█", full)
	if part > 0 {
		s += string([]rune("▏▎▍▌▋▊▉")[part-1])
		full++
	}
	return "|" + s + strings.Repeat(" ", width-full) + "|"
}

// shortDuration prints d with three significant digits.
func shortDuration(d time.Duration) string {
	switch {
	case d < time.Microsecond:
		return fmt.Sprintf("%dns", d.Nanoseconds())
	case d < time.Millisecond:
		return fmt.Sprintf("%.3gµs", float64(d)/1e3)
	case d < time.Second:
		return fmt.Sprintf("%.3gms", float64(d)/1e6)
	}
	return fmt.Sprintf("%.3gs", d.Seconds())
}

// trimFloat prints a percentile's p without trailing zeros.
func trimFloat(p float64) string { return strings.TrimSuffix(fmt.Sprintf("%g", p), ".0") }
