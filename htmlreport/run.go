// Package htmlreport draws a run as one self-contained HTML file: its
// options and environment, the headline figures of both sides as a table
// (readable without scripts), and charts made in Go as inline SVG
// (gonum.org/v1/plot): throughput over time, total and per flow, the
// latency histogram and CDF with the requested percentiles marked, each
// flow's share, and each side's CPU use over time. The file fetches
// nothing and runs no script.
//
// WriteAB draws a verdict of package gating the same way: each metric's
// runs, A's and B's, and the rounds' ratios.
//
// A report is built from results, never from inside a run: from the
// --json document a run writes (Decode), or from a kit.Result through
// the same document (FromResult), so that a saved result and a live run
// draw the same report.
package htmlreport

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/hookperf/hookperf/kit"
)

// Run is one side's result as the --json document gives it.
type Run struct {
	// Name labels the run in a report of several (a file name).
	Name string `json:"-"`

	Side        string         `json:"side"`
	Options     map[string]any `json:"options"`
	Results     map[string]any `json:"results"`
	Environment Environment    `json:"environment"`
	Samples     []Sample       `json:"samples"`
	Remote      []Sample       `json:"remote_samples"`
	Flows       []FlowSample   `json:"flow_samples"`
	Histogram   []Bucket       `json:"latency_histogram"`
}

// Environment is what the run ran on.
type Environment struct {
	Hostname string `json:"hostname"`
	Kernel   string `json:"kernel"`
	Machine  string `json:"machine"`
	CPUs     int    `json:"cpus"`
	Version  string `json:"version"`
	Go       string `json:"go"`
}

// Sample is a side's cumulative counts at Time seconds into the run.
type Sample struct {
	Time         float64 `json:"time"`
	Transactions float64 `json:"transactions"`
	BytesRead    float64 `json:"bytes_read"`
	BytesWritten float64 `json:"bytes_written"`
	Warmup       bool    `json:"warmup"`
	CPU          float64 `json:"cpu"` // CPU seconds of the side's workers
}

// FlowSample is one flow's cumulative counts at Time seconds.
type FlowSample struct {
	Time         float64 `json:"time"`
	Worker       int     `json:"worker"`
	Flow         int     `json:"flow_id"`
	Transactions float64 `json:"transactions"`
	BytesRead    float64 `json:"bytes_read"`
	BytesWritten float64 `json:"bytes_written"`
}

// Bucket is one latency histogram bucket, in seconds.
type Bucket struct {
	Low   float64 `json:"low"`
	High  float64 `json:"high"`
	Count float64 `json:"count"`
}

// Decode reads one --json document.
func Decode(r io.Reader) (*Run, error) {
	var run Run
	dec := json.NewDecoder(r)
	if err := dec.Decode(&run); err != nil {
		return nil, fmt.Errorf("not a hookperf --json result: %w", err)
	}
	if run.Options == nil || run.Results == nil {
		return nil, fmt.Errorf("not a hookperf --json result: no options or results")
	}
	if w, _ := run.Options["workload"].(string); w == "" {
		return nil, fmt.Errorf("not a hookperf --json result: no workload")
	}
	return &run, nil
}

// FromResult makes the run of a kit result, through its --json document.
func FromResult(r *kit.Result) (*Run, error) {
	var buf bytes.Buffer
	if err := kit.WriteJSON(&buf, r); err != nil {
		return nil, err
	}
	return Decode(&buf)
}

// Workload is the run's workload name.
func (r *Run) Workload() string { s, _ := r.Options["workload"].(string); return s }

// IsRR reports whether the workload is request/response.
func (r *Run) IsRR() bool {
	switch r.Workload() {
	case "tcp_rr", "tcp_crr", "udp_rr":
		return true
	}
	return false
}

// Result is a numeric result by key, and whether the run has it.
func (r *Run) Result(key string) (float64, bool) {
	v, ok := r.Results[key].(float64)
	return v, ok
}

// Option is an option's value as text.
func (r *Run) Option(key string) string {
	switch v := r.Options[key].(type) {
	case string:
		return v
	case bool:
		return fmt.Sprint(v)
	case float64:
		return fmt.Sprint(v)
	case nil:
		return ""
	default:
		return fmt.Sprint(v)
	}
}
