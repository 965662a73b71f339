package gating

import (
	"strings"
)

// HigherIsBetter reports whether a larger value of the metric with this
// unit is better: rates ("trans/s", "Mbit/s", anything per second) are;
// times, CPU, retransmits, drops and Go's ns/op, B/op, allocs/op are
// costs, where smaller is better.
func HigherIsBetter(unit string) bool {
	return strings.HasSuffix(unit, "/s")
}

// derived adds the metrics a kernel team gates on that a run's line
// implies: CPU per transaction (from cpu-% and trans/s) and CPU per GB
// moved (from cpu-% and Mbit/s). The same throughput at more CPU is a
// regression too.
func derived(m map[string]float64) {
	cpu, ok := m["cpu-%"]
	if !ok {
		return
	}
	if tps := m["trans/s"]; tps > 0 {
		m["cpu-us/trans"] = cpu / 100 / tps * 1e6
	}
	if mbps := m["Mbit/s"]; mbps > 0 {
		m["cpu-s/GB"] = cpu / 100 / (mbps / 8000)
	}
}
