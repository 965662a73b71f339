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

// rateUnits maps ParseRate's suffixes to bytes per second, neper's table:
// lower-case k, m, g are bits (decimal), upper-case K, M, G bytes (binary);
// the spelled-out forms say which (Mb = 10^6 bits, MB = 10^6 bytes, MiB =
// 2^20 bytes, Mib = 2^20 bits). neper matches suffixes by prefix, so its
// "Mb" means MiB; here a suffix must match whole.
var rateUnits = map[string]*big.Rat{
	"b": big.NewRat(1, 8), "B": big.NewRat(1, 1),
	"k": big.NewRat(1e3, 8), "m": big.NewRat(1e6, 8), "g": big.NewRat(1e9, 8),
	"K": big.NewRat(1<<10, 1), "M": big.NewRat(1<<20, 1), "G": big.NewRat(1<<30, 1),
	"Kb": big.NewRat(1e3, 8), "Mb": big.NewRat(1e6, 8), "Gb": big.NewRat(1e9, 8),
	"KB": big.NewRat(1e3, 1), "MB": big.NewRat(1e6, 1), "GB": big.NewRat(1e9, 1),
	"Kib": big.NewRat(1<<10, 8), "Mib": big.NewRat(1<<20, 8), "Gib": big.NewRat(1<<30, 8),
	"KiB": big.NewRat(1<<10, 1), "MiB": big.NewRat(1<<20, 1), "GiB": big.NewRat(1<<30, 1),
}

const rateHelp = "want a number of bytes/s with an optional unit: b k m g (bits), B K M G (bytes, binary), Mb MB Mib MiB …"

// ParseRate parses a non-negative rate in bytes per second, as neper's
// --max-pacing-rate does: a plain number is bytes/s, "1g" is 1 Gbit/s
// (125000000), "10M" is 10 MiB/s (10485760), "100Mb" is 100 Mbit/s. A
// fractional result is truncated toward zero. Errors name the input.
func ParseRate(s string) (uint64, error) {
	i := 0
	for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.' || s[i] == '-') {
		i++
	}
	num, suffix := s[:i], s[i:]
	if strings.HasPrefix(num, "-") {
		return 0, fmt.Errorf("rate %q: must not be negative", s)
	}
	unit := big.NewRat(1, 1)
	if suffix != "" {
		u, ok := rateUnits[suffix]
		if !ok {
			return 0, fmt.Errorf("rate %q: %s", s, rateHelp)
		}
		unit = u
	}
	if !plainDecimal(num) {
		return 0, fmt.Errorf("rate %q: %s", s, rateHelp)
	}
	r, ok := new(big.Rat).SetString(num)
	if !ok {
		return 0, fmt.Errorf("rate %q: %s", s, rateHelp)
	}
	r.Mul(r, unit)
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
