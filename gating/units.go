package gating

import (
	"sort"
	"strings"
)

// sortedUnits lists a benchmark's metrics in a reading order: rates
// first, then latencies, then the rest, each alphabetically.
func sortedUnits(m map[string][]float64) []string {
	units := make([]string, 0, len(m))
	for u := range m {
		units = append(units, u)
	}
	rank := func(u string) int {
		switch {
		case HigherIsBetter(u):
			return 0
		case strings.HasPrefix(u, "lat-"):
			return 1
		}
		return 2
	}
	sort.Slice(units, func(i, j int) bool {
		if ri, rj := rank(units[i]), rank(units[j]); ri != rj {
			return ri < rj
		}
		return units[i] < units[j]
	})
	return units
}
