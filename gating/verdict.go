package gating

import "fmt"

// Verdict is what the runs say of one metric, or of a whole comparison.
type Verdict int

// The verdicts, from best to worst for a gate: a gate fails on
// Regression, and cannot pass on Inconclusive.
const (
	NoChange     Verdict = iota // no change as large as the threshold
	Improvement                 // significantly better, by at least the threshold
	Inconclusive                // too few runs, or an interval too wide to decide
	Regression                  // significantly worse, by at least the threshold
)

func (v Verdict) String() string {
	switch v {
	case Improvement:
		return "improvement"
	case Inconclusive:
		return "inconclusive"
	case Regression:
		return "regression"
	}
	return "no change"
}

// MarshalText writes the verdict as its name.
func (v Verdict) MarshalText() ([]byte, error) { return []byte(v.String()), nil }

// UnmarshalText reads a verdict's name.
func (v *Verdict) UnmarshalText(b []byte) error {
	for _, c := range []Verdict{NoChange, Improvement, Inconclusive, Regression} {
		if c.String() == string(b) {
			*v = c
			return nil
		}
	}
	return fmt.Errorf("gating: no verdict %q", b)
}

// Config sets the gate.
type Config struct {
	// Alpha is the significance level (default 0.05).
	Alpha float64
	// Threshold is the smallest change, as a fraction (0.05 = 5 %), that
	// counts as a regression or an improvement (default 0.05).
	Threshold float64
}

// DefaultConfig is α = 0.05 and a 5 % threshold.
var DefaultConfig = Config{Alpha: 0.05, Threshold: 0.05}

func (c Config) withDefaults() Config {
	if c.Alpha <= 0 {
		c.Alpha = DefaultConfig.Alpha
	}
	if c.Threshold <= 0 {
		c.Threshold = DefaultConfig.Threshold
	}
	return c
}

// Validate reports a configuration no gate can use.
func (c Config) Validate() error {
	if c.Alpha < 0 || c.Alpha >= 1 {
		return fmt.Errorf("alpha %v: must be in (0, 1)", c.Alpha)
	}
	if c.Threshold < 0 || c.Threshold >= 10 {
		return fmt.Errorf("threshold %v: must be a fraction in (0, 10), e.g. 0.05 for 5 %%", c.Threshold)
	}
	return nil
}

// decide gives the verdict for a change (relative, B against A) with its
// interval [lo, hi], its p-value and the metric's direction.
func (c Config) decide(change, lo, hi, p float64, higherBetter bool) (Verdict, string) {
	// Worse is positive: a throughput that drops, a latency that grows.
	worse, wlo, whi := change, lo, hi
	if higherBetter {
		worse, wlo, whi = -change, -hi, -lo
	}
	t := c.Threshold
	switch {
	case p < c.Alpha && worse >= t:
		return Regression, ""
	case p < c.Alpha && worse <= -t:
		return Improvement, ""
	case p < c.Alpha:
		return NoChange, "significant, but smaller than the threshold"
	case wlo > -t && whi < t:
		return NoChange, ""
	}
	return Inconclusive, "not significant, and the interval reaches past the threshold: more runs"
}
