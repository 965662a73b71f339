// Package stats holds the statistics maths for hookperf's reports: a
// fixed-size latency histogram, a small moments accumulator, Pearson
// correlation, neper-style throughput windows and rates, and parsers for
// percentile lists and pacing rates given on the command line.
//
// Everything here is plain value-type arithmetic with no I/O and no
// locking; callers keep one accumulator per worker and merge them when a
// report is written.
package stats
