package kit

import (
	"bufio"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"time"
)

// --log-rtt: an rr client keeps every transaction's round-trip time, up
// to --logrtt-entries-per-flow a flow, and writes them after the run in
// neper's format (see WriteRTTLog).

// DefaultLogRTTFile is the file --log-rtt writes when given no name, as
// neper's.
const DefaultLogRTTFile = "rtt_samples.txt"

// DefaultLogRTTPerFlow is neper's --logrtt-entries-per-flow.
const DefaultLogRTTPerFlow = 10000

// RTTEntry is one logged transaction.
type RTTEntry struct {
	At     time.Duration // when it completed, since the start of measurement
	Worker int           // the client worker (neper's thread_id)
	Flow   int           // the flow's id
	RTT    time.Duration
}

// rttLog is a client worker's log.
type rttLog struct {
	perFlow int
	counts  map[int]int // flow id → entries logged
	entries []RTTEntry
}

func newRTTLog(perFlow int) *rttLog {
	return &rttLog{perFlow: perFlow, counts: map[int]int{}}
}

// add logs a transaction of flow id, unless the flow has its fill.
func (l *rttLog) add(worker, flow int, at, rtt time.Duration) {
	if l.counts[flow] >= l.perFlow {
		return
	}
	l.counts[flow]++
	l.entries = append(l.entries, RTTEntry{At: at, Worker: worker, Flow: flow, RTT: rtt})
}

// WriteRTTLog writes r's logged round trips as neper's --log-rtt does: a
// header line and a line per transaction (seconds since the start, the
// worker, the flow, the RTT in seconds), in columns separated by spaces,
// or by commas when name ends in .csv; flow by flow, in the order logged.
func WriteRTTLog(w io.Writer, name string, r *Result) error {
	sep := " "
	if filepath.Ext(name) == ".csv" {
		sep = ","
	}
	entries := slices.Clone(r.RTTLog)
	slices.SortStableFunc(entries, func(a, b RTTEntry) int { return a.Flow - b.Flow })
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "%15s%s%10s%s%10s%s%12s\n", "timestamp", sep, "thread_id", sep, "flow_id", sep, "rtt")
	for _, e := range entries {
		fmt.Fprintf(bw, "%15.9f%s%10d%s%10d%s%12.9f\n", e.At.Seconds(), sep, e.Worker, sep, e.Flow, sep, e.RTT.Seconds())
	}
	return bw.Flush()
}
