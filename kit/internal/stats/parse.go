package stats

import (
	"fmt"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
)

// ParsePercentiles parses a comma-separated list of percentiles such as
// "50,90,99,99.9". Each element must be a plain decimal number (no sign,
// exponent or "p" prefix) in (0, 100]; spaces around elements are
// ignored. The result is sorted ascending without duplicates. An empty
// string gives nil.
func ParsePercentiles(s string) ([]float64, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var ps []float64
	for _, e := range strings.Split(s, ",") {
		e = strings.TrimSpace(e)
		if !plainDecimal(strings.TrimPrefix(e, "-")) {
			return nil, fmt.Errorf("percentile %q: not a number", e)
		}
		p, err := strconv.ParseFloat(e, 64)
		if err != nil || !(p > 0 && p <= 100) {
			return nil, fmt.Errorf("percentile %q: must be in (0, 100]", e)
		}
		ps = append(ps, p)
	}
	slices.Sort(ps)
	return slices.Compact(ps), nil
}

// PercentileKey returns the report column name for percentile p, such as
// "latency_p50" or "latency_p99.9".
func PercentileKey(p float64) string {
	return "latency_p" + strconv.FormatFloat(p, 'f', -1, 64)
}

// rateSuffixes maps ParseRate's decimal suffixes to their multipliers.
var rateSuffixes = map[byte]int64{
	'k': 1e3, 'K': 1e3,
	'm': 1e6, 'M': 1e6,
	'g': 1e9, 'G': 1e9,
	't': 1e12, 'T': 1e12,
}

// ParseRate parses a non-negative rate such as "10M" or "1.5G": a plain
// decimal number with an optional decimal suffix k/K (1e3), m/M (1e6),
// g/G (1e9) or t/T (1e12), as neper's --max-pacing-rate accepts. A
// fractional result is truncated toward zero. Errors name the input.
func ParseRate(s string) (uint64, error) {
	num, mult := s, int64(1)
	if n := len(s); n > 0 {
		if m, ok := rateSuffixes[s[n-1]]; ok {
			num, mult = s[:n-1], m
		}
	}
	if strings.HasPrefix(num, "-") {
		return 0, fmt.Errorf("rate %q: must not be negative", s)
	}
	if !plainDecimal(num) {
		return 0, fmt.Errorf("rate %q: want a number with optional k, M, G or T suffix", s)
	}
	r, ok := new(big.Rat).SetString(num)
	if !ok {
		return 0, fmt.Errorf("rate %q: want a number with optional k, M, G or T suffix", s)
	}
	r.Mul(r, new(big.Rat).SetInt64(mult))
	v := new(big.Int).Quo(r.Num(), r.Denom())
	if !v.IsUint64() {
		return 0, fmt.Errorf("rate %q: out of range (max %d)", s, uint64(math.MaxUint64))
	}
	return v.Uint64(), nil
}

// plainDecimal reports whether s is digits with at most one '.', and at
// least one digit.
func plainDecimal(s string) bool {
	digits, dots := 0, 0
	for _, c := range []byte(s) {
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c == '.':
			dots++
		default:
			return false
		}
	}
	return digits > 0 && dots <= 1
}
