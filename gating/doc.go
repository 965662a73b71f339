// Package gating turns measurements into verdicts for regression gating:
// given the runs of an old and a new configuration (A and B), it says per
// metric whether B is a regression, an improvement, no change, or that
// the runs cannot tell (inconclusive), with the statistics behind it.
//
// Two kinds of comparison:
//
//   - Unpaired (Compare): two sets of runs taken apart in time, e.g. an
//     old and a new kernel with a reboot between. The medians, their 95 %
//     intervals and a Mann-Whitney U test come from golang.org/x/perf's
//     benchmath, as benchstat's. Sets taken apart in time cannot cancel
//     drift: a change of the machine between them reads as a change of B.
//   - Paired (ComparePaired): rounds of A and B interleaved in one sitting,
//     round i giving a[i] and b[i]. The per-round ratios b[i]/a[i] carry
//     the comparison: their median, a distribution-free 95 % interval of
//     that median (order statistics), and an exact sign test.
//
// A change is a regression when it is significant (p < Alpha) and at least
// Threshold in the metric's worse direction (throughput down, latency or
// CPU up). The first type to look at is Row; Gate turns a set of rows into
// one verdict.
//
// The package knows nothing of how runs are made: it takes plain samples,
// so that its statistics are tested without running anything.
package gating
