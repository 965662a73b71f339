package kit

import "slices"

// Per-flow fairness: how evenly a client's flows shared the run. Each
// flow counts what it moved over the whole run (transactions in an rr
// workload, bytes in a stream); the figures scale those counts to the
// run's headline rate, so that the flows' rates add up to it.

// FlowFigures is one client flow's share of the run.
type FlowFigures struct {
	Flow  int    // the flow's id (the client's index)
	Moved uint64 // transactions (rr) or bytes (streams) over the whole run
}

// Fairness summarises the flows' shares.
type Fairness struct {
	Flows int
	// Min and Max are the slowest and the fastest flow's rate, in the
	// headline's unit (trans/s or Mbit/s).
	Min, Max float64
	// Jain is Jain's fairness index of the flows' counts, (Σx)²/(n·Σx²):
	// 1 when every flow moved as much, 1/n when one flow moved all.
	Jain float64
}

// flowFigures lists the client flows of the side's workers by id.
func (s *sideRun) flowFigures() []FlowFigures {
	var out []FlowFigures
	for _, w := range s.list {
		for _, st := range w.flowStats {
			moved := st.transactions
			if s.opts.Workload.IsStream() {
				moved = st.bytesRead + st.bytesWritten
			}
			out = append(out, FlowFigures{Flow: st.id, Moved: moved})
		}
	}
	slices.SortFunc(out, func(a, b FlowFigures) int { return a.Flow - b.Flow })
	return out
}

// fairness summarises flows against a headline rate (the run's).
func fairness(flows []FlowFigures, headline float64) *Fairness {
	if len(flows) == 0 {
		return nil
	}
	var sum, sumSq float64
	lo, hi := flows[0].Moved, flows[0].Moved
	for _, f := range flows {
		x := float64(f.Moved)
		sum += x
		sumSq += x * x
		lo, hi = min(lo, f.Moved), max(hi, f.Moved)
	}
	fr := &Fairness{Flows: len(flows), Jain: 1}
	if sumSq > 0 {
		fr.Jain = sum * sum / (float64(len(flows)) * sumSq)
	}
	if sum > 0 {
		fr.Min, fr.Max = headline*float64(lo)/sum, headline*float64(hi)/sum
	}
	return fr
}

// FlowFairness is how evenly a client's flows shared the run, their rates
// in the headline's unit; nil without flows (a server).
func (r *Result) FlowFairness() *Fairness {
	headline := r.Throughput
	if r.Options.Workload.IsStream() {
		headline = r.ThroughputMbps
	}
	return fairness(r.Flows, headline)
}
