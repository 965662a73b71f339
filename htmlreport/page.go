package htmlreport

import (
	"embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot/plotter"
)

//go:embed *.html.tmpl
var templateFiles embed.FS

// pages are the report's templates: runs.html.tmpl (runs), ab.html.tmpl
// (a verdict), both with head.html.tmpl's style.
var pages = template.Must(template.ParseFS(templateFiles, "*.html.tmpl"))

// figure is one row of the summary table: a figure of this side and of
// its peer ("" where the run has none).
type figure struct {
	Name, Local, Remote, Note string
}

// pair is one key and value of a table.
type pair struct{ Key, Value string }

// runView is what the page shows of one run.
type runView struct {
	Name     string
	Title    string
	Verdict  string // the run in one sentence
	Local    string // "client" or "server"
	Remote   string
	Figures  []figure
	Charts   []*chart
	Options  []pair
	Results  []pair
	Env      []pair
	FlowNote string
}

// Write writes the report of one or more runs as one HTML file.
func Write(w io.Writer, runs ...*Run) error {
	if len(runs) == 0 {
		return fmt.Errorf("no run to report")
	}
	var views []*runView
	for i, r := range runs {
		v, err := view(r)
		if err != nil {
			return err
		}
		if len(runs) > 1 {
			if v.Name == "" {
				v.Name = fmt.Sprintf("run %d", i+1)
			}
			for _, c := range v.Charts {
				c.ID = fmt.Sprintf("run%d-%s", i+1, c.ID) // ids unique in the page
			}
		}
		views = append(views, v)
	}
	title := views[0].Title
	var overview []*chart
	if len(views) > 1 {
		title = fmt.Sprintf("hookperf: %d runs", len(views))
		names := make([]string, len(views))
		for i, v := range views {
			names[i] = v.Name
		}
		var err error
		if overview, err = overviewCharts(runs, names); err != nil {
			return err
		}
	}
	return pages.ExecuteTemplate(w, "runs.html.tmpl", struct {
		Title    string
		Runs     []*runView
		Overview []*chart
	}{title, views, overview})
}

// view lays out one run.
func view(r *Run) (*runView, error) {
	charts, err := runCharts(r)
	if err != nil {
		return nil, fmt.Errorf("drawing %s: %w", r.Workload(), err)
	}
	local, remote := r.sides()
	v := &runView{
		Name:   r.Name,
		Title:  fmt.Sprintf("hookperf %s, %s × %s, %s (%s's view)", r.Workload(), plural(r.Option("num_flows"), "flow"), plural(r.Option("num_threads"), "thread"), length(r), local),
		Local:  local,
		Remote: remote,
		Charts: charts,
	}
	v.Verdict = summary(r)
	v.Figures = figures(r)
	v.Options = sortedPairs(r.Options)
	v.Results = sortedPairs(r.Results)
	e := r.Environment
	v.Env = []pair{
		{"host", e.Hostname}, {"kernel", e.Kernel}, {"machine", e.Machine},
		{"CPUs", strconv.Itoa(e.CPUs)}, {"hookperf", e.Version}, {"Go", e.Go},
	}
	return v, nil
}

// length is how long the run was asked to be: seconds, or a number of
// transactions (neper's negative -l).
func length(r *Run) string {
	l := r.Option("test_length")
	if n, ok := strings.CutPrefix(l, "-"); ok {
		return plural(n, "transaction")
	}
	return l + " s"
}

// plural puts n before noun, with an s unless n is 1.
func plural(n, noun string) string {
	if n == "1" {
		return n + " " + noun
	}
	return n + " " + noun + "s"
}

// text prints a JSON value as the key=value report does.
func text(v any) string {
	switch v := v.(type) {
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case string:
		return v
	default:
		return fmt.Sprint(v)
	}
}

// sortedPairs lists a map's values as text, by key.
func sortedPairs(m map[string]any) []pair {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]pair, len(keys))
	for i, k := range keys {
		out[i] = pair{k, text(m[k])}
	}
	return out
}

// summary says the run's outcome in one sentence: how fast, how steady.
func summary(r *Run) string {
	u := r.unit()
	var head string
	if r.IsRR() {
		t, _ := r.Result("throughput")
		head = fmt.Sprintf("%s transactions/s", number(t))
		if p50, ok := r.Result("latency_p50"); ok {
			head += fmt.Sprintf(", median round trip %s", micros(p50*1e6))
		} else if m, ok := r.Result("latency_mean"); ok {
			head += fmt.Sprintf(", mean round trip %s", micros(m*1e6))
		}
	} else {
		t, _ := r.Result("throughput_Mbps")
		head = fmt.Sprintf("%s Mbit/s", number(t))
	}
	t, c := series(r.Samples, u.count)
	if cv, ok := variation(rates(t, c, u.scale)); ok {
		steady := "steady"
		switch {
		case cv > 0.10:
			steady = "unsteady"
		case cv > 0.03:
			steady = "fairly steady"
		}
		head += fmt.Sprintf("; %s (intervals vary by %.1f%%)", steady, 100*cv)
	}
	return head + "."
}

// variation is the coefficient of variation of a series' values (false
// with fewer than 3 points).
func variation(pts plotter.XYer) (float64, bool) {
	n := pts.Len()
	if n < 3 {
		return 0, false
	}
	var sum, sq float64
	for i := 0; i < n; i++ {
		_, y := pts.XY(i)
		sum += y
	}
	mean := sum / float64(n)
	if mean == 0 {
		return 0, false
	}
	for i := 0; i < n; i++ {
		_, y := pts.XY(i)
		sq += (y - mean) * (y - mean)
	}
	return math.Sqrt(sq/float64(n-1)) / mean, true
}

// number prints a figure with thousands separated.
func number(v float64) string {
	s := strconv.FormatFloat(v, 'f', 1, 64)
	if math.Abs(v) >= 100 || v == math.Trunc(v) {
		s = strconv.FormatFloat(v, 'f', 0, 64)
	}
	intPart, frac, _ := strings.Cut(s, ".")
	neg := strings.HasPrefix(intPart, "-")
	intPart = strings.TrimPrefix(intPart, "-")
	var b strings.Builder
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteRune(',')
		}
		b.WriteRune(c)
	}
	out := b.String()
	if neg {
		out = "-" + out
	}
	if frac != "" {
		out += "." + frac
	}
	return out
}

// figures is the summary table.
func figures(r *Run) []figure {
	var out []figure
	get := func(key string, f func(float64) string) string {
		if v, ok := r.Result(key); ok {
			return f(v)
		}
		return ""
	}
	count := func(v float64) string { return number(v) }
	mbps := func(v float64) string { return number(v/1e6) + " Mbit/s" }
	if r.IsRR() {
		out = append(out, figure{Name: "throughput", Local: get("throughput", count) + " transactions/s",
			Note: "transactions a second over the measured window"})
		// min, mean, the requested percentiles in order, max
		lat := func(name, key string) {
			if v, ok := r.Result(key); ok {
				out = append(out, figure{Name: name + " round trip", Local: micros(v * 1e6)})
			}
		}
		lat("min", "latency_min")
		lat("mean", "latency_mean")
		for _, p := range percentiles(r) {
			out = append(out, figure{Name: p.Name + " round trip", Local: micros(p.Value)})
		}
		lat("max", "latency_max")
		out = append(out, figure{Name: "transactions", Local: get("num_transactions", count)})
	} else {
		out = append(out, figure{Name: "throughput (received)", Local: get("throughput_Mbps", func(v float64) string { return number(v) + " Mbit/s" }),
			Note: "what the receiving side counted"})
		if v, ok := r.Result("sender_throughput_Mbps"); ok {
			out = append(out, figure{Name: "sent", Local: number(v) + " Mbit/s", Note: "the writing side's rate"})
			if got, _ := r.Result("throughput_Mbps"); r.Workload() == "udp_stream" && v > 0 {
				out = append(out, figure{Name: "lost", Local: fmt.Sprintf("%.2f%%", 100*math.Max(0, 1-got/v)),
					Note: "of what was sent, the share that never arrived (dropped by a socket, a queue or the link)"})
			}
		}
	}
	out = append(out, figure{Name: "traffic both ways", Local: get("local_throughput", mbps), Remote: get("remote_throughput", mbps)})
	out = append(out, figure{Name: "bytes read", Local: get("bytes_read", count)}, figure{Name: "bytes written", Local: get("bytes_written", count)})
	if _, ok := r.Result("tcp_retransmits"); ok {
		out = append(out, figure{Name: "TCP retransmits", Local: get("tcp_retransmits", count), Remote: get("remote_tcp_retransmits", count),
			Note: "segments each side sent again"})
	}
	for _, k := range []struct{ key, name, note string }{
		{"udp_resends", "UDP requests resent", "no response within --udp-timeout"},
		{"udp_duplicates", "UDP duplicate responses", ""},
		{"udp_stale", "UDP stale responses", "answers to a request since resent"},
	} {
		if _, ok := r.Result(k.key); ok {
			out = append(out, figure{Name: k.name, Local: get(k.key, count), Note: k.note})
		}
	}
	if cpu, ok := cpuShare(r.Samples); ok {
		f := figure{Name: "CPU", Local: fmt.Sprintf("%.0f%% of one CPU", cpu), Note: "the side's worker threads over the run"}
		if rc, ok := cpuShare(r.Remote); ok {
			f.Remote = fmt.Sprintf("%.0f%% of one CPU", rc)
		}
		out = append(out, f)
	}
	if j, ok := r.Result("flow_fairness"); ok {
		u := r.unit().name
		out = append(out,
			figure{Name: "slowest flow", Local: get("flow_throughput_min", count) + " " + u},
			figure{Name: "fastest flow", Local: get("flow_throughput_max", count) + " " + u},
			figure{Name: "flow fairness (Jain)", Local: strconv.FormatFloat(j, 'f', 3, 64), Note: "1: every flow moved as much; 1/n: one flow moved all"})
	}
	return out
}

// cpuShare is a side's CPU use over its samples, in % of one CPU.
func cpuShare(ss []Sample) (float64, bool) {
	if len(ss) < 2 {
		return 0, false
	}
	first, last := ss[0], ss[len(ss)-1]
	if dt := last.Time - first.Time; dt > 0 {
		return 100 * (last.CPU - first.CPU) / dt, true
	}
	return 0, false
}
